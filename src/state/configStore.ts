/**
 * What the user set: the run config, the preset it started from, and page-level URL flags.
 * Kept in sync with the URL so that a link reproduces the run.
 *
 * The URL: the page reads its keys from the query string and the hash (the hash wins) and
 * writes them back to the query string (replaceState, no history entry per change): the query
 * survives LMS link editors and iframes' `src`, and `?embed=…` links stay plain. A hash that
 * carried settings is folded into the query; any other hash (an anchor) is kept. Keys this
 * store does not own (another section's settings, a course site's tracking keys) are kept.
 */
import { create } from 'zustand';
import type { RunConfig } from '../engine/experiments/config';
import {
  CONFIG_FIELDS,
  PAGE_KEYS,
  configToQuery,
  hashHasSettings,
  parseUrl,
  presetConfig,
  type DataChoice,
  type ParsedUrl,
  type ThemeChoice,
} from './configSchema';

/**
 * What the link said (ParsedUrl), as the page changes it; `data` is the data set runs are made
 * with (the link's, until this browser runs with another).
 */
export interface ConfigState extends ParsedUrl {
  setPreset: (id: string) => void;
  set: <K extends keyof RunConfig>(key: K, value: RunConfig[K]) => void;
  setData: (data: DataChoice) => void;
  setTheme: (theme: ThemeChoice) => void;
  /** The page's pool size (`workers=`), or null: the cores minus one. */
  setWorkers: (workers: number | null) => void;
  /** Takes the preset and settings of an opened run file. */
  load: (preset: string, config: RunConfig) => void;
  dismissNotices: () => void;
}

const initial =
  typeof location !== 'undefined' ? parseUrl(location.search, location.hash) : parseUrl('');
/** A theme named in the link stays in the URL; one chosen with the toggle is the visitor's own. */
const themeInUrl =
  typeof location !== 'undefined' && /(^|[?&#])theme=/.test(location.search + location.hash);
const THEME_KEY = 'flat-minima-theme';
if (!themeInUrl) initial.theme = storedTheme();

function storedTheme(): ThemeChoice {
  try {
    const t = typeof localStorage !== 'undefined' ? localStorage.getItem(THEME_KEY) : null;
    return t === 'light' || t === 'dark' ? t : 'auto';
  } catch {
    return 'auto';
  }
}

export const useConfig = create<ConfigState>((set) => ({
  ...initial,
  setPreset: (id) => set({ preset: id, config: presetConfig(id) }),
  set: (key, value) => set((s) => ({ config: { ...s.config, [key]: value } })),
  setData: (data) => set({ data }),
  setTheme: (theme) => {
    try {
      if (theme === 'auto') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Storage blocked (private mode, sandboxed iframe): the choice lasts for this visit.
    }
    set({ theme });
  },
  setWorkers: (workers) => set({ workers }),
  load: (preset, config) => set({ preset, config }),
  dismissNotices: () => set({ notices: [] }),
}));

/** The query string of a state: config, then the page flags that are set. */
export function stateQuery(s: ConfigState): string {
  const extra: Record<string, string> = {};
  if (s.data !== 'embedded') extra.data = s.data;
  if (s.backend) extra.backend = s.backend;
  if (s.workers !== null) extra.workers = String(s.workers);
  if (s.autorun) extra.autorun = '1';
  if (s.hide.length) extra.hide = s.hide.join(',');
  if (themeInUrl && s.theme !== 'auto') extra.theme = s.theme;
  if (s.embed !== null) extra.embed = s.embed;
  return configToQuery(s.preset, s.config, extra);
}

const OWN_KEYS = new Set<string>([...PAGE_KEYS, ...CONFIG_FIELDS.map((f) => f.url)]);

/** The URL's keys that this store does not own (from the query, and from a settings hash). */
function foreignKeys(): { params: URLSearchParams; hash: string } {
  const params = new URLSearchParams();
  const add = (src: URLSearchParams) =>
    src.forEach((v, k) => {
      if (!OWN_KEYS.has(k)) params.set(k, v);
    });
  add(new URLSearchParams(location.search));
  let hash = location.hash;
  if (hash && hashHasSettings(hash)) {
    add(new URLSearchParams(hash.slice(1)));
    hash = '';
  }
  return { params, hash };
}

function fullQuery(s: ConfigState, foreign: URLSearchParams): string {
  const rest = foreign.toString();
  return rest ? `${stateQuery(s)}&${rest}` : stateQuery(s);
}

/** The shareable address of the current state. */
export function shareUrl(s: ConfigState = useConfig.getState()): string {
  return `${location.origin}${location.pathname}?${fullQuery(s, foreignKeys().params)}`;
}

function writeUrl(s: ConfigState): void {
  const { params, hash } = foreignKeys();
  const url = `${location.pathname}?${fullQuery(s, params)}${hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) {
    history.replaceState(history.state, '', url);
  }
}

/**
 * Mirrors the config into the address bar now and on every change (replaceState: no history
 * entry per keystroke). Returns the unsubscribe function.
 */
export function syncConfigToUrl(): () => void {
  writeUrl(useConfig.getState());
  return useConfig.subscribe((s, prev) => {
    if (
      s.preset !== prev.preset ||
      s.config !== prev.config ||
      s.data !== prev.data ||
      s.theme !== prev.theme ||
      s.hide !== prev.hide ||
      s.workers !== prev.workers
    ) {
      writeUrl(s);
    }
  });
}
