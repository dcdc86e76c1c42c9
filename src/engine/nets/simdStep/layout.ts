/**
 * Where everything the SIMD training step touches lives in its WebAssembly memory: the
 * compaction table at 0, the weights (padded rows, fixed for the network's life), then the
 * batch-dependent regions (inputs, activations, deltas, the sparse lists), which move when a
 * larger batch needs room. ./codegen.ts emits code against these regions; ../simdMlp.ts owns
 * the memory.
 */

/** Logit rows are padded from 10 to 12 floats (three f32x4). */
export const ZW = 12;
export const ZB = ZW * 4;
/** The compaction shuffle table (16 masks × 16 bytes) lives at address 0. */
export const TABLE = 0;
export const TABLE_BYTES = 256;

/** Row sizes of a network: every row padded to whole f32x4 vectors (pads stay zero). */
export interface StepShape {
  hidden: number;
  inputSize: number;
  /** h padded to a multiple of 4. */
  hp: number;
  /** Bytes per padded hidden row (4·hp). */
  rowBytes: number;
  /** Input row stride in bytes (the input padded to a multiple of 4 floats). */
  xStride: number;
  /** Byte-input row stride (the input padded to a multiple of 16 bytes). */
  xbStride: number;
}

export function stepShape(hidden: number, inputSize: number): StepShape {
  const hp = 4 * Math.ceil(hidden / 4);
  return {
    hidden,
    inputSize,
    hp,
    rowBytes: 4 * hp,
    xStride: 16 * Math.ceil(inputSize / 4),
    xbStride: 16 * Math.ceil(inputSize / 16),
  };
}

const align16 = (n: number): number => (n + 15) & ~15;
/** A WebAssembly memory page. */
export const PAGE = 65536;

/** Byte offsets of everything in the module's memory for a batch capacity. */
export interface Layout {
  cap: number;
  w1: number;
  w2: number;
  w2t: number;
  w3: number;
  w3t: number;
  cntx: number;
  cnth: number;
  tl: number;
  w2out: number;
  x: number;
  /** The input as pixel bytes (stepIndices, evaluateSplit), rows xbStride bytes apart. */
  xb: number;
  h1: number;
  h2: number;
  z: number;
  d3: number;
  d2: number;
  d1: number;
  rsx: number;
  rsh: number;
  xl: number;
  hl: number;
  cscx: number;
  csch: number;
  end: number;
  /** Where the batch-dependent regions begin (the weights come first and never move). */
  varStart: number;
}

/** Batch capacity a new SimdMlp starts with. */
export const INITIAL_CAPACITY = 64;

/** The capacity after a batch of `batch` samples meets one of `cap` (doubling, at least). */
export function grownCapacity(cap: number, batch: number): number {
  return batch <= cap ? cap : Math.max(batch, 2 * cap);
}

/**
 * Bytes of the module's memory once it has stepped batches of `batch` samples (from the
 * initial capacity): every region, in whole pages.
 */
export function stepMemoryBytes(shape: StepShape, batch: number): number {
  const lay = stepLayout(shape, grownCapacity(INITIAL_CAPACITY, batch));
  return PAGE * Math.ceil(lay.end / PAGE);
}

/** Byte offsets of every region for batches of up to `cap` samples. */
export function stepLayout(shape: StepShape, cap: number): Layout {
  const n = shape.inputSize;
  const np = shape.xStride >> 2;
  const hp = shape.hp;
  const rb = shape.rowBytes;
  let at = TABLE_BYTES;
  const take = (bytes: number): number => {
    const o = at;
    at = align16(at + bytes);
    return o;
  };
  const w1 = take(n * rb);
  const w2 = take(shape.hp * rb);
  const w2t = take(shape.hp * rb);
  const w3 = take(shape.hp * ZB);
  const w3t = take(ZW * rb);
  const cntx = take(4 * n + 16);
  const cnth = take(4 * hp + 16);
  // Lists hold at most one 8-byte entry per column; compaction writes 32 bytes past the end.
  const tl = take(8 * hp + 32);
  const w2out = take(4 * shape.hidden * shape.hidden + 16);
  const varStart = at;
  const x = take(cap * shape.xStride);
  const xb = take(cap * shape.xbStride);
  const h1 = take(cap * rb);
  const h2 = take(cap * rb);
  const z = take(cap * ZB);
  const d3 = take(cap * ZB);
  const d2 = take(cap * rb);
  const d1 = take(cap * rb);
  const rsx = take(4 * (cap + 1));
  const rsh = take(4 * (cap + 1));
  const xl = take(8 * cap * np + 32);
  const hl = take(8 * cap * hp + 32);
  const cscx = take(8 * cap * np);
  const csch = take(8 * cap * hp);
  return {
    cap,
    w1,
    w2,
    w2t,
    w3,
    w3t,
    cntx,
    cnth,
    tl,
    w2out,
    x,
    xb,
    h1,
    h2,
    z,
    d3,
    d2,
    d1,
    rsx,
    rsh,
    xl,
    hl,
    cscx,
    csch,
    end: at,
    varStart,
  };
}
