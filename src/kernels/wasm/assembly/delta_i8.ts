// Delta accumulation, int8 weights with one scale per row:
// acc[r] += scale[r] * sum over fired k of W[r, idx[k]] * vals[k], rows r0 <= r < r1.
// Reference: src/kernels/ref/delta.ts deltaAccumulateI8Ref.
//
// Layout: W column-major int8, column j at w + j*ld bytes, ld % 16 == 0, r0 % 16 == 0,
// r1 % 16 == 0; tmp: int32 scratch of at least r1 values (on return: the integer sums of the
// last chunk of columns); err: float32 per column of W, the quantisation error carried to the
// column's next delta (zero at reset).
//
// Why integers: widening int8 weights to float costs 2.5 instructions per weight, more than the
// multiply-add itself. Instead the step's fired deltas are quantised to int16 with one scale for
// the step, sigma = max|vals + err| / 32767 (16 significant bits relative to the largest), and
// two fired columns are interleaved on the fly so i32x4.dot_i16x8_s does 8 multiply-adds per
// instruction into exact int32 sums. Every CHUNK columns the int32 sums are scaled by
// scale[r] * sigma into the float32 accumulators (127 * 32767 * 512 < 2^31: no int32 overflow).
//
// SIMD inner loop (docs/performance.md, "int8 delta columns"): fired columns go through the rows
// eight at a time (four interleaved pairs), so a pass over the int32 sums carries 128
// multiply-adds per 16 rows and eight column streams are read at once (the columns are short,
// 2-3 KB, and scattered: with four streams the step waited on memory). Each 8 rows of a column
// are loaded and sign-extended in one instruction (v128.load8x8_s), two columns paired by one
// 16-bit interleave, then one dot: 8 multiply-adds for two shuffle-class instructions and one
// multiply. The 1-7 columns left over by the groups of eight go first, as groups of four and
// pairs (a missing column is the previous one at coefficient 0). The first pass of a chunk
// writes the sums (no clearing pass) and the last one scales them into acc (no separate pass).
// The integer sums are the same on every build: integer addition is exact in any order.

// @ts-ignore: decorator
@inline
const CHUNK: i32 = 512;

// 8-column passes since instantiation: tests read it to prove the wide path ran.
let widePasses: i32 = 0;
export function delta_i8_wide_passes(): i32 {
  return widePasses;
}

// Quantise fired delta k with error feedback: v = vals[k] + err[j] (what earlier quantisations
// of element j left out), c = round(v / sigma), err[j] = v - c * sigma. The coefficients applied
// to element j then sum to its true deltas within sigma / 2 at all times: rounding never
// accumulates into drift.
// @ts-ignore: decorator
@inline
function coef(vals: usize, idx: usize, err: usize, k: i32, inv: f32, sigma: f32): i32 {
  const ko = (<usize>k) << 2;
  const eo = err + ((<usize>load<i32>(idx + ko)) << 2);
  const v = load<f32>(vals + ko) + load<f32>(eo);
  const c = nearest<f32>(v * inv);
  store<f32>(eo, v - c * sigma);
  return <i32>c;
}

// Two int16 coefficients (columns a, b) in every 32-bit lane.
// @ts-ignore: decorator
@inline
function pack(lo: i32, hi: i32): v128 {
  return i32x4.splat((hi << 16) | (lo & 0xffff));
}

// Dot of 4 rows of a column pair: a, b are 8 rows of each column as int16 (load8x8_s); the
// 16-bit interleave of their low (rows 0-3) or high (rows 4-7) halves against (ca, cb).
// @ts-ignore: decorator
@inline
function dd(a: v128, b: v128, c: v128, low: bool): v128 {
  const p = low
    ? i8x16.shuffle(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)
    : i8x16.shuffle(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  return i32x4.dot_i16x8_s(p, c);
}

// Combine the sums s of 4 rows (byte offset fo into the int32 / float32 arrays) with the earlier
// passes' (none on the first pass); on the last pass also scale them into acc, exactly as a
// separate pass would: acc += f32(sum) * (scale * sigma).
// @ts-ignore: decorator
@inline
function put(s: v128, fo: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  const v = first ? s : i32x4.add(v128.load(tmp + fo), s);
  v128.store(tmp + fo, v);
  if (last) {
    const f = f32x4.mul(f32x4.convert_i32x4_s(v), f32x4.mul(v128.load(scale + fo), sv));
    v128.store(acc + fo, f32x4.add(v128.load(acc + fo), f));
  }
}

// Eight columns (pairs p0/p1, p2/p3, p4/p5, p6/p7 with coefficients cA..cD), 16 rows per step.
// @ts-ignore: decorator
@inline
function pass8(p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize, p6: usize, p7: usize, cA: v128, cB: v128, cC: v128, cD: v128,
  o0: usize, o1: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  for (let o = o0; o < o1; o += 16) {
    const fo = o << 2;
    const a0 = p0 + o, a1 = p1 + o, b0 = p2 + o, b1 = p3 + o, c0 = p4 + o, c1 = p5 + o, e0 = p6 + o, e1 = p7 + o;
    for (let h: usize = 0; h < 16; h += 8) {
      const A0 = v128.load8x8_s(a0 + h), A1 = v128.load8x8_s(a1 + h);
      const B0 = v128.load8x8_s(b0 + h), B1 = v128.load8x8_s(b1 + h);
      let lo = i32x4.add(dd(A0, A1, cA, true), dd(B0, B1, cB, true));
      let hi = i32x4.add(dd(A0, A1, cA, false), dd(B0, B1, cB, false));
      const C0 = v128.load8x8_s(c0 + h), C1 = v128.load8x8_s(c1 + h);
      const E0 = v128.load8x8_s(e0 + h), E1 = v128.load8x8_s(e1 + h);
      lo = i32x4.add(lo, i32x4.add(dd(C0, C1, cC, true), dd(E0, E1, cD, true)));
      hi = i32x4.add(hi, i32x4.add(dd(C0, C1, cC, false), dd(E0, E1, cD, false)));
      put(lo, fo + (h << 2), tmp, scale, acc, sv, first, last);
      put(hi, fo + (h << 2) + 16, tmp, scale, acc, sv, first, last);
    }
  }
}

// Four columns (pairs p0/p1, p2/p3), 8 rows per step.
// @ts-ignore: decorator
@inline
function pass4(p0: usize, p1: usize, p2: usize, p3: usize, cA: v128, cB: v128,
  o0: usize, o1: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  for (let o = o0; o < o1; o += 8) {
    const fo = o << 2;
    const A0 = v128.load8x8_s(p0 + o), A1 = v128.load8x8_s(p1 + o);
    const B0 = v128.load8x8_s(p2 + o), B1 = v128.load8x8_s(p3 + o);
    put(i32x4.add(dd(A0, A1, cA, true), dd(B0, B1, cB, true)), fo, tmp, scale, acc, sv, first, last);
    put(i32x4.add(dd(A0, A1, cA, false), dd(B0, B1, cB, false)), fo + 16, tmp, scale, acc, sv, first, last);
  }
}

// Two columns (p0/p1), 8 rows per step.
// @ts-ignore: decorator
@inline
function pass2(p0: usize, p1: usize, cA: v128, o0: usize, o1: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  for (let o = o0; o < o1; o += 8) {
    const fo = o << 2;
    const A0 = v128.load8x8_s(p0 + o), A1 = v128.load8x8_s(p1 + o);
    put(dd(A0, A1, cA, true), fo, tmp, scale, acc, sv, first, last);
    put(dd(A0, A1, cA, false), fo + 16, tmp, scale, acc, sv, first, last);
  }
}

// The pass kinds below with `first` / `last` as compile-time constants (each call site inlines
// its own loop, without a branch per row).
// @ts-ignore: decorator
@inline
function run8(p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize, p6: usize, p7: usize, cA: v128, cB: v128, cC: v128, cD: v128,
  o0: usize, o1: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  if (first) {
    if (last) pass8(p0, p1, p2, p3, p4, p5, p6, p7, cA, cB, cC, cD, o0, o1, tmp, scale, acc, sv, true, true);
    else pass8(p0, p1, p2, p3, p4, p5, p6, p7, cA, cB, cC, cD, o0, o1, tmp, scale, acc, sv, true, false);
  } else if (last) pass8(p0, p1, p2, p3, p4, p5, p6, p7, cA, cB, cC, cD, o0, o1, tmp, scale, acc, sv, false, true);
  else pass8(p0, p1, p2, p3, p4, p5, p6, p7, cA, cB, cC, cD, o0, o1, tmp, scale, acc, sv, false, false);
}
// @ts-ignore: decorator
@inline
function run4(p0: usize, p1: usize, p2: usize, p3: usize, cA: v128, cB: v128, o0: usize, o1: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  if (first) {
    if (last) pass4(p0, p1, p2, p3, cA, cB, o0, o1, tmp, scale, acc, sv, true, true);
    else pass4(p0, p1, p2, p3, cA, cB, o0, o1, tmp, scale, acc, sv, true, false);
  } else if (last) pass4(p0, p1, p2, p3, cA, cB, o0, o1, tmp, scale, acc, sv, false, true);
  else pass4(p0, p1, p2, p3, cA, cB, o0, o1, tmp, scale, acc, sv, false, false);
}
// @ts-ignore: decorator
@inline
function run2(p0: usize, p1: usize, cA: v128, o0: usize, o1: usize, tmp: usize, scale: usize, acc: usize, sv: v128, first: bool, last: bool): void {
  if (first) {
    if (last) pass2(p0, p1, cA, o0, o1, tmp, scale, acc, sv, true, true);
    else pass2(p0, p1, cA, o0, o1, tmp, scale, acc, sv, true, false);
  } else if (last) pass2(p0, p1, cA, o0, o1, tmp, scale, acc, sv, false, true);
  else pass2(p0, p1, cA, o0, o1, tmp, scale, acc, sv, false, false);
}

export function delta_i8(w: usize, ld: i32, r0: i32, r1: i32, scale: usize, idx: usize, vals: usize, n: i32, acc: usize, tmp: usize, err: usize): void {
  if (n <= 0) return;
  let m: f32 = 0;
  for (let k = 0; k < n; k++) {
    const ko = (<usize>k) << 2;
    m = max(m, abs(load<f32>(vals + ko) + load<f32>(err + ((<usize>load<i32>(idx + ko)) << 2))));
  }
  if (m == 0) return;
  const sigma: f32 = m / <f32>32767;
  const inv: f32 = <f32>1 / sigma;
  const colBytes = <usize>ld;
  const o0 = <usize>r0; // byte offsets into the int8 columns
  const o1 = <usize>r1;
  for (let k0 = 0; k0 < n; k0 += CHUNK) {
    const k1 = min<i32>(n, k0 + CHUNK);
    if (ASC_FEATURE_SIMD) {
      const sv = f32x4.splat(sigma);
      const groups = (k1 - k0) >> 3;
      let rest = (k1 - k0) & 7;
      let k = k0;
      let first = true;
      // Leftover columns first: groups of four while 3 or more are left, then a pair.
      while (rest > 0) {
        const ko = (<usize>k) << 2;
        const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
        const c0 = coef(vals, idx, err, k, inv, sigma);
        const p1 = rest >= 2 ? w + <usize>load<i32>(idx + ko, 4) * colBytes : p0;
        const c1 = rest >= 2 ? coef(vals, idx, err, k + 1, inv, sigma) : 0;
        const cA = pack(c0, c1);
        if (rest >= 3) {
          const p2 = w + <usize>load<i32>(idx + ko, 8) * colBytes;
          const c2 = coef(vals, idx, err, k + 2, inv, sigma);
          const p3 = rest >= 4 ? w + <usize>load<i32>(idx + ko, 12) * colBytes : p2;
          const c3 = rest >= 4 ? coef(vals, idx, err, k + 3, inv, sigma) : 0;
          const used = min<i32>(rest, 4);
          rest -= used;
          k += used;
          run4(p0, p1, p2, p3, cA, pack(c2, c3), o0, o1, tmp, scale, acc, sv, first, rest == 0 && groups == 0);
        } else {
          const used = rest;
          rest = 0;
          k += used;
          run2(p0, p1, cA, o0, o1, tmp, scale, acc, sv, first, groups == 0);
        }
        first = false;
      }
      for (let g = 0; g < groups; g++, k += 8) {
        const ko = (<usize>k) << 2;
        const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
        const p1 = w + <usize>load<i32>(idx + ko, 4) * colBytes;
        const p2 = w + <usize>load<i32>(idx + ko, 8) * colBytes;
        const p3 = w + <usize>load<i32>(idx + ko, 12) * colBytes;
        const p4 = w + <usize>load<i32>(idx + ko, 16) * colBytes;
        const p5 = w + <usize>load<i32>(idx + ko, 20) * colBytes;
        const p6 = w + <usize>load<i32>(idx + ko, 24) * colBytes;
        const p7 = w + <usize>load<i32>(idx + ko, 28) * colBytes;
        const cA = pack(coef(vals, idx, err, k, inv, sigma), coef(vals, idx, err, k + 1, inv, sigma));
        const cB = pack(coef(vals, idx, err, k + 2, inv, sigma), coef(vals, idx, err, k + 3, inv, sigma));
        const cC = pack(coef(vals, idx, err, k + 4, inv, sigma), coef(vals, idx, err, k + 5, inv, sigma));
        const cD = pack(coef(vals, idx, err, k + 6, inv, sigma), coef(vals, idx, err, k + 7, inv, sigma));
        run8(p0, p1, p2, p3, p4, p5, p6, p7, cA, cB, cC, cD, o0, o1, tmp, scale, acc, sv, first, g == groups - 1);
        widePasses++;
        first = false;
      }
    } else {
      memory.fill(tmp + (o0 << 2), 0, (o1 - o0) << 2);
      for (let k = k0; k < k1; k++) {
        const p = w + <usize>load<i32>(idx + ((<usize>k) << 2)) * colBytes;
        const c = coef(vals, idx, err, k, inv, sigma);
        for (let o = o0; o < o1; o++) {
          const t = tmp + (o << 2);
          store<i32>(t, load<i32>(t) + <i32>load<i8>(p + o) * c);
        }
      }
      for (let o = o0; o < o1; o++) {
        const fo = o << 2;
        store<f32>(acc + fo, load<f32>(acc + fo) + <f32>load<i32>(tmp + fo) * (load<f32>(scale + fo) * sigma));
      }
    }
  }
}
