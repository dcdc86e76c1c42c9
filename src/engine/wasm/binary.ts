/**
 * A minimal WebAssembly binary writer shared by the hand-assembled kernels (the PCA's f64x2
 * kernels, pca/wasmKernels.ts, and the f32x4 training step, nets/simdStep/): LEB128 numbers,
 * sections, the instructions both use, a function-body builder with the two loop shapes they
 * use, and a module with one imported memory. No toolchain, no binary blob.
 *
 * Each generated function carries a comment with its WebAssembly text format (WAT)
 * equivalent; `wasm-tools print` or `wasm2wat` on the module bytes shows the full expansion.
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

/**
 * Instruction encoders for both kernels, named after their WAT mnemonics (`i32Add` is
 * `i32.add`, `f32x4Mul` is `f32x4.mul`). Memory instructions take the byte offset and the
 * alignment exponent (a hint: 2 for 4 bytes, 4 for a whole v128).
 */
export const op = {
  get: (i: number): Bytes => [0x20, ...uleb(i)], // local.get
  set: (i: number): Bytes => [0x21, ...uleb(i)], // local.set
  tee: (i: number): Bytes => [0x22, ...uleb(i)], // local.tee
  i32: (v: number): Bytes => [0x41, ...sleb(v)], // i32.const
  i32Add: [0x6a] as Bytes,
  i32Mul: [0x6c] as Bytes,
  i32And: [0x71] as Bytes,
  i32Shl: [0x74] as Bytes,
  i32Ne: [0x47] as Bytes,
  i32Eqz: [0x45] as Bytes,
  i32GeS: [0x4e] as Bytes,
  i32GeU: [0x4f] as Bytes,
  i32LtS: [0x48] as Bytes,
  i32Popcnt: [0x69] as Bytes,
  f64Add: [0xa0] as Bytes,
  f64Mul: [0xa2] as Bytes,
  block: [0x02, 0x40] as Bytes,
  loop: [0x03, 0x40] as Bytes,
  if: [0x04, 0x40] as Bytes,
  end: [0x0b] as Bytes,
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  i32Load: (offset = 0): Bytes => [0x28, 2, ...uleb(offset)],
  i32Store: (offset = 0): Bytes => [0x36, 2, ...uleb(offset)],
  f32Load: (offset = 0): Bytes => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0): Bytes => [0x38, 2, ...uleb(offset)],
  f64Load: (offset = 0): Bytes => [0x2b, 3, ...uleb(offset)],
  f64Store: (offset = 0): Bytes => [0x39, 3, ...uleb(offset)],
  v128Load: (offset = 0, align = 4): Bytes => [...simd(0x00), align, ...uleb(offset)],
  v128Store: (offset = 0, align = 4): Bytes => [...simd(0x0b), align, ...uleb(offset)],
  v128Load32Splat: (offset = 0): Bytes => [...simd(0x09), 2, ...uleb(offset)],
  v128Load64Splat: (offset = 0): Bytes => [...simd(0x0a), 3, ...uleb(offset)],
  /** v128.const i32x4 a b c d. */
  i32x4Const: (lanes: readonly number[]): Bytes => [
    ...simd(0x0c),
    ...lanes.flatMap((v) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]),
  ],
  v128Zero: [...simd(0x0c), ...new Array<number>(16).fill(0)] as Bytes,
  i8x16Shuffle: (lanes: readonly number[]): Bytes => [...simd(0x0d), ...lanes],
  i8x16Swizzle: simd(0x0e),
  v128And: simd(0x4e),
  v128AnyTrue: simd(0x53),
  i16x8ExtendLowI8x16U: simd(0x89),
  i16x8ExtendHighI8x16U: simd(0x8a),
  i32x4Bitmask: simd(0xa4),
  i32x4ExtendLowI16x8U: simd(0xa9),
  i32x4ExtendHighI16x8U: simd(0xaa),
  i32x4Add: simd(0xae),
  f32x4ExtractLane: (lane: number): Bytes => [...simd(0x1f), lane],
  f32x4Ne: simd(0x42),
  f32x4Gt: simd(0x44),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Max: simd(0xe9),
  f32x4ConvertI32x4U: simd(0xfb),
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number): Bytes => [...simd(0x21), lane],
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
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
  /** `while (i <u end) { body(); i += step }` — `end` is code that pushes the bound. */
  loopPtr(i: number, end: Bytes, step: number, body: () => void): void {
    this.emit(op.block, op.loop, op.get(i), end, op.i32GeU, op.brIf(1));
    body();
    this.emit(op.get(i), op.i32(step), op.i32Add, op.set(i), op.br(0), op.end, op.end);
  }
  /** `for (i = 0; i < n; i++) body()` (signed compare; n is code that pushes the bound). */
  loopCount(i: number, n: Bytes, body: () => void): void {
    this.emit(op.i32(0), op.set(i));
    this.emit(op.block, op.loop, op.get(i), n, op.i32GeS, op.brIf(1));
    body();
    this.emit(op.get(i), op.i32(1), op.i32Add, op.set(i), op.br(0), op.end, op.end);
  }
  /** p += step. */
  bump(p: number, step: number | Bytes): void {
    this.emit(op.get(p), typeof step === 'number' ? op.i32(step) : step, op.i32Add, op.set(p));
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
