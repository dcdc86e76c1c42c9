/**
 * Command-line options as one typed table: each entry says how the value is read and checked and
 * what the usage says about it, so parsing (node:util's parseArgs) and the usage text cannot
 * drift apart. Both command lines (reproduce and its forgetting experiment) use it.
 *
 * Adding an option is one entry in a table, e.g. `workers: whole('N', 'worker threads')`; the
 * parsed value is then `values.workers` (a number, or undefined when not given).
 */
import { parseArgs } from 'node:util';

/** Bad arguments: the command prints the message (none for --help) and the usage, exit code 2. */
export class UsageError extends Error {}

/** Runs a command's parser; on a UsageError prints the message and the usage and exits (2, or 0
 * for --help), so every command line reports bad arguments the same way. */
export function parseOrExit<T>(parse: () => T, usage: () => string): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) process.stderr.write(`error: ${e.message}\n\n`);
    process.stderr.write(usage() + '\n');
    process.exit(e.message ? 2 : 0);
  }
}

export interface Option<T> {
  /** Placeholder of the value in the usage (e.g. 'N', 'LIST'); absent for a switch. */
  arg?: string;
  /** Usage text; a line break continues the text on the next line, indented. */
  help: string;
  /** Heading of the usage section the option is listed under (default 'options'). */
  group?: string;
  /** Reads and checks the raw value; `flag` is the option as typed, for messages. */
  read: (raw: string, flag: string) => T;
}

export type OptionTable = Record<string, Option<unknown>>;

export type OptionValues<T extends OptionTable> = {
  [K in keyof T]?: T[K] extends Option<infer V> ? V : never;
};

/** A switch: true when present. */
export function flag(help: string, group?: string): Option<true> {
  return { help, group, read: () => true };
}

/** Any text, e.g. a file name. */
export function text(arg: string, help: string, group?: string): Option<string> {
  return { arg, help, group, read: (raw) => raw };
}

/** One of a fixed set of words. */
export function choice<const C extends string>(
  choices: readonly C[],
  help: string,
  group?: string,
): Option<C> {
  return {
    arg: choices.join('|'),
    help,
    group,
    read: (raw, f) => {
      if (!(choices as readonly string[]).includes(raw))
        throw new UsageError(`${f} must be ${orList(choices)}, got "${raw}"`);
      return raw as C;
    },
  };
}

/** A whole number ≥ `min` (default 1). */
export function whole(arg: string, help: string, group?: string, min = 1): Option<number> {
  return {
    arg,
    help,
    group,
    read: (raw, f) => {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(v) || v < min)
        throw new UsageError(
          `${f} expects a ${min === 0 ? 'non-negative' : 'positive'} whole number, got "${raw}"`,
        );
      return v;
    },
  };
}

/** A finite number > 0, or ≥ 0 with `zero`. */
export function positive(arg: string, help: string, group?: string, zero = false): Option<number> {
  return {
    arg,
    help,
    group,
    read: (raw, f) => {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || (!zero && v === 0))
        throw new UsageError(
          `${f} expects a ${zero ? 'non-negative' : 'positive'} number, got "${raw}"`,
        );
      return v;
    },
  };
}

/** A comma-separated list of numbers, each checked by `ok` (described by `what`). */
export function numberList(
  arg: string,
  help: string,
  what: string,
  ok: (x: number) => boolean,
  group?: string,
): Option<number[]> {
  return {
    arg,
    help,
    group,
    read: (raw, f) => {
      const parts = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const v = parts.map(Number);
      if (v.length === 0 || v.some((x) => !Number.isFinite(x) || !ok(x)))
        throw new UsageError(`${f} expects a comma-separated list of ${what}, got "${raw}"`);
      return v;
    },
  };
}

function orList(xs: readonly string[]): string {
  return xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/**
 * Parses `argv` against the table: unknown options, missing values and stray words are usage
 * errors, as are values the entries reject. A repeated option keeps its last value.
 */
export function parseOptions<T extends OptionTable>(table: T, argv: string[]): OptionValues<T> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(table))
    options[name] = { type: o.arg === undefined ? 'boolean' : 'string' };
  let raw: Record<string, string | boolean | undefined>;
  try {
    raw = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const missing = /^Option '(--[^' ]+)[^']*' argument (missing|is ambiguous)/.exec(message);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new UsageError(
      missing
        ? `${missing[1]} needs a value`
        : unknown
          ? `unknown option "${unknown[1]}"`
          : message.split('\n')[0],
    );
  }
  if (raw.help) throw new UsageError('');
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(table)) {
    const v = raw[name];
    if (v !== undefined) values[name] = o.read(String(v), `--${name}`);
  }
  return values as OptionValues<T>;
}

/**
 * The usage text of a table: one section per group, in the order the groups first appear, each
 * followed by its note (already indented) if `notes` has one.
 */
export function optionsUsage(
  table: OptionTable,
  notes: Record<string, string> = {},
  indent = 2,
  column = 25,
): string {
  const groups = new Map<string, string[]>();
  for (const [name, o] of Object.entries(table)) {
    const g = o.group ?? 'options';
    const head = `${' '.repeat(indent)}--${name}${o.arg ? ` ${o.arg}` : ''}`;
    const [first, ...rest] = o.help.split('\n');
    const lines = [
      head.length < column - 1 ? head.padEnd(column) + first : `${head}  ${first}`,
      ...rest.map((l) => ' '.repeat(column) + l),
    ];
    groups.set(g, [...(groups.get(g) ?? []), ...lines]);
  }
  return [...groups]
    .map(([g, lines]) => `${g}:\n${[...lines, ...(notes[g] ? [notes[g]] : [])].join('\n')}`)
    .join('\n\n');
}
