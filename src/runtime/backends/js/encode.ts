/**
 * The delta encoder: compare each element with its remembered value, keep the
 * deltas of those that changed by at least the threshold (inclusive), and remember the new
 * value only for those. Writes the fired indices and their deltas compactly, so the
 * accumulation loops touch only fired columns.
 *
 * Returns the number of fired elements.
 */
export function encodeDeltas(
  value: Float64Array,
  prev: Float64Array,
  threshold: number,
  firedIdx: Int32Array,
  firedDelta: Float64Array,
): number {
  let n = 0;
  for (let i = 0; i < prev.length; i++) {
    const v = value[i]!;
    const d = v - prev[i]!;
    if (Math.abs(d) >= threshold) {
      firedIdx[n] = i;
      firedDelta[n] = d;
      prev[i] = v;
      n++;
    }
  }
  return n;
}

/** Dense mode as a degenerate delta step: every element "fires" with its full value. */
export function encodeAll(value: Float64Array, firedIdx: Int32Array, firedDelta: Float64Array): number {
  for (let i = 0; i < value.length; i++) {
    firedIdx[i] = i;
    firedDelta[i] = value[i]!;
  }
  return value.length;
}

/**
 * acc[accOffset + r] += sum over fired f of wT[col(f)*rows + rowOffset + r] * delta(f), r < count:
 * the sum of the fired weight columns (column-major wT with `rows` rows per column).
 * Two columns per pass halve the accumulator traffic.
 */
export function accumulateColumns(
  wT: Float32Array,
  rows: number,
  rowOffset: number,
  count: number,
  firedIdx: Int32Array,
  firedDelta: Float64Array,
  nFired: number,
  acc: Float64Array,
  accOffset: number,
): void {
  let f = 0;
  for (; f + 1 < nFired; f += 2) {
    const a = firedIdx[f]! * rows + rowOffset;
    const b = firedIdx[f + 1]! * rows + rowOffset;
    const da = firedDelta[f]!;
    const db = firedDelta[f + 1]!;
    for (let r = 0; r < count; r++) acc[accOffset + r]! += wT[a + r]! * da + wT[b + r]! * db;
  }
  if (f < nFired) {
    const a = firedIdx[f]! * rows + rowOffset;
    const da = firedDelta[f]!;
    for (let r = 0; r < count; r++) acc[accOffset + r]! += wT[a + r]! * da;
  }
}
