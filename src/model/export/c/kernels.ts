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
#define DK_PRE_LIMIT 16777216L /* 2^24: pre-activations are clamped to +-4096.0 (Q12) */
#define DK_CELL_LIMIT 1073741824L /* 2^30: LSTM cell state limit (Q14) */

/*@rshr32*/
/* rshr in reference.ts: round half up, then an arithmetic shift right. */
static int32_t dk_rshr32(int32_t v, int s) { return s == 0 ? v : (int32_t)((v + ((int32_t)1 << (s - 1))) >> s); }
/*@rshr64*/
static int64_t dk_rshr64(int64_t v, int s) { return s == 0 ? v : (v + ((int64_t)1 << (s - 1))) >> s; }

/*@sat*/
static int32_t dk_sat_act(int64_t v) { return v > DK_ACT_MAX ? DK_ACT_MAX : v < DK_ACT_MIN ? DK_ACT_MIN : (int32_t)v; }

/*@pre*/
/* toPre in reference.ts: an accumulator with frac fraction bits as a clamped Q12 pre-activation. */
static int32_t dk_pre(acc_t acc, int frac) {
  int s = frac - 12;
  if (s >= 0) {
    acc_t v = acc >> s;
    return v > DK_PRE_LIMIT ? DK_PRE_LIMIT : v < -DK_PRE_LIMIT ? -DK_PRE_LIMIT : (int32_t)v;
  } else {
    acc_t lim = DK_PRE_LIMIT >> -s;
    acc_t v = acc > lim ? lim : acc < -lim ? -lim : acc;
    return (int32_t)v * ((int32_t)1 << -s);
  }
}

/*@lut rshr32*/
/* gateLut in reference.ts: 513-entry Q2.14 table over [-8, 8], linear interpolation on 7 bits. */
static int32_t dk_lut(const int16_t *table, int32_t p) {
  int32_t u = (p < -32768 ? -32768 : p > 32767 ? 32767 : p) + 32768;
  int32_t idx = u >> 7;
  int32_t a = table[idx];
  return a + dk_rshr32((table[idx + 1] - a) * (u & 127), 7);
}

/*@requant rshr64 sat*/
/* requantize in reference.ts: from one fraction to another, saturated to act_t. */
static act_t dk_requant(int64_t v, int from, int to) {
  if (from > to) return (act_t)dk_sat_act(dk_rshr64(v, from - to));
  {
    int64_t c = v > 2147483647L ? 2147483647L : v < -2147483647L ? -2147483647L : v;
    return (act_t)dk_sat_act(c * ((int64_t)1 << (to - from)));
  }
}

/*@matvec*/
/* Dense rows: m[r] += sum_j w[r][j] x[j] (row-major w). Unrolled by 4 like the delta kernel. */
static void dk_matvec(const w_t *w, uint16_t rows, uint16_t cols, const act_t *x, acc_t *m) {
  uint16_t r, j;
  for (r = 0; r < rows; r++) {
    const w_t *row = w + (uint32_t)r * cols;
    acc_t s = 0;
    for (j = 0; j + 4 <= cols; j += 4) {
      s += (acc_t)row[j] * x[j] + (acc_t)row[j + 1] * x[j + 1] + (acc_t)row[j + 2] * x[j + 2] + (acc_t)row[j + 3] * x[j + 3];
    }
    for (; j < cols; j++) s += (acc_t)row[j] * x[j];
    m[r] += s;
  }
}

/*@encode*/
/*
 * Delta encoding with the inclusive rule (encode in reference.ts): element j fires when
 * |v[j] - prev[j]| >= th; its delta and index are listed and prev[j] takes v[j].
 * Returns the number fired.
 */
static uint16_t dk_encode(const act_t *v, act_t *prev, uint16_t n, int32_t th, uint16_t *idx, int32_t *dv) {
  uint16_t j, k = 0;
  for (j = 0; j < n; j++) {
    int32_t d = (int32_t)v[j] - (int32_t)prev[j];
    if (d >= th || d <= -th) {
      prev[j] = v[j];
      idx[k] = j;
      dv[k] = d;
      k++;
    }
  }
  return k;
}

/*@columns*/
/*
 * Delta update: for every fired column, m[r] += w[col][r] * d over the column's rows
 * (column-major w, so each column is one contiguous run). A zero delta (threshold 0) adds nothing.
 */
static void dk_columns(const w_t *wt, uint16_t rows, const uint16_t *idx, const int32_t *dv, uint16_t nf, acc_t *m) {
  uint16_t t, r;
  for (t = 0; t < nf; t++) {
    const w_t *col = wt + (uint32_t)idx[t] * rows;
    acc_t d = dv[t];
    if (d == 0) continue;
    for (r = 0; r + 4 <= rows; r += 4) {
      m[r] += col[r] * d;
      m[r + 1] += col[r + 1] * d;
      m[r + 2] += col[r + 2] * d;
      m[r + 3] += col[r + 3] * d;
    }
    for (; r < rows; r++) m[r] += col[r] * d;
  }
}

/*@gru rshr32 rshr64 sat pre lut sigmoid tanh*/
/* gruUnitsFixed in reference.ts. m rows [nx, r, z, nh]; h in hfrac fraction bits. */
static void dk_gru_units(const acc_t *m, act_t *h, uint16_t H, int frac, int hfrac) {
  uint16_t u;
  for (u = 0; u < H; u++) {
    int32_t r = dk_lut(dk_sigmoid_q14, dk_pre(m[H + u], frac));
    int32_t z = dk_lut(dk_sigmoid_q14, dk_pre(m[2 * H + u], frac));
    int32_t npre = dk_pre(m[u], frac) + (int32_t)dk_rshr64((int64_t)r * dk_pre(m[3 * H + u], frac), 14);
    int32_t n = dk_rshr32(dk_lut(dk_tanh_q14, npre), 14 - hfrac);
    h[u] = (act_t)dk_sat_act(n + dk_rshr32(z * ((int32_t)h[u] - n), 14));
  }
}

/*@lstm rshr32 rshr64 sat pre lut sigmoid tanh*/
/* lstmUnitsFixed in reference.ts. m rows [i, f, g, o]; c in Q14. */
static void dk_lstm_units(const acc_t *m, act_t *h, int32_t *c, uint16_t H, int frac, int hfrac) {
  uint16_t u;
  for (u = 0; u < H; u++) {
    int32_t i = dk_lut(dk_sigmoid_q14, dk_pre(m[u], frac));
    int32_t f = dk_lut(dk_sigmoid_q14, dk_pre(m[H + u], frac));
    int32_t g = dk_lut(dk_tanh_q14, dk_pre(m[2 * H + u], frac));
    int32_t o = dk_lut(dk_sigmoid_q14, dk_pre(m[3 * H + u], frac));
    int64_t cn = dk_rshr64((int64_t)f * c[u], 14) + dk_rshr32(i * g, 14);
    int32_t tc;
    c[u] = cn > DK_CELL_LIMIT ? DK_CELL_LIMIT : cn < -DK_CELL_LIMIT ? -DK_CELL_LIMIT : (int32_t)cn;
    tc = dk_lut(dk_tanh_q14, dk_pre(c[u], 14));
    h[u] = (act_t)dk_sat_act(dk_rshr32(o * tc, 28 - hfrac));
  }
}

/*@linear matvec requant pre lut tanh*/
/* linear in reference.ts: y = act(W x + b). act: 0 none, 1 relu, 2 tanh. */
static void dk_linear(const w_t *w, const acc_t *b, uint16_t rows, uint16_t cols, const act_t *x, act_t *y, acc_t *m, int act, int frac, int yfrac) {
  uint16_t r;
  memcpy(m, b, sizeof(acc_t) * rows);
  dk_matvec(w, rows, cols, x, m);
  for (r = 0; r < rows; r++) {
    acc_t a = m[r];
    if (act == 2) y[r] = dk_requant(dk_lut(dk_tanh_q14, dk_pre(a, frac)), 14, yfrac);
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
  uint16_t r, j;
  for (r = 0; r < rows; r++) {
    const w_t *row = w + (uint32_t)r * cols;
    acc_t s = 0.0f;
    for (j = 0; j < cols; j++) s += row[j] * x[j];
    m[r] += s;
  }
}

/*@encode*/
static uint16_t dk_encode(const act_t *v, act_t *prev, uint16_t n, float th, uint16_t *idx, float *dv) {
  uint16_t j, k = 0;
  for (j = 0; j < n; j++) {
    float d = v[j] - prev[j];
    if (d >= th || d <= -th) {
      prev[j] = v[j];
      idx[k] = j;
      dv[k] = d;
      k++;
    }
  }
  return k;
}

/*@columns*/
static void dk_columns(const w_t *wt, uint16_t rows, const uint16_t *idx, const float *dv, uint16_t nf, acc_t *m) {
  uint16_t t, r;
  for (t = 0; t < nf; t++) {
    const w_t *col = wt + (uint32_t)idx[t] * rows;
    float d = dv[t];
    for (r = 0; r < rows; r++) m[r] += col[r] * d;
  }
}

/*@gru fsigmoid*/
static void dk_gru_units(const acc_t *m, act_t *h, uint16_t H, int frac, int hfrac) {
  uint16_t u;
  (void)frac;
  (void)hfrac;
  for (u = 0; u < H; u++) {
    float r = dk_sigmoid(m[H + u]);
    float z = dk_sigmoid(m[2 * H + u]);
    float n = tanhf(m[u] + r * m[3 * H + u]);
    h[u] = (1.0f - z) * n + z * h[u];
  }
}

/*@lstm fsigmoid*/
static void dk_lstm_units(const acc_t *m, act_t *h, float *c, uint16_t H, int frac, int hfrac) {
  uint16_t u;
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
  uint16_t r;
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
 * text before the first marker (the typedefs) is always kept. `sigmoid` and `tanh` name the gate
 * tables, which the caller emits; the returned set says which were needed.
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
