/**
 * The one typed schema of every user setting: name, type, default, bounds, URL key, label.
 * The URL (query or hash) reproduces a run; malformed or out-of-range values fall back to the
 * default and are reported by name, never silently.
 *
 * Values are read strictly: numbers as plain decimals (an exponent allowed: T = 1e-7), never
 * hexadecimal, signed, padded or "Infinity", which Number() would all accept; flags as 1 or 0;
 * a key given twice in the query (or twice in the hash) is refused, as it is unclear which was
 * meant. Each refused value is named in a notice with its key, cut to NOTICE_VALUE_CHARS.
 */
import { DEFAULT_CONFIG, type RunConfig } from '../engine/experiments/config';

type NumberField = { kind: 'number'; min: number; max: number; integer?: boolean; log?: boolean };
type EnumField = { kind: 'enum'; options: readonly string[] };
type BoolField = { kind: 'bool' };

export type FieldSpec<K extends keyof RunConfig = keyof RunConfig> = {
  key: K;
  url: string;
  label: string;
  unit?: string;
  help: string;
} & (NumberField | EnumField | BoolField);

export const CONFIG_FIELDS: FieldSpec[] = [
  {
    key: 'batchSize',
    url: 'B',
    label: 'Minibatch size B',
    kind: 'number',
    min: 1,
    max: 2000,
    integer: true,
    help: 'Samples per SGD step.',
  },
  {
    key: 'lr',
    url: 'lr',
    label: 'Learning rate α',
    kind: 'number',
    min: 1e-4,
    max: 1000,
    log: true,
    help: 'SGD step size (above ~1 the network dies or diverges).',
  },
  {
    key: 'optimizer',
    url: 'opt',
    label: 'Optimizer',
    kind: 'enum',
    options: ['sgd', 'momentum', 'adam'],
    help: 'Plain SGD (the paper), SGD with momentum (v ← μv + g, w ← w − αv), or Adam (β1 0.9, β2 0.999, ε 1e-8; use α ≈ 0.001). Momentum and Adam train with tfjs ops.',
  },
  {
    key: 'momentum',
    url: 'mom',
    label: 'Momentum μ',
    kind: 'number',
    min: 0,
    max: 0.999,
    help: 'Momentum coefficient of the "momentum" optimizer.',
  },
  {
    key: 'sampling',
    url: 'sampling',
    label: 'Minibatch sampling',
    kind: 'enum',
    options: ['epoch', 'replacement'],
    help: 'epoch: a fresh permutation each epoch, every example once (without replacement, the paper). replacement: each minibatch drawn i.i.d., so examples can repeat and the epoch anticorrelation of the noise is gone.',
  },
  {
    key: 'hidden',
    url: 'h',
    label: 'Hidden width h',
    kind: 'number',
    min: 2,
    max: 200,
    integer: true,
    help: 'Units per hidden layer; W2 has h² weights.',
  },
  {
    key: 'seed',
    url: 'seed',
    label: 'Seed',
    kind: 'number',
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
    help: 'Initialisation, shuffling and noise.',
  },
  {
    key: 'stepImpl',
    url: 'step',
    label: 'Training step',
    kind: 'enum',
    options: ['auto', 'wasm-simd', 'tfjs'],
    help: '"auto": the WebAssembly SIMD kernel on CPU backends, tfjs ops on GPUs; "tfjs" forces TensorFlow.js ops.',
  },
  {
    key: 'warmupEpochs',
    url: 'warmup',
    label: 'Warm-up',
    unit: 'epochs',
    kind: 'number',
    min: 1,
    max: 1000,
    integer: true,
    help: 'Training before the PCA window (the cap when the phase is found by error).',
  },
  {
    key: 'windowEpochs',
    url: 'window',
    label: 'Window',
    unit: 'epochs',
    kind: 'number',
    min: 1,
    max: 50,
    integer: true,
    help: 'Length of the PCA window.',
  },
  {
    key: 'phaseMode',
    url: 'phase',
    label: 'Exploration phase starts',
    kind: 'enum',
    options: ['warmup', 'error'],
    help: '"warmup": after the warm-up epochs; "error": once training error stays below the threshold for an epoch.',
  },
  {
    key: 'errorThreshold',
    url: 'errth',
    label: 'Error threshold',
    kind: 'number',
    min: 0,
    max: 0.5,
    help: 'Training error (fraction) that marks the exploration phase.',
  },
  {
    key: 'flatnessModes',
    url: 'modes',
    label: 'Flatness modes',
    kind: 'number',
    min: 5,
    max: 300,
    integer: true,
    help: 'Log-spaced PCA ranks whose flatness is measured.',
  },
  {
    key: 'thresholdFactor',
    url: 'factor',
    label: 'Flatness threshold',
    kind: 'enum',
    options: ['e', '2'],
    help: 'F_i is the width where the loss reaches factor × L⁰.',
  },
  {
    key: 'profileCentre',
    url: 'centre',
    label: 'Profile centre',
    kind: 'enum',
    options: ['mean', 'last'],
    help: 'Loss profiles around the window mean ŵ or the last snapshot.',
  },
  {
    key: 'contrast',
    url: 'contrast',
    label: 'Langevin contrast',
    kind: 'bool',
    help: 'After the SGD window, run Langevin dynamics from the same solution.',
  },
  {
    key: 'temperature',
    url: 'T',
    label: 'Langevin temperature T',
    kind: 'number',
    min: 1e-9,
    max: 1,
    log: true,
    help: 'Noise variance 2αT per step on W2.',
  },
  {
    key: 'langevinLr',
    url: 'lrL',
    label: 'Langevin step α',
    kind: 'number',
    min: 1e-4,
    max: 5,
    log: true,
    help: 'Step size of the Langevin run.',
  },
  {
    key: 'langevinBurnIn',
    url: 'burnL',
    label: 'Langevin burn-in',
    unit: 'steps',
    kind: 'number',
    min: 0,
    max: 200000,
    integer: true,
    help: 'Langevin steps before its window.',
  },
  {
    key: 'langevinSteps',
    url: 'stepsL',
    label: 'Langevin window',
    unit: 'steps',
    kind: 'number',
    min: 10,
    max: 200000,
    integer: true,
    help: 'Langevin steps in its window.',
  },
  {
    key: 'langevinEvery',
    url: 'everyL',
    label: 'Langevin sampling',
    unit: 'steps',
    kind: 'number',
    min: 1,
    max: 1000,
    integer: true,
    help: 'Keep every k-th Langevin step.',
  },
];

export interface Preset {
  id: string;
  label: string;
  description: string;
  config: Partial<RunConfig>;
}

export const PRESETS: Preset[] = [
  {
    id: 'paper',
    label: 'Paper (Fig. 2)',
    description: 'B = 50, α = 0.1, h = 50, 60 warm-up epochs, a 10-epoch window.',
    config: {},
  },
  {
    id: 'quick',
    label: 'Quick look',
    // 8 warm-up epochs and a 3-epoch window were quicker, but too short for a definite ψ: seed 0
    // gave ψ 3.56 with a 95% interval of −0.22 to 7.35. 30 + 5 gave intervals above zero for
    // seeds 0, 1 and 2 (4.19 [2.06, 6.31], 4.15 [2.98, 5.33], 3.69 [2.21, 5.17]; CLI, 30 modes).
    description:
      'A shorter run: 30 warm-up epochs and a 5-epoch window (the paper run has 60 and 10), in well under a minute.',
    config: { warmupEpochs: 30, windowEpochs: 5, flatnessModes: 30 },
  },
  {
    id: 'contrast',
    label: 'SGD vs Langevin',
    description:
      'The paper run, then Langevin dynamics from the same solution: do the slopes differ?',
    config: { contrast: true },
  },
  {
    id: 'small-batch',
    label: 'Small batch (B = 25)',
    description: 'More SGD noise per step.',
    config: { batchSize: 25 },
  },
  {
    id: 'large-batch',
    label: 'Large batch (B = 200)',
    description: 'Less SGD noise per step.',
    config: { batchSize: 200, warmupEpochs: 120, windowEpochs: 40 },
  },
  {
    id: 'high-lr',
    label: 'High learning rate (α = 0.3)',
    description: 'Hotter SGD.',
    config: { lr: 0.3 },
  },
  {
    id: 'low-lr',
    label: 'Low learning rate (α = 0.03)',
    description: 'Colder SGD.',
    config: { lr: 0.03, warmupEpochs: 120 },
  },
  {
    id: 'forgetting',
    label: 'Forgetting: LDC vs EWC',
    description:
      'Section 6: learn digits 0 and 1, then 2 and 3, with and without constraints. Start runs the LDC-versus-EWC sweep (about half a minute).',
    config: {},
  },
];

export const DEFAULT_PRESET = 'paper';

export function presetConfig(id: string): RunConfig {
  const p = PRESETS.find((x) => x.id === id) ?? PRESETS[0];
  return { ...DEFAULT_CONFIG, ...p.config };
}

/** Where the training data come from: the embedded 10,000 digits or the visitor's own IDX files. */
export type DataChoice = 'embedded' | 'idx';
export const DATA_CHOICES: readonly DataChoice[] = ['embedded', 'idx'];

/** Colour theme: follow the system, or force light or dark (`theme=` in the URL, e.g. for embeds). */
export type ThemeChoice = 'auto' | 'light' | 'dark';
export const THEME_CHOICES: readonly ThemeChoice[] = ['auto', 'light', 'dark'];

/**
 * Named parts of the page that `hide=` can remove, besides the settings' own URL keys:
 * the preset menu, every setting, the data panel, the backend badge, and the export and
 * save/open-run buttons.
 */
export const HIDE_PANELS = ['preset', 'settings', 'data', 'backend', 'export'] as const;
export type HidePanel = (typeof HIDE_PANELS)[number];

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** Every URL key the page reads (settings and page flags). */
export const PAGE_KEYS = [
  'preset',
  'autorun',
  'backend',
  'embed',
  'hide',
  'data',
  'theme',
  'workers',
] as const;

/** `workers=`: the size of the page's pool of job workers (issue 13). */
export const WORKERS_RANGE = { min: 1, max: 16 } as const;

export interface ParsedUrl {
  preset: string;
  config: RunConfig;
  autorun: boolean;
  backend: string | null;
  embed: string | null;
  hide: string[];
  /** The data set the link was made with. */
  data: DataChoice;
  theme: ThemeChoice;
  /** Job workers the page's pool runs sweeps on (`workers=`), or null: the cores minus one. */
  workers: number | null;
  /** One message per value that was rejected (name, value, why). */
  notices: string[];
}

/** Echoed URL values are cut to this many characters (a link can carry anything). */
export const NOTICE_VALUE_CHARS = 40;

/** A URL value as a notice shows it: whole when short, else its start and its length. */
export function clipUrlValue(v: string): string {
  return v.length > NOTICE_VALUE_CHARS
    ? `${v.slice(0, NOTICE_VALUE_CHARS)}… (${v.length.toLocaleString('en')} characters)`
    : v;
}

/** A plain decimal, optionally with an exponent: no sign, hex, spaces or Infinity. */
export const DECIMAL = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

export function parseField(
  f: FieldSpec,
  raw: string,
): { ok: true; value: RunConfig[keyof RunConfig] } | { ok: false; why: string } {
  switch (f.kind) {
    case 'bool':
      if (raw === '1' || raw === 'true') return { ok: true, value: true };
      if (raw === '0' || raw === 'false') return { ok: true, value: false };
      return { ok: false, why: 'expected 0 or 1' };
    case 'enum':
      return f.options.includes(raw)
        ? { ok: true, value: raw as never }
        : { ok: false, why: `expected one of ${f.options.join(', ')}` };
    case 'number': {
      const v = Number(raw);
      if (!DECIMAL.test(raw) || !Number.isFinite(v))
        return { ok: false, why: 'not a plain decimal number' };
      if (f.integer && !Number.isInteger(v)) return { ok: false, why: 'must be a whole number' };
      if (v < f.min || v > f.max) return { ok: false, why: `out of range ${f.min}–${f.max}` };
      return { ok: true, value: v };
    }
  }
}

/** The URL parameters of a query string and a hash, merged (the hash wins). */
export function urlParams(search: string, hash = ''): URLSearchParams {
  const params = new URLSearchParams(search.replace(/^\?/, ''));
  new URLSearchParams(hash.replace(/^#/, '')).forEach((v, k) => params.set(k, v));
  return params;
}

/**
 * The page's keys (settings and flags) given more than once in the query or in the hash, with
 * how many times: such a key is refused rather than guessed.
 */
function repeatedKeys(search: string, hash: string): Map<string, number> {
  const own = new Set<string>([...PAGE_KEYS, ...CONFIG_FIELDS.map((f) => f.url)]);
  const out = new Map<string, number>();
  for (const part of [search.replace(/^\?/, ''), hash.replace(/^#/, '')]) {
    const counts = new Map<string, number>();
    new URLSearchParams(part).forEach((_v, k) => {
      if (own.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
    });
    for (const [k, n] of counts) if (n > 1) out.set(k, Math.max(n, out.get(k) ?? 0));
  }
  return out;
}

/** Unknown `hide=` items named one by one up to this many; the rest are counted. */
const HIDE_NOTICES = 5;

/** True when a hash carries any key the page reads (so that it can be folded into the query). */
export function hashHasSettings(hash: string): boolean {
  const keys = new Set<string>([...PAGE_KEYS, ...CONFIG_FIELDS.map((f) => f.url)]);
  for (const k of new URLSearchParams(hash.replace(/^#/, '')).keys()) if (keys.has(k)) return true;
  return false;
}

/** Reads the settings from a query string and/or hash (hash wins). */
export function parseUrl(search: string, hash = ''): ParsedUrl {
  const params = urlParams(search, hash);
  const notices: string[] = [];
  for (const [k, n] of repeatedKeys(search, hash)) {
    notices.push(`${k} appears ${n} times in the link; using the default`);
    params.delete(k);
  }
  const clip = clipUrlValue;
  let preset = params.get('preset') ?? DEFAULT_PRESET;
  if (!PRESETS.some((p) => p.id === preset)) {
    notices.push(`preset=${clip(preset)}: unknown; using "${DEFAULT_PRESET}"`);
    preset = DEFAULT_PRESET;
  }
  const config = presetConfig(preset);
  const defaults = presetConfig(preset);
  const target = config as unknown as Record<string, unknown>;
  for (const f of CONFIG_FIELDS) {
    const raw = params.get(f.url);
    if (raw === null) continue;
    const r = parseField(f, raw);
    if (r.ok) target[f.key] = r.value;
    else
      notices.push(
        `${f.url}=${clip(raw)} (${f.label}): ${r.why}; using ${String(defaults[f.key])}`,
      );
  }
  const backend = params.get('backend');
  let forced: string | null = null;
  if (backend !== null) {
    if ((BACKENDS as readonly string[]).includes(backend)) forced = backend;
    else
      notices.push(
        `backend=${clip(backend)}: expected one of ${BACKENDS.join(', ')}; choosing automatically`,
      );
  }
  let data: DataChoice = 'embedded';
  const rawData = params.get('data');
  if (rawData !== null) {
    if ((DATA_CHOICES as readonly string[]).includes(rawData)) data = rawData as DataChoice;
    else
      notices.push(
        `data=${clip(rawData)}: expected one of ${DATA_CHOICES.join(', ')}; using embedded`,
      );
  }
  let theme: ThemeChoice = 'auto';
  const rawTheme = params.get('theme');
  if (rawTheme !== null) {
    if ((THEME_CHOICES as readonly string[]).includes(rawTheme)) theme = rawTheme as ThemeChoice;
    else
      notices.push(
        `theme=${clip(rawTheme)}: expected one of ${THEME_CHOICES.join(', ')}; using auto`,
      );
  }
  let workers: number | null = null;
  const rawWorkers = params.get('workers');
  if (rawWorkers !== null) {
    const { min, max } = WORKERS_RANGE;
    const v = Number(rawWorkers);
    const why = !DECIMAL.test(rawWorkers)
      ? 'not a plain decimal number'
      : !Number.isInteger(v)
        ? 'must be a whole number'
        : v < min || v > max
          ? `out of range ${min}–${max}`
          : null;
    if (why === null) workers = v;
    else
      notices.push(
        `workers=${clip(rawWorkers)} (job workers for sweeps): ${why}; using the cores minus one`,
      );
  }
  const hideKeys = new Set<string>([...HIDE_PANELS, ...CONFIG_FIELDS.map((f) => f.url)]);
  const hide: string[] = [];
  let unknownHidden = 0;
  for (const h of (params.get('hide') ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (hideKeys.has(h)) {
      if (!hide.includes(h)) hide.push(h);
    } else if (++unknownHidden <= HIDE_NOTICES) {
      notices.push(`hide=${clip(h)}: unknown; expected setting keys or ${HIDE_PANELS.join(', ')}`);
    }
  }
  if (unknownHidden > HIDE_NOTICES)
    notices.push(
      `hide: ${(unknownHidden - HIDE_NOTICES).toLocaleString('en')} more unknown keys left out`,
    );
  const autorun = params.get('autorun');
  if (autorun !== null && autorun !== '1' && autorun !== '0')
    notices.push(`autorun=${clip(autorun)}: expected 1 (start on load) or 0; not starting`);
  const embed = params.get('embed');
  return {
    preset,
    config,
    autorun: autorun === '1',
    backend: forced,
    embed: embed === null ? null : embed,
    hide,
    data,
    theme,
    workers,
    notices,
  };
}

/**
 * The query string for a config: the preset, the seed (always, so a link names its run), and
 * every other value that differs from the preset's defaults; then the page flags in `extra`.
 */
export function configToQuery(
  preset: string,
  config: RunConfig,
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams();
  params.set('preset', preset);
  const defaults = presetConfig(preset);
  for (const f of CONFIG_FIELDS) {
    const v = config[f.key];
    if (v === defaults[f.key] && f.key !== 'seed') continue;
    params.set(f.url, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

/**
 * A config read from elsewhere (a run file): starts from the preset's defaults and takes every
 * field the schema accepts. Throws naming the first invalid field.
 */
export function checkedConfig(preset: string, raw: Record<string, unknown>): RunConfig {
  const config = presetConfig(PRESETS.some((p) => p.id === preset) ? preset : DEFAULT_PRESET);
  const target = config as unknown as Record<string, unknown>;
  for (const f of CONFIG_FIELDS) {
    const v = raw[f.key];
    if (v === undefined) continue;
    const text =
      typeof v === 'boolean'
        ? v
          ? '1'
          : '0'
        : typeof v === 'number' || typeof v === 'string'
          ? String(v)
          : '';
    const r = parseField(f, text);
    if (!r.ok) throw new Error(`config.${f.key} = ${JSON.stringify(v)}: ${r.why}`);
    target[f.key] = r.value;
  }
  return config;
}
