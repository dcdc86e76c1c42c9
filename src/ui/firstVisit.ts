/**
 * The first visit's bundled run and the run panel must agree: a reader who sees "SGD vs
 * Langevin" data and presses Start should get that run, and the preset menu should name it.
 */
import { CONFIG_FIELDS, PRESETS, presetConfig } from '../state/configSchema';
import { useConfig } from '../state/configStore';
import type { RunBundle } from '../state/runBundle';

/** Whether the page's own address (as loaded) chose a preset or any run setting. */
const linkChoseSettings = (() => {
  if (typeof location === 'undefined') return false;
  const keys = new Set<string>(['preset', ...CONFIG_FIELDS.map((f) => f.url)]);
  for (const part of [location.search, location.hash.replace(/^#/, '')]) {
    for (const k of new URLSearchParams(part).keys()) if (keys.has(k)) return true;
  }
  return false;
})();

export function presetLabel(id: string): string {
  return PRESETS.find((p) => p.id === id)?.label ?? id;
}

/**
 * Sets the run panel to the bundled run's preset and settings, unless the link chose settings
 * of its own (then the panel keeps them and the banner names the bundle's preset).
 */
export function matchPanelToBundle(b: RunBundle): void {
  if (linkChoseSettings || !PRESETS.some((p) => p.id === b.preset)) return;
  const c = useConfig.getState();
  if (c.preset === b.preset) return;
  c.load(b.preset, { ...presetConfig(b.preset), ...b.config });
}
