/**
 * The EdgeDRNN DeltaGRU, bit-exact: integers only, in the order and widths of the authors' RTL
 * (hdl/ieu.sv delta encoder, hdl/hpe.sv multiply-accumulate and activation datapath).
 *
 * Per layer and step:
 *   delta encoder: bias pseudo-input (256 - last, fires once after reset), then each input, then
 *     each hidden unit; delta = wrap16(value - remembered); an element fires when delta != 0 and
 *     (delta >= th || delta <= -th) with th the 10-bit signed register (thx for bias and inputs,
 *     thh for hidden); only fired elements update the remembered value.
 *   MAC: for each fired column, acc = wrap24(acc + w * delta) on the memories [Mr | Mz | Mnh | Mnx]
 *     (rows r, z go to Mr, Mz; row n goes to Mnx for bias and input columns, Mnh for hidden ones).
 *   activation: r = sig(wrap16(rhe(Mr, 7))), z = sig(wrap16(rhe(Mz, 7))),
 *     n = tanh(wrap16(rhe(wrap24(wrap24(2 Mnx) + r * wrap16(rhe(Mnh, 7))), 8))),
 *     h = wrap16(wrap16(rhe((256 - z) n, 8)) + wrap16(rhe(z h, 8))).
 * rhe(v, s) is the RTL's round half to even shift: (v + (bit s of v ? 2^(s-1) : 2^(s-1)-1)) >>> s.
 */
import { check } from '../../core/errors.js';
import { TRACE_MEMORY_LIMIT, type LayerStepTrace, type StepTrace } from '../../runtime/types.js';
import { sigmoidLut, tanhLut } from '../lut.js';
import {
  EDGEDRNN,
  type EdgeDrnnProgram,
  layerColumnOffsets,
  layerInputSize,
  signedRegister,
  weightImageSize,
  checkHardwareLimits,
} from './hardware.js';

/** Integer state of one layer (all values are Q8.8 codes or 24-bit accumulator codes). */
export interface EdgeDrnnLayerState {
  /** Remembered input (value when each element last fired). */
  xPrev: Int32Array;
  /** Remembered hidden state. */
  hPrev: Int32Array;
  /** Current hidden state h(t-1) before the step, h(t) after. */
  h: Int32Array;
  /** Delta memories, 24-bit accumulator codes (Q9.15). */
  mr: Int32Array;
  mz: Int32Array;
  mnh: Int32Array;
  mnx: Int32Array;
  /** The bias pseudo-input's remembered value: 0 after reset, 256 once it has been sent. */
  biasPrev: number;
}

export interface EdgeDrnnState {
  layers: EdgeDrnnLayerState[];
}

/** Column counters since the last reset, per layer (what the cycle model of the simulator needs). */
export interface EdgeDrnnLayerCounters {
  /** Times the bias pseudo-column fired. */
  firedBias: number;
  firedX: number;
  firedH: number;
}

export interface EdgeDrnnStats {
  steps: number;
  layers: EdgeDrnnLayerCounters[];
}

/** Integer helpers; every value they see is an int32, so the bit operations are exact. */
const wrap16 = (v: number): number => (v << 16) >> 16;
const wrap24 = (v: number): number => (v << 8) >> 8;
/** RTL round half to even right shift of an int32 (hdl/hpe.sv `din_acc_rnd_q_act`). */
const rhe = (v: number, s: number): number => (v + (1 << (s - 1)) - 1 + ((v >> s) & 1)) >> s;

export function createEdgeDrnnState(program: EdgeDrnnProgram): EdgeDrnnState {
  const { config } = program;
  return {
    layers: config.hiddenSizes.map((H, l) => ({
      xPrev: new Int32Array(layerInputSize(config, l)),
      hPrev: new Int32Array(H),
      h: new Int32Array(H),
      mr: new Int32Array(H),
      mz: new Int32Array(H),
      mnh: new Int32Array(H),
      mnx: new Int32Array(H),
      biasPrev: 0,
    })),
  };
}

/**
 * A running EdgeDRNN: the integer machine with its state, stepping one input frame at a time.
 *
 * @example
 * const m = new EdgeDrnnMachine(program);
 * const h = m.step(Int32Array.from([256, -128, 0, 0, 0, 0, 0, 0])); // Q8.8 codes in, Q8.8 codes out
 */
export class EdgeDrnnMachine {
  readonly program: EdgeDrnnProgram;
  state: EdgeDrnnState;
  private readonly offsets: number[];
  private readonly thx: number;
  private readonly thh: number;
  private counters: EdgeDrnnLayerCounters[];
  private steps = 0;
  private readonly tracing: boolean;
  /** trace: true keeps the steps (bounded like a session's); onTrace streams them. */
  private readonly keep: boolean;
  private readonly onTrace: ((step: StepTrace) => void) | null;
  private traced: StepTrace[] = [];

  /**
   * `trace: true` records, per step and layer, the indices of the fired input and hidden elements
   * and whether the bias pseudo-column fired (the runtime's StepTrace, what the accelerator
   * simulator replays).
   */
  constructor(program: EdgeDrnnProgram, options: { trace?: boolean; onTrace?: (step: StepTrace) => void } = {}) {
    check(program !== null && typeof program === 'object' && program.config !== null && typeof program.config === 'object' && program.weights instanceof Int8Array, 'E_OPTION', () => `EdgeDRNN machine: expected a program { config, weights: Int8Array } (buildEdgeDrnnProgram(model).program), found ${program === null ? 'null' : typeof program}`);
    this.onTrace = options.onTrace ?? null;
    this.keep = options.trace === true;
    this.tracing = this.keep || this.onTrace !== null;
    checkHardwareLimits(program.config, { thresholdsChecked: false });
    const need = weightImageSize(program.config);
    check(program.weights.length === need, 'E_SHAPE', () => `EdgeDRNN weight image: expected ${need} bytes for this configuration, found ${program.weights.length}`);
    this.program = program;
    this.offsets = layerColumnOffsets(program.config);
    // The hardware reads the low 10 bits of the register as a signed number.
    this.thx = signedRegister(program.config.thresholdX, EDGEDRNN.thresholdBits);
    this.thh = signedRegister(program.config.thresholdH, EDGEDRNN.thresholdBits);
    this.state = createEdgeDrnnState(program);
    this.counters = this.freshCounters();
  }

  private freshCounters(): EdgeDrnnLayerCounters[] {
    return this.program.config.hiddenSizes.map(() => ({ firedBias: 0, firedX: 0, firedH: 0 }));
  }

  /** Back to the state after reset (the bias column will fire again on the next step). */
  reset(): void {
    this.state = createEdgeDrnnState(this.program);
    this.counters = this.freshCounters();
    this.steps = 0;
    this.traced = [];
  }

  /** The recorded trace since the last reset (empty unless constructed with `trace: true`). */
  trace(): StepTrace[] {
    return this.traced;
  }

  stats(): EdgeDrnnStats {
    return { steps: this.steps, layers: this.counters.map((c) => ({ ...c })) };
  }

  /**
   * One time step. `x` holds the padded input as Q8.8 codes (values outside 16 bits wrap, as on
   * the 16-bit input bus). Returns a new array with the last layer's h as Q8.8 codes.
   */
  step(x: ArrayLike<number>): Int32Array {
    const cfg = this.program.config;
    check(x.length === cfg.inputSize, 'E_SHAPE', () => `EdgeDRNN step: expected ${cfg.inputSize} input codes (padded input size), found ${x.length}`);
    let input: ArrayLike<number> = x;
    const stepTrace: StepTrace | null = this.tracing ? [] : null;
    for (let l = 0; l < cfg.hiddenSizes.length; l++) {
      const t = this.layerStep(l, input);
      if (stepTrace) stepTrace.push(t!);
      input = this.state.layers[l]!.h;
    }
    this.steps++;
    if (stepTrace && this.keep) {
      check(this.traced.length < TRACE_MEMORY_LIMIT, 'E_LIMIT', () => `trace: true keeps at most ${TRACE_MEMORY_LIMIT} steps in memory; stream longer runs with the onTrace option`);
      this.traced.push(stepTrace);
    }
    if (stepTrace && this.onTrace) this.onTrace(stepTrace);
    return Int32Array.from(input);
  }

  /**
   * Run T steps of a flat (T * inputSize) code array; returns (T * H) output codes.
   * `onProgress(done, T)` is called every 1024 steps and at the end (for progress bars).
   */
  run(stimulus: ArrayLike<number>, onProgress?: (done: number, total: number) => void): Int32Array {
    const I = this.program.config.inputSize;
    const L = this.program.config.hiddenSizes.length;
    const H = this.program.config.hiddenSizes[L - 1]!;
    check(stimulus.length % I === 0, 'E_SHAPE', () => `EdgeDRNN run: stimulus length ${stimulus.length} is not a multiple of the input size ${I}`);
    const T = stimulus.length / I;
    const out = new Int32Array(T * H);
    const frame = new Int32Array(I);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < I; i++) frame[i] = stimulus[t * I + i]!;
      out.set(this.step(frame), t * H);
      if (onProgress && ((t + 1) % 1024 === 0 || t + 1 === T)) onProgress(t + 1, T);
    }
    return out;
  }

  private fires(d: number, th: number): boolean {
    // hdl/ieu.sv: `if (add_out >= dth || add_out <= -dth)`, and only nonzero values enter the queue.
    return d !== 0 && (d >= th || d <= -th);
  }

  private layerStep(l: number, x: ArrayLike<number>): LayerStepTrace | null {
    const cfg = this.program.config;
    const st = this.state.layers[l]!;
    const H = cfg.hiddenSizes[l]!;
    const I = layerInputSize(cfg, l);
    const rows = 3 * H;
    const w = this.program.weights;
    const col0 = this.offsets[l]!;
    const cnt = this.counters[l]!;
    const { mr, mz, mnh, mnx } = st;
    const firedX: number[] | null = this.tracing ? [] : null;
    const firedH: number[] | null = this.tracing ? [] : null;

    // Bias pseudo-column: delta = 256 - biasPrev; biasPrev becomes 256 whether or not it fired
    // (hdl/ieu.sv updates bias_act1 on every en_bias), so when thx > 256 the biases never enter.
    const dBias = wrap16(EDGEDRNN.biasPseudoInput - st.biasPrev);
    st.biasPrev = EDGEDRNN.biasPseudoInput;
    const biasFired = this.fires(dBias, this.thx);
    if (biasFired) {
      this.accumulateInputColumn(w, col0 * rows, H, dBias, mr, mz, mnx);
      cnt.firedBias++;
    }
    for (let i = 0; i < I; i++) {
      const xi = wrap16(x[i]!);
      const d = wrap16(xi - st.xPrev[i]!);
      if (this.fires(d, this.thx)) {
        st.xPrev[i] = xi;
        this.accumulateInputColumn(w, (col0 + 1 + i) * rows, H, d, mr, mz, mnx);
        cnt.firedX++;
        firedX?.push(i);
      }
    }
    const h = st.h;
    for (let j = 0; j < H; j++) {
      const d = wrap16(h[j]! - st.hPrev[j]!);
      if (this.fires(d, this.thh)) {
        st.hPrev[j] = h[j]!;
        this.accumulateInputColumn(w, (col0 + 1 + I + j) * rows, H, d, mr, mz, mnh);
        cnt.firedH++;
        firedH?.push(j);
      }
    }

    // Activation phase (hdl/hpe.sv).
    for (let k = 0; k < H; k++) {
      const r = sigmoidLut(wrap16(rhe(mr[k]!, 7)));
      const z = sigmoidLut(wrap16(rhe(mz[k]!, 7)));
      const qMnh = wrap16(rhe(mnh[k]!, 7));
      // mux_s2 = din_acc * 2^(ACT_FRA_BW - W_FRA_BW): align Mnx (Q.15) with r * Mnh (Q.16).
      const sum = wrap24(wrap24(mnx[k]! * 2) + r * qMnh);
      const n = tanhLut(wrap16(rhe(sum, 8)));
      const a = wrap16(rhe((256 - z) * n, 8));
      const b = wrap16(rhe(z * h[k]!, 8));
      h[k] = wrap16(a + b);
    }
    return firedX && firedH ? { firedX: Int32Array.from(firedX), firedH: Int32Array.from(firedH), bias: biasFired } : null;
  }

  /** acc[gate rows] += column * d with 24-bit wrap; `third` receives the n rows (Mnx or Mnh). */
  private accumulateInputColumn(
    w: Int8Array,
    base: number,
    H: number,
    d: number,
    mr: Int32Array,
    mz: Int32Array,
    third: Int32Array,
  ): void {
    for (let k = 0; k < H; k++) {
      mr[k] = wrap24(mr[k]! + w[base + k]! * d);
      mz[k] = wrap24(mz[k]! + w[base + H + k]! * d);
      third[k] = wrap24(third[k]! + w[base + 2 * H + k]! * d);
    }
  }
}

/**
 * Run a program on a flat stimulus of Q8.8 codes (T * inputSize) from reset; returns (T * H) codes.
 *
 * @example const gold = runEdgeDrnn(program, stimulusCodes);
 */
export function runEdgeDrnn(program: EdgeDrnnProgram, stimulus: ArrayLike<number>): Int32Array {
  return new EdgeDrnnMachine(program).run(stimulus);
}
