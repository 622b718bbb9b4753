/**
 * The EdgeDRNN activation look-up tables (the EdgeDRNN RTL, hdl/sigmoid_lut.sv and hdl/tanh_lut.sv of the
 * authors' RTL): input a Q8.8 integer v, output a Q8.8 integer that is a multiple of 16, i.e. the
 * activation rounded to Q2.4 (`afqi = 2, afqf = 4` in the authors' training code).
 *
 * The tables are defined by their breakpoints (the first input of each output step) and are pure
 * integer look-ups: no float is evaluated at run time. They equal
 * `round_half_even(16 * f(v / 256)) * 16` over the whole 16-bit input range; the tests check both.
 */

/** Sigmoid: output 0 below -879, 256 above 879; between, the output at and after each breakpoint. */
export const SIGMOID_BREAKPOINTS: ReadonlyArray<readonly [number, number]> = [
  [-879, 16], [-580, 32], [-431, 48], [-325, 64], [-240, 80], [-165, 96], [-97, 112], [-32, 128],
  [33, 144], [98, 160], [166, 176], [241, 192], [326, 208], [432, 224], [581, 240],
];
export const SIGMOID_LOW = -879;
export const SIGMOID_HIGH = 879;

/** Tanh: output -256 below -530, 256 above 530; between, the output at and after each breakpoint. */
export const TANH_BREAKPOINTS: ReadonlyArray<readonly [number, number]> = [
  [-530, -240], [-385, -224], [-315, -208], [-268, -192], [-231, -176], [-201, -160], [-174, -144],
  [-151, -128], [-130, -112], [-110, -96], [-91, -80], [-73, -64], [-56, -48], [-40, -32], [-24, -16],
  [-8, 0], [9, 16], [25, 32], [41, 48], [57, 64], [74, 80], [92, 96], [111, 112], [131, 128],
  [152, 144], [175, 160], [202, 176], [232, 192], [269, 208], [316, 224], [386, 240],
];
export const TANH_LOW = -530;
export const TANH_HIGH = 530;

function buildTable(lo: number, hi: number, points: ReadonlyArray<readonly [number, number]>): Int16Array {
  const t = new Int16Array(hi - lo + 1);
  let k = 0;
  for (let v = lo; v <= hi; v++) {
    while (k + 1 < points.length && v >= points[k + 1]![0]) k++;
    t[v - lo] = points[k]![1];
  }
  return t;
}

const SIGMOID_TABLE = buildTable(SIGMOID_LOW, SIGMOID_HIGH, SIGMOID_BREAKPOINTS);
const TANH_TABLE = buildTable(TANH_LOW, TANH_HIGH, TANH_BREAKPOINTS);

/**
 * Sigmoid LUT on a Q8.8 integer; returns the Q8.8 integer output (0..256, multiples of 16).
 *
 * @example sigmoidLut(0) // 128;  sigmoidLut(-32) // 128;  sigmoidLut(-33) // 112
 */
export function sigmoidLut(v: number): number {
  if (v > SIGMOID_HIGH) return 256;
  if (v < SIGMOID_LOW) return 0;
  return SIGMOID_TABLE[v - SIGMOID_LOW]!;
}

/**
 * Tanh LUT on a Q8.8 integer; returns the Q8.8 integer output (-256..256, multiples of 16).
 *
 * @example tanhLut(0) // 0;  tanhLut(9) // 16;  tanhLut(-9) // -16
 */
export function tanhLut(v: number): number {
  if (v > TANH_HIGH) return 256;
  if (v < TANH_LOW) return -256;
  return TANH_TABLE[v - TANH_LOW]!;
}

/** The LUT output step: 16/256 = 1/16, the bound on the activation error of the hardware. */
export const LUT_STEP = 1 / 16;
