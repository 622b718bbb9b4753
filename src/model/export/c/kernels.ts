/**
 * The C kernels every generated library carries (static functions, one copy per library), as
 * source text with the library's types substituted. The TypeScript twin of each kernel is in
 * ./reference.ts; the comment above each names it.
 *
 * Fixed point: `act_t` activations, `w_t` weights, `acc_t` accumulators (see
 * src/quant/lowering.ts). Right shifts of negative values are arithmetic (implementation-defined
 * in C99; every compiler deltakit targets does this, and the header checks it at compile time);
 * no negative value is ever shifted left (undefined behaviour): scaling up multiplies.
 */

export interface KernelTypes {
  act: string;
  w: string;
  acc: string;
  /** Bits of act_t (8 or 16). */
  actBits: number;
}

/** Kernels shared by every fixed-point library. */
export function fixedKernels(t: KernelTypes): string {
  const actMax = 2 ** (t.actBits - 1) - 1;
  return `typedef ${t.act} act_t;
typedef ${t.w} w_t;
typedef ${t.acc} acc_t;

#define DK_ACT_MAX ${actMax}
#define DK_ACT_MIN (-DK_ACT_MAX - 1)
#define DK_PRE_LIMIT 67108864L /* 2^26: pre-activations are clamped to +-16384.0 (Q12) */
#define DK_CELL_LIMIT 1073741824L /* 2^30: LSTM cell state limit (Q14) */

/*@rshr32*/
/* rshr in reference.ts: round half up, then an arithmetic shift right. */
static inline int32_t dk_rshr32(int32_t v, int s) { return s == 0 ? v : (int32_t)((v + ((int32_t)1 << (s - 1))) >> s); }
/*@rshr64*/
static inline int64_t dk_rshr64(int64_t v, int s) { return s == 0 ? v : (v + ((int64_t)1 << (s - 1))) >> s; }

/*@sat*/
/* Saturate to act_t. Clamps are written as one unlikely branch (cheaper than two selects on a Cortex-M). */
static inline int32_t dk_sat_act(int32_t v) {
  if (v < DK_ACT_MIN || v > DK_ACT_MAX) v = v < 0 ? DK_ACT_MIN : DK_ACT_MAX;
  return v;
}

/*@pre*/
/* toPre in reference.ts: an accumulator with frac fraction bits as a clamped Q12 pre-activation. */
static inline int32_t dk_pre(acc_t acc, int frac) {
  int s = frac - 12;
  if (s >= 5 && sizeof(acc_t) == 4) {
    /* An int32 accumulator shifted right by 5 or more is within +-2^26: no clamp needed. */
    return (int32_t)(acc >> s);
  } else if (s >= 0) {
    acc_t v = acc >> s;
    if (v < -DK_PRE_LIMIT || v > DK_PRE_LIMIT) v = v < 0 ? -DK_PRE_LIMIT : DK_PRE_LIMIT;
    return (int32_t)v;
  } else {
    acc_t lim = DK_PRE_LIMIT >> -s;
    acc_t v = acc;
    if (v < -lim || v > lim) v = v < 0 ? -lim : lim;
    return (int32_t)v * ((int32_t)1 << -s);
  }
}

/*@index*/
/* gateIndex in reference.ts: round(acc / 2^s) clamped to the table, as an index 0..2047. */
static inline int32_t dk_gate_index(acc_t acc, int s) {
  acc_t v;
#if defined(__GNUC__) && defined(__ARM_FEATURE_SAT) && defined(__ARM_FEATURE_DSP)
  if (sizeof(acc_t) == 4 && s >= 1 && s <= 19) {
    /*
     * Two instructions on a Cortex-M4/M7/M33: one saturating add of the rounding term and the
     * table offset (1024 * 2^s, so the clamp becomes [0, 2047]), then USAT with its shift.
     * QADD only saturates at +2^31 - 1, whose index (2047) is the true one; nothing below
     * overflows (the added term is positive).
     */
    return (int32_t)__builtin_arm_usat(__builtin_arm_qadd((int32_t)acc, ((int32_t)1 << (s - 1)) + ((int32_t)1024 << s)) >> s, 11);
  }
#endif
  if (s > 0) {
    v = (acc + ((acc_t)1 << (s - 1))) >> s;
  } else {
    v = acc;
    if (v < -1024 || v > 1024) v = v < 0 ? -1024 : 1024;
    v = v * ((acc_t)1 << -s);
  }
  if (v < -1024 || v > 1023) v = v < 0 ? -1024 : 1023;
  return (int32_t)v + 1024;
}

/*@tanh_q index tanh*/
/* tanhAcc in reference.ts: tanh of an accumulator with frac fraction bits, Q2.14 (table step 1/128). */
static inline int32_t dk_tanh(acc_t a, int frac) { return dk_tanh_q14[dk_gate_index(a, frac - 7)]; }

/*@sigmoid_q index sigtab*/
/* sigmoidAcc in reference.ts: sigmoid(x) = (1 + tanh(x / 2)) / 2, from its own table (its entries are
 * (16385 + the tanh entry) >> 1: 4 kB more flash for two instructions fewer per gate). */
static inline int32_t dk_sigmoid(acc_t a, int frac) { return dk_sigmoid_q14[dk_gate_index(a, frac - 6)]; }

/*@requant rshr64*/
/* requantize in reference.ts: from one fraction to another, saturated to act_t. */
static act_t dk_requant(int64_t v, int from, int to) {
  if (from > to) {
    v = dk_rshr64(v, from - to);
  } else {
    v = v > 2147483647L ? 2147483647L : v < -2147483647L ? -2147483647L : v;
    v = v * ((int64_t)1 << (to - from));
  }
  return (act_t)(v > DK_ACT_MAX ? DK_ACT_MAX : v < DK_ACT_MIN ? DK_ACT_MIN : v);
}

/*@matvec*/
/*
 * Dense rows: m[r] += sum_j w[r][j] x[j] (row-major w). Four rows per pass share each load of
 * x[j] (the dense twin of dk_columns, which shares each load of m[r] among five columns).
 */
static void dk_matvec(const w_t *w, uint16_t rows, uint16_t cols, const act_t *x, acc_t *m) {
  uint32_t r, j;
  const uint32_t rows4 = rows & ~3u;
  for (r = 0; r < rows4; r += 4) {
    const w_t *w0 = w + r * cols;
    const w_t *w1 = w0 + cols;
    const w_t *w2 = w1 + cols;
    const w_t *w3 = w2 + cols;
    acc_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (j = 0; j < cols; j++) {
      acc_t v = x[j];
      s0 += w0[j] * v;
      s1 += w1[j] * v;
      s2 += w2[j] * v;
      s3 += w3[j] * v;
    }
    m[r] += s0;
    m[r + 1] += s1;
    m[r + 2] += s2;
    m[r + 3] += s3;
  }
  /* The last 1..3 rows in one pass too. */
  if (rows - r == 3) {
    const w_t *w0 = w + r * cols;
    const w_t *w1 = w0 + cols;
    const w_t *w2 = w1 + cols;
    acc_t s0 = 0, s1 = 0, s2 = 0;
    for (j = 0; j < cols; j++) {
      acc_t v = x[j];
      s0 += w0[j] * v;
      s1 += w1[j] * v;
      s2 += w2[j] * v;
    }
    m[r] += s0;
    m[r + 1] += s1;
    m[r + 2] += s2;
  } else if (rows - r == 2) {
    const w_t *w0 = w + r * cols;
    const w_t *w1 = w0 + cols;
    acc_t s0 = 0, s1 = 0;
    for (j = 0; j < cols; j++) {
      acc_t v = x[j];
      s0 += w0[j] * v;
      s1 += w1[j] * v;
    }
    m[r] += s0;
    m[r + 1] += s1;
  } else if (rows - r == 1) {
    const w_t *w0 = w + r * cols;
    acc_t s0 = 0;
    for (j = 0; j < cols; j++) s0 += w0[j] * (acc_t)x[j];
    m[r] += s0;
  }
}

/*@encode*/
/*
 * Delta encoding with the inclusive rule (encode in reference.ts): element j fires when
 * |v[j] - prev[j]| >= th; its delta and index are listed and prev[j] takes v[j].
 * Returns the number fired.
 */
#define DK_ENCODE_ONE(j)                                  \
  do {                                                    \
    int32_t d_ = (int32_t)v[j] - (int32_t)prev[j];        \
    if (d_ >= th || d_ <= -th) {                          \
      prev[j] = v[j];                                     \
      idx[k] = (uint16_t)(j);                             \
      dv[k] = d_;                                         \
      k++;                                                \
    }                                                     \
  } while (0)
static uint16_t dk_encode(const act_t *v, act_t *prev, uint16_t n, int32_t th, uint16_t *idx, int32_t *dv) {
  uint32_t j = 0, k = 0;
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && DK_ACT_MAX == 32767
  if (th >= 1 && th <= 32767) {
    /*
     * Most elements do not fire: test two int16 elements per word with the DSP extension.
     * QSUB16 gives both deltas saturated to int16 (saturation keeps |d| >= th true or false,
     * th <= 32767); adding th - 1 maps the quiet band [-(th-1), th-1] onto [0, 2th-2] and every
     * firing delta above it (as unsigned halves), so UQSUB16 by 2th-2 is zero in a half exactly
     * when that element is quiet. A word with a firing half takes the exact path above.
     */
    const uint32_t lift = (uint32_t)(th - 1) * 0x10001u;
    const uint32_t band = (uint32_t)(2 * th - 2) * 0x10001u;
    for (; j + 2 <= n; j += 2) {
      uint32_t a, b;
      memcpy(&a, v + j, 4);
      memcpy(&b, prev + j, 4);
      if (__builtin_arm_uqsub16((uint32_t)__builtin_arm_sadd16(__builtin_arm_qsub16((int32_t)a, (int32_t)b), (int32_t)lift), band) == 0) continue;
      DK_ENCODE_ONE(j);
      DK_ENCODE_ONE(j + 1);
    }
  }
#endif
  for (; j < n; j++) DK_ENCODE_ONE(j);
  return (uint16_t)k;
}

/*@columns*/
/*
 * Delta update: for every fired column, m[r] += w[col][r] * d over the column's rows
 * (column-major w, so each column is one contiguous run). Five fired columns per pass share
 * each load and store of m[r] and the loop test (five column pointers and five deltas are what
 * a Cortex-M's registers hold without spilling). Integer sums are exact, so the grouping does
 * not change a bit.
 */
static void dk_columns(const w_t *wt, uint16_t rows, const uint16_t *idx, const int32_t *dv, uint16_t nf, acc_t *m) {
  uint32_t t = 0, r;
  for (; t + 5 <= nf; t += 5) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const w_t *c2 = wt + (uint32_t)idx[t + 2] * rows;
    const w_t *c3 = wt + (uint32_t)idx[t + 3] * rows;
    const w_t *c4 = wt + (uint32_t)idx[t + 4] * rows;
    const acc_t d0 = dv[t], d1 = dv[t + 1], d2 = dv[t + 2], d3 = dv[t + 3], d4 = dv[t + 4];
    for (r = 0; r < rows; r++) {
      acc_t v = m[r];
      v += c0[r] * d0;
      v += c1[r] * d1;
      v += c2[r] * d2;
      v += c3[r] * d3;
      v += c4[r] * d4;
      m[r] = v;
    }
  }
  /* The last 1..4 columns in one pass too. */
  if (nf - t == 4) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const w_t *c2 = wt + (uint32_t)idx[t + 2] * rows;
    const w_t *c3 = wt + (uint32_t)idx[t + 3] * rows;
    const acc_t d0 = dv[t], d1 = dv[t + 1], d2 = dv[t + 2], d3 = dv[t + 3];
    for (r = 0; r < rows; r++) {
      acc_t v = m[r];
      v += c0[r] * d0;
      v += c1[r] * d1;
      v += c2[r] * d2;
      v += c3[r] * d3;
      m[r] = v;
    }
  } else if (nf - t == 3) {
    /* Fewer columns leave registers for two rows per iteration (one loop test per two rows). */
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const w_t *c2 = wt + (uint32_t)idx[t + 2] * rows;
    const acc_t d0 = dv[t], d1 = dv[t + 1], d2 = dv[t + 2];
    for (r = 0; r + 2 <= rows; r += 2) {
      acc_t v = m[r], u = m[r + 1];
      v += c0[r] * d0;
      u += c0[r + 1] * d0;
      v += c1[r] * d1;
      u += c1[r + 1] * d1;
      v += c2[r] * d2;
      u += c2[r + 1] * d2;
      m[r] = v;
      m[r + 1] = u;
    }
    if (r < rows) m[r] += c0[r] * d0 + c1[r] * d1 + c2[r] * d2;
  } else if (nf - t == 2) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const acc_t d0 = dv[t], d1 = dv[t + 1];
    for (r = 0; r + 2 <= rows; r += 2) {
      acc_t v = m[r], u = m[r + 1];
      v += c0[r] * d0;
      u += c0[r + 1] * d0;
      v += c1[r] * d1;
      u += c1[r + 1] * d1;
      m[r] = v;
      m[r + 1] = u;
    }
    if (r < rows) m[r] += c0[r] * d0 + c1[r] * d1;
  } else if (nf - t == 1) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const acc_t d0 = dv[t];
    for (r = 0; r + 2 <= rows; r += 2) {
      acc_t v = m[r], u = m[r + 1];
      v += c0[r] * d0;
      u += c0[r + 1] * d0;
      m[r] = v;
      m[r + 1] = u;
    }
    if (r < rows) m[r] += c0[r] * d0;
  }
}

/*@gru rshr32 pre sigmoid_q tanh_q*/
/* gruUnitsFixed in reference.ts. m rows [nx, r, z, nh]; h in hfrac fraction bits. */
static void dk_gru_units(const acc_t *m, act_t *h, uint16_t H, int frac, int hfrac) {
  uint32_t u;
  for (u = 0; u < H; u++) {
    int32_t r = dk_sigmoid(m[H + u], frac);
    int32_t z = dk_sigmoid(m[2 * H + u], frac);
    int32_t nh = dk_pre(m[3 * H + u], frac);
#if defined(__ARM_FEATURE_SAT) || !defined(__arm__)
    /* rshr(r * nh, 14): one 32x32->64 multiply (SMULL on a Cortex-M3 and up, native on a host). */
    int32_t rnh = (int32_t)(((int64_t)r * nh + 8192) >> 14);
#else
    /* ARMv6-M has no 64-bit multiply: in 32-bit arithmetic, r <= 2^14 and |nh| <= 2^26, split
     * nh = hi * 2^12 + lo (the same value: the low 12 bits of r * hi * 2^12 are zero). */
    int32_t rnh = (r * (nh >> 12) + ((r * (nh & 4095) + 8192) >> 12)) >> 2;
#endif
    int32_t npre = dk_pre(m[u], frac) + rnh;
    int32_t n = dk_rshr32(dk_tanh(npre, 12), 14 - hfrac);
    /* A convex combination of n and h, both in range: no saturation needed. */
    h[u] = (act_t)(n + dk_rshr32(z * ((int32_t)h[u] - n), 14));
  }
}

/*@gru_q rshr32 sigmoid_q*/
/* qPass in reference.ts: q = r * h of a reset-before GRU, in h's format. */
static void dk_gru_q(const acc_t *m, const act_t *h, act_t *q, uint16_t H, int frac) {
  uint32_t u;
  for (u = 0; u < H; u++) q[u] = (act_t)dk_rshr32(dk_sigmoid(m[H + u], frac) * (int32_t)h[u], 14);
}

/*@gru_before rshr32 pre sigmoid_q tanh_q*/
/* gruBeforeUnitsFixed in reference.ts: reset-before GRU, n = tanh(Mnx + Mnh) with Mnh = b_hn + W_hn q. */
static void dk_gru_before_units(const acc_t *m, act_t *h, uint16_t H, int frac, int hfrac) {
  uint32_t u;
  for (u = 0; u < H; u++) {
    int32_t z = dk_sigmoid(m[2 * H + u], frac);
    int32_t n = dk_rshr32(dk_tanh(dk_pre(m[u], frac) + dk_pre(m[3 * H + u], frac), 12), 14 - hfrac);
    h[u] = (act_t)(n + dk_rshr32(z * ((int32_t)h[u] - n), 14));
  }
}

/*@lstm rshr32 rshr64 sigmoid_q tanh_q*/
/* lstmUnitsFixed in reference.ts. m rows [i, f, g, o]; c in Q14. */
static void dk_lstm_units(const acc_t *m, act_t *h, int32_t *c, uint16_t H, int frac, int hfrac) {
  uint32_t u;
  for (u = 0; u < H; u++) {
    int32_t i = dk_sigmoid(m[u], frac);
    int32_t f = dk_sigmoid(m[H + u], frac);
    int32_t g = dk_tanh(m[2 * H + u], frac);
    int32_t o = dk_sigmoid(m[3 * H + u], frac);
    int64_t cn = dk_rshr64((int64_t)f * c[u], 14) + dk_rshr32(i * g, 14);
    int32_t tc;
    c[u] = cn > DK_CELL_LIMIT ? DK_CELL_LIMIT : cn < -DK_CELL_LIMIT ? -DK_CELL_LIMIT : (int32_t)cn;
    tc = dk_tanh(c[u], 14);
    /* |o * tc| <= 2^28, so h fits in hfrac fraction bits without saturation. */
    h[u] = (act_t)dk_rshr32(o * tc, 28 - hfrac);
  }
}

/*@linear matvec requant tanh_q*/
/* linear in reference.ts: y = act(W x + b). act: 0 none, 1 relu, 2 tanh. */
static void dk_linear(const w_t *w, const acc_t *b, uint16_t rows, uint16_t cols, const act_t *x, act_t *y, acc_t *m, int act, int frac, int yfrac) {
  uint32_t r;
  memcpy(m, b, sizeof(acc_t) * rows);
  dk_matvec(w, rows, cols, x, m);
  for (r = 0; r < rows; r++) {
    acc_t a = m[r];
    if (act == 2) y[r] = dk_requant(dk_tanh(a, frac), 14, yfrac);
    else y[r] = dk_requant(act == 1 && a < 0 ? 0 : a, frac, yfrac);
  }
}
`;
}

/** Kernels of a float library (C float, <math.h>). */
export function floatKernels(): string {
  return `typedef float act_t;
typedef float w_t;
typedef float acc_t;

/*@fsigmoid*/
static float dk_sigmoid(float x) { return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x)); }

/*@matvec*/
static void dk_matvec(const w_t *w, uint16_t rows, uint16_t cols, const act_t *x, acc_t *m) {
  uint32_t r, j;
  const uint32_t rows4 = rows & ~3u;
  for (r = 0; r < rows4; r += 4) {
    const w_t *w0 = w + r * cols;
    const w_t *w1 = w0 + cols;
    const w_t *w2 = w1 + cols;
    const w_t *w3 = w2 + cols;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (j = 0; j < cols; j++) {
      float v = x[j];
      s0 += w0[j] * v;
      s1 += w1[j] * v;
      s2 += w2[j] * v;
      s3 += w3[j] * v;
    }
    m[r] += s0;
    m[r + 1] += s1;
    m[r + 2] += s2;
    m[r + 3] += s3;
  }
  /* The last 1..3 rows in one pass too. */
  if (rows - r == 3) {
    const w_t *w0 = w + r * cols;
    const w_t *w1 = w0 + cols;
    const w_t *w2 = w1 + cols;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f;
    for (j = 0; j < cols; j++) {
      float v = x[j];
      s0 += w0[j] * v;
      s1 += w1[j] * v;
      s2 += w2[j] * v;
    }
    m[r] += s0;
    m[r + 1] += s1;
    m[r + 2] += s2;
  } else if (rows - r == 2) {
    const w_t *w0 = w + r * cols;
    const w_t *w1 = w0 + cols;
    float s0 = 0.0f, s1 = 0.0f;
    for (j = 0; j < cols; j++) {
      float v = x[j];
      s0 += w0[j] * v;
      s1 += w1[j] * v;
    }
    m[r] += s0;
    m[r + 1] += s1;
  } else if (rows - r == 1) {
    const w_t *w0 = w + r * cols;
    float s0 = 0.0f;
    for (j = 0; j < cols; j++) s0 += w0[j] * x[j];
    m[r] += s0;
  }
}

/*@encode*/
static uint16_t dk_encode(const act_t *v, act_t *prev, uint16_t n, float th, uint16_t *idx, float *dv) {
  uint32_t j, k = 0;
  for (j = 0; j < n; j++) {
    float d = v[j] - prev[j];
    if (d >= th || d <= -th) {
      prev[j] = v[j];
      idx[k] = (uint16_t)j;
      dv[k] = d;
      k++;
    }
  }
  return (uint16_t)k;
}

/*@columns*/
static void dk_columns(const w_t *wt, uint16_t rows, const uint16_t *idx, const float *dv, uint16_t nf, acc_t *m) {
  uint32_t t = 0, r;
  for (; t + 4 <= nf; t += 4) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const w_t *c2 = wt + (uint32_t)idx[t + 2] * rows;
    const w_t *c3 = wt + (uint32_t)idx[t + 3] * rows;
    const float d0 = dv[t], d1 = dv[t + 1], d2 = dv[t + 2], d3 = dv[t + 3];
    /* Sum the products first: one rounding of the (larger) memory per pass keeps its drift low. */
    for (r = 0; r < rows; r++) m[r] += (c0[r] * d0 + c1[r] * d1) + (c2[r] * d2 + c3[r] * d3);
  }
  /* The last 1..3 columns in one pass too. */
  if (nf - t == 3) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const w_t *c2 = wt + (uint32_t)idx[t + 2] * rows;
    const float d0 = dv[t], d1 = dv[t + 1], d2 = dv[t + 2];
    for (r = 0; r < rows; r++) m[r] += (c0[r] * d0 + c1[r] * d1) + c2[r] * d2;
  } else if (nf - t == 2) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const w_t *c1 = wt + (uint32_t)idx[t + 1] * rows;
    const float d0 = dv[t], d1 = dv[t + 1];
    for (r = 0; r < rows; r++) m[r] += c0[r] * d0 + c1[r] * d1;
  } else if (nf - t == 1) {
    const w_t *c0 = wt + (uint32_t)idx[t] * rows;
    const float d0 = dv[t];
    for (r = 0; r < rows; r++) m[r] += c0[r] * d0;
  }
}

/*@gru fsigmoid*/
static void dk_gru_units(const acc_t *m, act_t *h, uint16_t H, int frac, int hfrac) {
  uint32_t u;
  (void)frac;
  (void)hfrac;
  for (u = 0; u < H; u++) {
    float r = dk_sigmoid(m[H + u]);
    float z = dk_sigmoid(m[2 * H + u]);
    float n = tanhf(m[u] + r * m[3 * H + u]);
    h[u] = (1.0f - z) * n + z * h[u];
  }
}

/*@gru_q fsigmoid*/
static void dk_gru_q(const acc_t *m, const act_t *h, act_t *q, uint16_t H, int frac) {
  uint32_t u;
  (void)frac;
  for (u = 0; u < H; u++) q[u] = dk_sigmoid(m[H + u]) * h[u];
}

/*@gru_before fsigmoid*/
static void dk_gru_before_units(const acc_t *m, act_t *h, uint16_t H, int frac, int hfrac) {
  uint32_t u;
  (void)frac;
  (void)hfrac;
  for (u = 0; u < H; u++) {
    float z = dk_sigmoid(m[2 * H + u]);
    float n = tanhf(m[u] + m[3 * H + u]);
    h[u] = (1.0f - z) * n + z * h[u];
  }
}

/*@lstm fsigmoid*/
static void dk_lstm_units(const acc_t *m, act_t *h, float *c, uint16_t H, int frac, int hfrac) {
  uint32_t u;
  (void)frac;
  (void)hfrac;
  for (u = 0; u < H; u++) {
    float i = dk_sigmoid(m[u]);
    float f = dk_sigmoid(m[H + u]);
    float g = tanhf(m[2 * H + u]);
    float o = dk_sigmoid(m[3 * H + u]);
    c[u] = f * c[u] + i * g;
    h[u] = o * tanhf(c[u]);
  }
}

/*@linear matvec*/
static void dk_linear(const w_t *w, const acc_t *b, uint16_t rows, uint16_t cols, const act_t *x, act_t *y, acc_t *m, int act, int frac, int yfrac) {
  uint32_t r;
  (void)frac;
  (void)yfrac;
  memcpy(m, b, sizeof(acc_t) * rows);
  dk_matvec(w, rows, cols, x, m);
  for (r = 0; r < rows; r++) {
    float a = m[r];
    y[r] = act == 2 ? tanhf(a) : act == 1 && a < 0.0f ? 0.0f : a;
  }
}
`;
}

/**
 * The kernel text with only the pieces `used` needs (and what they need in turn), so -Wall finds
 * no unused static function. Pieces start with a marker line naming the piece and its needs; the
 * text before the first marker (the typedefs) is always kept. `tanh` names the gate table, which
 * the caller emits; the returned set says whether it is needed.
 */
export function selectKernels(text: string, used: string[]): { code: string; needs: Set<string> } {
  const parts = text.split(/^\/\*@([^*]+)\*\/\n/m);
  const head = parts[0]!;
  const pieces = new Map<string, { deps: string[]; code: string }>();
  for (let i = 1; i < parts.length; i += 2) {
    const [name, ...deps] = parts[i]!.trim().split(/\s+/);
    pieces.set(name!, { deps, code: parts[i + 1]! });
  }
  const needs = new Set<string>();
  const visit = (n: string) => {
    if (needs.has(n)) return;
    needs.add(n);
    for (const d of pieces.get(n)?.deps ?? []) visit(d);
  };
  used.forEach(visit);
  const code = [head, ...[...pieces].filter(([n]) => needs.has(n)).map(([, p]) => p.code)].join('');
  return { code, needs };
}
