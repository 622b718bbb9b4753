// Delta accumulation, int8 weights with one scale per row:
// acc[r] += scale[r] * sum over fired k of W[r, idx[k]] * vals[k], rows r0 <= r < r1.
// Reference: src/kernels/ref/delta.ts deltaAccumulateI8Ref.
//
// Layout: W column-major int8, column j at w + j*ld bytes, ld % 16 == 0, r0 % 16 == 0,
// r1 % 16 == 0; tmp: int32 scratch of at least r1 values; err: float32 per column of W, the
// quantisation error carried to the column's next delta (zero at reset).
//
// Why integers: widening int8 weights to float costs 2.5 instructions per weight, more than the
// multiply-add itself. Instead the step's fired deltas are quantised to int16 with one scale for
// the step, sigma = max|vals + err| / 32767 (16 significant bits relative to the largest), and
// two fired columns are interleaved on the fly so i32x4.dot_i16x8_s does 8 multiply-adds per
// instruction into exact int32 sums. Every CHUNK columns the int32 sums are scaled by
// scale[r] * sigma into the float32 accumulators (127 * 32767 * 512 < 2^31: no int32 overflow).

// @ts-ignore: decorator
@inline
const CHUNK: i32 = 512;

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

// Interleave two int8 columns (16 rows) and return their dot products with the coefficient
// pair cv as two int32x4 (rows 0-3 and 4-7 in lo; rows 8-15 via the second call on hi).
// @ts-ignore: decorator
@inline
function ilo(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
// @ts-ignore: decorator
@inline
function ihi(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}
// @ts-ignore: decorator
@inline
function dlo(v: v128, cv: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), cv);
}
// @ts-ignore: decorator
@inline
function dhi(v: v128, cv: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), cv);
}

// @ts-ignore: decorator
@inline
function pack(lo: i32, hi: i32): v128 {
  return i32x4.splat((hi << 16) | (lo & 0xffff));
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
    memory.fill(tmp + (o0 << 2), 0, (o1 - o0) << 2);
    let k = k0;
    if (ASC_FEATURE_SIMD) {
      // Two pairs (four columns) per pass over the int32 sums: fewer live registers than
      // four pairs, so V8 keeps pointers and coefficients in registers.
      for (; k + 4 <= k1; k += 4) {
        const ko = (<usize>k) << 2;
        const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
        const p1 = w + <usize>load<i32>(idx + ko, 4) * colBytes;
        const p2 = w + <usize>load<i32>(idx + ko, 8) * colBytes;
        const p3 = w + <usize>load<i32>(idx + ko, 12) * colBytes;
        const cA = pack(coef(vals, idx, err, k, inv, sigma), coef(vals, idx, err, k + 1, inv, sigma));
        const cB = pack(coef(vals, idx, err, k + 2, inv, sigma), coef(vals, idx, err, k + 3, inv, sigma));
        for (let o = o0; o < o1; o += 16) {
          const t = tmp + (o << 2);
          const a0 = v128.load(p0 + o), a1 = v128.load(p1 + o);
          const b0 = v128.load(p2 + o), b1 = v128.load(p3 + o);
          const la = ilo(a0, a1), ha = ihi(a0, a1), lb = ilo(b0, b1), hb = ihi(b0, b1);
          v128.store(t, i32x4.add(v128.load(t), i32x4.add(dlo(la, cA), dlo(lb, cB))));
          v128.store(t, i32x4.add(v128.load(t, 16), i32x4.add(dhi(la, cA), dhi(lb, cB))), 16);
          v128.store(t, i32x4.add(v128.load(t, 32), i32x4.add(dlo(ha, cA), dlo(hb, cB))), 32);
          v128.store(t, i32x4.add(v128.load(t, 48), i32x4.add(dhi(ha, cA), dhi(hb, cB))), 48);
        }
      }
      for (; k < k1; k += 2) {
        // Remaining pairs; an odd last column pairs with itself at coefficient 0.
        const ko = (<usize>k) << 2;
        const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
        const odd = k + 1 >= k1;
        const p1 = odd ? p0 : w + <usize>load<i32>(idx + ko, 4) * colBytes;
        const c0 = coef(vals, idx, err, k, inv, sigma);
        const cA = pack(c0, odd ? 0 : coef(vals, idx, err, k + 1, inv, sigma));
        for (let o = o0; o < o1; o += 16) {
          const t = tmp + (o << 2);
          const a0 = v128.load(p0 + o), a1 = v128.load(p1 + o);
          const la = ilo(a0, a1), ha = ihi(a0, a1);
          v128.store(t, i32x4.add(v128.load(t), dlo(la, cA)));
          v128.store(t, i32x4.add(v128.load(t, 16), dhi(la, cA)), 16);
          v128.store(t, i32x4.add(v128.load(t, 32), dlo(ha, cA)), 32);
          v128.store(t, i32x4.add(v128.load(t, 48), dhi(ha, cA)), 48);
        }
      }
      const sv = f32x4.splat(sigma);
      for (let o = o0; o < o1; o += 4) {
        const fo = o << 2;
        const f = f32x4.mul(f32x4.convert_i32x4_s(v128.load(tmp + fo)), f32x4.mul(v128.load(scale + fo), sv));
        v128.store(acc + fo, f32x4.add(v128.load(acc + fo), f));
      }
    } else {
      for (; k < k1; k++) {
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
