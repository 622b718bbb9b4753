/**
 * The four accelerators as presets. Every number carries its provenance tag and source; [open] marks
 * our own modelling choice where the published work leaves the value open.
 */
import { check } from '../../core/errors.js';
import { ARCH_NAMES, PARAM_BOUNDS, PARAMS, type ArchName, type ArchPreset, type ArchSpec, type ParamName, type ParamValue } from './params.js';

const v = (value: number, tag: ParamValue['tag'], source: string): ParamValue => ({ value, tag, source });

/**
 * @example PRESETS.edgedrnn.params.clockMHz // { value: 125, tag: 'derived', source: '...' }
 */
export const PRESETS: Record<ArchName, ArchPreset> = {
  edgedrnn: {
    arch: 'edgedrnn',
    title: 'EdgeDRNN (Gao et al., AICAS/JETCAS 2020): DeltaGRU, weights in DRAM fetched per fired column',
    cells: 'gru',
    params: {
      clockMHz: v(125, 'derived', 'board clock likely 125 MHz (the testbench runs at 200 MHz)'),
      pes: v(8, 'code', '8 PEs (RTL)'),
      weightBits: v(8, 'code', 'weights Q1.7 (RTL)'),
      activationBits: v(16, 'code', 'activations and deltas Q8.8 (RTL)'),
      accumulatorBits: v(24, 'code', 'Q9.15 accumulators (RTL)'),
      dramBusBits: v(64, 'code', '64-bit weight stream, one beat per cycle (RTL)'),
      dramFirstAccessCycles: v(0, 'open', 'per-burst DRAM latency on the board is not public; 0 = the never-stalling stream the RTL timing assumes; sweep it'),
      dramPrefetch: v(1, 'open', 'with a DRAM latency: the next burst is requested as soon as its column is queued (no effect at latency 0)'),
      encoderElementsPerCycle: v(1, 'code', 'the delta encoder scans one element per cycle (RTL)'),
      encoderQueueDepth: v(32, 'code', '32-entry FIFO memory (NZL_FIFO_DEPTH) before the MAC operand register; an entry leaves it as the previous column\'s last beat issues, the encoder sees the slot a cycle later and stands still while it is full (RTL)'),
      encoderLeadCycles: v(2, 'code', 'bias pseudo-column queued 2 cycles after the layer starts, input k at 3 + k (RTL)'),
      encoderPartGapCycles: v(2, 'code', 'hidden element j queued at I + 5 + j: 2 idle cycles after the inputs (RTL)'),
      beatLeadCycles: v(3, 'code', 'a queued column\'s first weight beat reaches the MAC array 3 cycles later (RTL, never-stalling weight stream)'),
      endOfPartBeats: v(1, 'code', 'an empty end-of-part entry costs one MAC cycle when the last input / hidden element did not fire (RTL)'),
      endOfPartLeadCycles: v(2, 'code', 'the empty entry fetches no weights: its MAC cycle is 2 cycles after queueing at the earliest (RTL)'),
      actLatency: v(9, 'code', 'activation tail 9 + 5H/8 cycles after the last MAC cycle; the next layer starts the cycle after (RTL)'),
      actInterval: v(5, 'code', 'see actLatency: 5 cycles per 8 hidden units'),
      actLanes: v(8, 'code', 'see actLatency (P = 8 units per group)'),
      layerHandoffCycles: v(0, 'code', 'the next layer\'s encoder starts when the activation tail ends (RTL)'),
      stepHandoffCycles: v(0, 'code', 'no hand-off between steps: the period counts from the encoder start (RTL)'),
    },
  },
  spartus: {
    arch: 'spartus',
    title: 'Spartus (Gao et al., TNNLS 2022): DeltaLSTM with CBTD, 8 arrays of 64 PEs, weights on chip',
    cells: 'lstm, gru',
    params: {
      clockMHz: v(200, 'derived', '200 MHz: peak 204.8 GOp/s = 8 x 64 x 2 x 200 MHz, Spartus paper'),
      pes: v(64, 'code', 'N = 64 PEs per array (CBTD TIMIT setup), Spartus paper'),
      arrays: v(8, 'code', 'M = 8 arrays, Spartus paper'),
      weightBits: v(8, 'open', 'weight width not published; 8 bits assumed'),
      activationBits: v(16, 'open', '16-bit activations assumed'),
      accumulatorBits: v(32, 'open', '32-bit accumulators assumed'),
      onChipWeightBytes: v(9_486_336, 'datasheet', 'Kintex UltraScale XCKU115 block RAM 75.9 Mb; weights are kept on chip [open]'),
      encoderElementsPerCycle: v(64, 'open', 'encoder parallelism not public; 64 elements/cycle assumed so it never dominates'),
      actLatency: v(8, 'code', 'act_latency = 8 in the authors\' code; the formula using it is [open]'),
      actInterval: v(4, 'code', 'act_interval = 4 in the authors\' code'),
      actLanes: v(64, 'open', 'we assume one hidden unit per PE lane: actLatency + actInterval * ceil(H / 64)'),
      layerHandoffCycles: v(0, 'open', 'not described'),
      stepHandoffCycles: v(0, 'open', 'not described'),
    },
  },
  deltarnn: {
    arch: 'deltarnn',
    title: 'DeltaRNN (Gao et al., FPGA 2018): DeltaGRU, weights on chip, one 3H-row column per cycle',
    cells: 'gru',
    params: {
      clockMHz: v(125, 'open', 'clock does not reconcile with the abstract; 125 MHz assumed'),
      pes: v(768, 'open', 'one column of 3H = 768 rows per cycle for the 1L-256H GRU; MAC count [open]'),
      arrays: v(1, 'code', 'one array'),
      weightBits: v(16, 'open', '16-bit fixed-point weights assumed'),
      activationBits: v(16, 'open', '16-bit fixed-point activations assumed'),
      accumulatorBits: v(32, 'open', 'assumed'),
      onChipWeightBytes: v(3_317_760, 'datasheet', 'Zynq-7100 block RAM 26.5 Mb (weights on chip)'),
      encoderElementsPerCycle: v(16, 'open', 'encoder parallelism not public; 16 elements/cycle assumed'),
      actLatency: v(8, 'open', 'activation pipeline not public; assumed'),
      actInterval: v(1, 'open', 'assumed'),
      actLanes: v(16, 'open', 'assumed 16 units per cycle'),
      layerHandoffCycles: v(0, 'open', 'not described'),
      stepHandoffCycles: v(0, 'open', 'not described'),
    },
  },
  rnnaccel: {
    arch: 'rnnaccel',
    title: 'RNNAccel (Kao et al., arXiv 2010.13311): 32-MAC array for LSTM/GRU/FC, compressed weights decoded on line',
    cells: 'lstm, gru, linear, sru, qrnn',
    params: {
      clockMHz: v(100, 'open', 'clock not in the abstract; 100 MHz assumed'),
      pes: v(32, 'abs', '32 MACs'),
      weightBits: v(16, 'open', '16-bit weights before compression assumed'),
      activationBits: v(16, 'open', 'assumed'),
      accumulatorBits: v(32, 'open', 'assumed'),
      dramBusBits: v(128, 'open', 'compressed weight bus width assumed 128 bit/cycle'),
      arrayFillCycles: v(4, 'open', 'MAC pipeline fill per matrix pass, assumed'),
      actLatency: v(4, 'open', 'activation unit latency, assumed'),
      actInterval: v(1, 'open', 'one activation per cycle assumed'),
      actLanes: v(1, 'open', 'one activation unit assumed'),
      decoderWeightsPerCycle: v(32, 'open', 'NeuCompression is unpublished; we assume the decoder feeds all 32 MACs'),
      codebookBits: v(4, 'open', 'stand-in codec (src/compress/codebook): 16 centroids per layer, 4x over 16-bit weights'),
      timeBlock: v(1, 'open', 'Sung & Park block size T for SRU/QRNN/linear layers; 1 = step by step'),
      layerHandoffCycles: v(0, 'open', 'not described'),
      stepHandoffCycles: v(0, 'open', 'not described'),
    },
  },
};

/**
 * The numbers an engine reads: a preset's values with overrides applied. Overrides must name a
 * parameter the preset has (E_OPTION otherwise) and be finite and non-negative (E_VALUE).
 *
 * @example const spec = resolveSpec('edgedrnn', { clockMHz: 200 });
 */
export function resolveSpec(arch: string, overrides: Partial<Record<string, number>> = {}): ArchSpec {
  check((ARCH_NAMES as readonly string[]).includes(arch), 'E_OPTION', () => `arch: expected one of ${ARCH_NAMES.join(', ')}, found '${arch}'`);
  const preset = PRESETS[arch as ArchName];
  const params: Partial<Record<ParamName, number>> = {};
  for (const [k, pv] of Object.entries(preset.params)) params[k as ParamName] = pv!.value;
  for (const [k, value] of Object.entries(overrides)) {
    check(k in preset.params, 'E_OPTION', () => `--set ${k}: ${arch} has no parameter '${k}'; expected one of ${Object.keys(preset.params).join(', ')}`);
    check(typeof value === 'number' && Number.isFinite(value) && value >= 0, 'E_VALUE', () => `--set ${k}: expected a finite number >= 0, found ${String(value)}`);
    const bound = PARAM_BOUNDS[k as ParamName];
    if (bound) {
      check(!bound.integer || Number.isInteger(value), 'E_VALUE', () => `${k}: expected an integer, found ${value}`);
      check(value <= bound.max, 'E_LIMIT', () => `${k}: expected at most ${bound.max}, found ${value}`);
    }
    params[k as ParamName] = value;
  }
  for (const k of ['clockMHz', 'pes', 'arrays'] as const) {
    if (params[k] !== undefined) check(params[k]! > 0, 'E_VALUE', () => `${k}: expected a number > 0, found ${params[k]}`);
  }
  return { arch: arch as ArchName, params };
}

/**
 * Parse `name=value` strings (the CLI's repeated --set) into overrides.
 *
 * @example parseOverrides(['clockMHz=200', 'dramFirstAccessCycles=20'])
 */
export function parseOverrides(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(item.trim());
    check(m !== null, 'E_OPTION', () => `--set: expected name=value, found '${item}'`);
    check(m[1]! in PARAMS, 'E_OPTION', () => `--set: unknown parameter '${m[1]}'; known: ${Object.keys(PARAMS).join(', ')}`);
    const value = Number(m[2]);
    check(Number.isFinite(value), 'E_VALUE', () => `--set ${m[1]}: expected a number, found '${m[2]}'`);
    out[m[1]!] = value;
  }
  return out;
}

/** Read a parameter an engine needs; a missing one is a programming error in a preset. */
export function param(spec: ArchSpec, name: ParamName): number {
  const value = spec.params[name];
  check(value !== undefined, 'E_OPTION', () => `${spec.arch}: parameter '${name}' is required by its engine but not set`);
  return value;
}
