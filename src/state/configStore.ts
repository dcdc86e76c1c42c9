/**
 * What the user set: the run config, the preset it started from, and page-level URL flags.
 * Kept in sync with the URL query so that a link reproduces the run.
 */
import { create } from 'zustand';
import type { RunConfig } from '../engine/experiments/config';
import { configToQuery, parseUrl, presetConfig } from './configSchema';

export interface ConfigState {
  preset: string;
  config: RunConfig;
  autorun: boolean;
  backend: string | null;
  embed: string | null;
  hide: string[];
  notices: string[];
  setPreset: (id: string) => void;
  set: <K extends keyof RunConfig>(key: K, value: RunConfig[K]) => void;
  dismissNotices: () => void;
}

const initial = typeof location !== 'undefined' ? parseUrl(location.search, location.hash) : parseUrl('');

export const useConfig = create<ConfigState>((set) => ({
  ...initial,
  setPreset: (id) => set({ preset: id, config: presetConfig(id) }),
  set: (key, value) => set((s) => ({ config: { ...s.config, [key]: value } })),
  dismissNotices: () => set({ notices: [] }),
}));

/** Mirrors the config into the address bar (replaceState: no history entry per keystroke). */
export function syncConfigToUrl(): () => void {
  return useConfig.subscribe((s) => {
    const extra: Record<string, string> = {};
    if (s.backend) extra.backend = s.backend;
    if (s.embed) extra.embed = s.embed;
    if (s.hide.length) extra.hide = s.hide.join(',');
    const q = configToQuery(s.preset, s.config, extra);
    const url = `${location.pathname}?${q}`;
    if (url !== `${location.pathname}${location.search}`) history.replaceState(null, '', url);
  });
}
