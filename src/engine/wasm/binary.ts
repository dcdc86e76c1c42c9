/**
 * A minimal WebAssembly binary writer shared by the hand-assembled kernels (the PCA's f64x2
 * kernels and the f32x4 training step): LEB128 numbers, sections, the instructions both use, a
 * function-body builder and a module with one imported memory. No toolchain, no binary blob.
 */

export type Bytes = readonly number[];

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function name(s: string): number[] {
  const out = uleb(s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}

export function vec(items: readonly Bytes[]): number[] {
  const out = uleb(items.length);
  for (const it of items) out.push(...it);
  return out;
}

export function section(id: number, body: Bytes): number[] {
  return [id, ...uleb(body.length), ...body];
}

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** A SIMD instruction (0xfd prefix) by its opcode. */
export const simd = (code: number): number[] => [0xfd, ...uleb(code)];

/** Locals, constants, integer arithmetic and control flow, as both kernels use them. */
export const coreOps = {
  get: (i: number): Bytes => [0x20, ...uleb(i)],
  set: (i: number): Bytes => [0x21, ...uleb(i)],
  tee: (i: number): Bytes => [0x22, ...uleb(i)],
  i32: (v: number): Bytes => [0x41, ...sleb(v)],
  i32Add: [0x6a] as Bytes,
  i32GeS: [0x4e] as Bytes,
  i32LtS: [0x48] as Bytes,
  i32And: [0x71] as Bytes,
  block: [0x02, 0x40] as Bytes,
  loop: [0x03, 0x40] as Bytes,
  if: [0x04, 0x40] as Bytes,
  end: [0x0b] as Bytes,
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
};

/** A function body being written: numbered locals after the parameters, then code. */
export class FunctionBody {
  private readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(private readonly nParams: number) {}
  local(type: number): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
  }
  emit(...parts: Bytes[]): this {
    for (const p of parts) for (const b of p) this.code.push(b);
    return this;
  }
  bytes(): number[] {
    const groups: Bytes[] = this.localTypes.map((t) => [1, t]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** A function type: parameter and result value types. */
export function functionType(params: readonly number[], results: readonly number[] = []): number[] {
  return [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
}

/**
 * A module importing `env.memory` (at least one page) and exporting the given functions by
 * name; `trailing` sections (e.g. a data section, id 11) follow the code section.
 */
export function memoryModule(
  funcs: readonly { name: string; type: Bytes; body: Bytes }[],
  trailing: Bytes = [],
): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(funcs.map((k) => k.type))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((k, i) => [...name(k.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map((k) => k.body))),
    ...trailing,
  ]);
}
