/**
 * Every architecture parameter the cycle models read, declared once with its unit and meaning
 * (Timeloop/Accelergy style: the spec is data, the engines only read it). Presets give values;
 * `--set name=value` overrides them.
 */

/**
 * @example PARAMS.dramFirstAccessCycles // { unit: 'cycle', meaning: 'latency from a column-burst request ...' }
 */
export const PARAMS = {
  clockMHz: { unit: 'MHz', meaning: 'clock of the MAC array and encoder' },
  pes: { unit: 'MAC units', meaning: 'processing elements (one multiply-accumulate per cycle each) per array' },
  arrays: { unit: 'arrays', meaning: 'independent PE arrays; fired column j goes to array j mod arrays (Spartus)' },
  weightBits: { unit: 'bit', meaning: 'bits per stored weight' },
  activationBits: { unit: 'bit', meaning: 'bits per activation / delta value (recorded for the design; the cycle models do not depend on it)' },
  accumulatorBits: { unit: 'bit', meaning: 'bits of each accumulator (recorded for the design; the cycle models do not depend on it)' },
  dramBusBits: { unit: 'bit/cycle', meaning: 'width of the weight stream from DRAM per cycle' },
  dramFirstAccessCycles: { unit: 'cycle', meaning: 'latency from a column-burst request to its first weight beat' },
  dramPrefetch: { unit: '0/1', meaning: '1: the next column burst is requested while the current one streams (latency hidden when the queue is not empty)' },
  onChipWeightBytes: { unit: 'byte', meaning: 'on-chip weight memory of designs that keep weights on chip; a model whose stored weights exceed it is refused (0: no limit)' },
  encoderElementsPerCycle: { unit: 'element/cycle', meaning: 'delta-encoder scan rate over bias, input and hidden elements' },
  encoderQueueDepth: { unit: 'entry', meaning: 'queue of fired columns between encoder and MAC array (FIFO memory in front of the MAC\'s operand register); a full queue stalls the encoder' },
  encoderLeadCycles: { unit: 'cycle', meaning: 'cycle (from the layer start) at which the encoder queues the bias pseudo-column; input k follows at lead + 1 + k' },
  encoderPartGapCycles: { unit: 'cycle', meaning: 'idle encoder cycles between the input part and the hidden part of a layer' },
  beatLeadCycles: { unit: 'cycle', meaning: 'cycles from queueing a weight column to its first weight beat in the MAC array' },
  endOfPartBeats: { unit: 'cycle', meaning: 'MAC cycles of the empty end-of-part entry queued when the last input (or hidden) element did not fire (0: no such entry)' },
  endOfPartLeadCycles: { unit: 'cycle', meaning: 'cycles from queueing an empty end-of-part entry to its MAC cycle (it fetches no weights)' },
  actLatency: { unit: 'cycle', meaning: 'fixed latency of the activation phase (pipeline fill) per layer and step' },
  actInterval: { unit: 'cycle', meaning: 'cycles per group of actLanes hidden units in the activation phase' },
  actLanes: { unit: 'unit/group', meaning: 'hidden units the activation pipeline processes per actInterval' },
  layerHandoffCycles: { unit: 'cycle', meaning: 'idle cycles between two layers of one step' },
  stepHandoffCycles: { unit: 'cycle', meaning: 'idle cycles between two steps' },
  arrayFillCycles: { unit: 'cycle', meaning: 'pipeline fill of the MAC array per matrix pass (dense arrays)' },
  decoderWeightsPerCycle: { unit: 'weight/cycle', meaning: 'weights the on-line decompressor delivers per cycle (0: weights are not compressed)' },
  codebookBits: { unit: 'bit', meaning: 'index bits of the stand-in weight codec (per-layer codebook of 2^bits entries); 0: no compression' },
  timeBlock: { unit: 'step', meaning: 'steps that share one pass over the weights for layers with no h-dependent product (SRU, QRNN, linear: Sung & Park)' },
} as const;

export type ParamName = keyof typeof PARAMS;

/**
 * Bounds of the parameters that size memory or exponents in the engines (checked by resolveSpec,
 * E_LIMIT): Spartus allocates per array and EdgeDRNN per queue entry (--set arrays=3e8 held 4.7 GB
 * after 20 s), and a codebook has 2^bits entries (codebookBits=1e12 gave an Infinity report).
 * Counts are integers: the engines would round them silently.
 */
export const PARAM_BOUNDS: Partial<Record<ParamName, { max: number; integer: boolean }>> = {
  pes: { max: 1 << 20, integer: true },
  arrays: { max: 65_536, integer: true },
  encoderQueueDepth: { max: 1 << 20, integer: true },
  codebookBits: { max: 16, integer: true },
  weightBits: { max: 64, integer: true },
  activationBits: { max: 64, integer: true },
  accumulatorBits: { max: 128, integer: true },
};

/** Parameters that describe the design but enter no cycle model (every other one changes a result). */
export const INFORMATIONAL_PARAMS: readonly ParamName[] = ['activationBits', 'accumulatorBits'];

/** Where a preset value comes from, as a provenance tag (code, derived, open, datasheet). */
export type SourceTag = 'code' | 'abs' | 'derived' | 'open' | 'datasheet';

export interface ParamValue {
  value: number;
  /** The tag of the published results (or `datasheet` for a device's public data sheet). */
  tag: SourceTag;
  /** One line: where the number comes from or why we chose it. */
  source: string;
}

export type ArchName = 'deltarnn' | 'edgedrnn' | 'spartus' | 'rnnaccel';
/** The accelerators with a preset and an engine. */
export const ARCH_NAMES: readonly ArchName[] = ['deltarnn', 'edgedrnn', 'spartus', 'rnnaccel'];

/** A preset: a description and the values of the parameters its engine reads. */
export interface ArchPreset {
  arch: ArchName;
  title: string;
  /** Cells the hardware runs. */
  cells: string;
  params: Partial<Record<ParamName, ParamValue>>;
}

/** What an engine reads: plain numbers, after presets and overrides. */
export interface ArchSpec {
  arch: ArchName;
  params: Partial<Record<ParamName, number>>;
}
