/**
 * Energy from a pJ-per-action table, kept apart from the cycle engines (Accelergy style).
 *
 * Source of the numbers: M. Horowitz, "Computing's energy problem (and what we can do about
 * it)", ISSCC 2014, 45 nm at 0.9 V: 8-bit add 0.03 pJ, 8-bit multiply 0.2 pJ, 32-bit add
 * 0.1 pJ, 32-bit multiply 3.1 pJ; 8 kB SRAM 64-bit read 10 pJ; DRAM 64-bit access 1.3-2.6 nJ.
 * Where an entry is derived from those, the derivation is stated. These are ASIC figures: the
 * FPGA designs (DeltaRNN, EdgeDRNN, Spartus) spend several times more per action, so the
 * energies compare architectures and workloads; they do not predict a board's wall power.
 */

export interface EnergyEntry {
  pj: number;
  source: string;
}

export interface EnergyTable {
  /** One multiply-accumulate at the preset's weight/activation widths. */
  mac: EnergyEntry;
  /** One byte read from off-chip DRAM. */
  dramByte: EnergyEntry;
  /** One byte read from on-chip weight SRAM / BRAM. */
  sramByte: EnergyEntry;
  /** One element scanned by the delta encoder (subtract, compare, register update). */
  encoderElement: EnergyEntry;
  /** One unit through the activation pipeline (LUT reads and a few multiplies). */
  activation: EnergyEntry;
  /** Static power while running, in mW (0: not modelled). */
  staticMilliwatts: EnergyEntry;
}

const e = (pj: number, source: string): EnergyEntry => ({ pj, source });

const common = {
  dramByte: e(162.5, 'Horowitz 2014: 1.3 nJ per 64-bit DRAM access / 8 bytes (the low end of 1.3-2.6 nJ)'),
  sramByte: e(1.25, 'Horowitz 2014: 10 pJ per 64-bit read of an 8 kB SRAM / 8 bytes'),
  encoderElement: e(0.1, 'assumption: one 16-bit subtract and one compare, each ~0.05 pJ (Horowitz 2014 scaled from 8/32-bit adds)'),
  activation: e(5, 'assumption: two LUT reads (~1.25 pJ each, small SRAM) and three 16-bit multiplies (~0.8 pJ each)'),
  staticMilliwatts: e(0, 'not modelled: published powers are board-level (e.g. EdgeDRNN 2.42 W wall power)'),
};

const mac8 = e(0.3, 'Horowitz 2014: 8-bit multiply 0.2 pJ + ~0.1 pJ for a 24/32-bit accumulate');
const mac16 = e(0.9, 'derived: 16-bit multiply ~0.8 pJ (32-bit 3.1 pJ scaled by width squared) + 0.1 pJ accumulate');

/**
 * The energy table of an architecture: the MAC entry follows the preset's weight width.
 *
 * @example const table = energyTable(16); table.mac.pj === 0.9
 */
export function energyTable(weightBits: number): EnergyTable {
  return { ...common, mac: weightBits <= 8 ? mac8 : mac16 };
}

export interface EnergyActions {
  macs: number;
  dramBytes: number;
  sramBytes: number;
  encoderElements: number;
  activations: number;
  seconds: number;
}

/** Energy in microjoules of a set of actions. */
export function energyMicrojoules(a: EnergyActions, t: EnergyTable): number {
  const pj =
    a.macs * t.mac.pj +
    a.dramBytes * t.dramByte.pj +
    a.sramBytes * t.sramByte.pj +
    a.encoderElements * t.encoderElement.pj +
    a.activations * t.activation.pj;
  return pj * 1e-6 + t.staticMilliwatts.pj * 1e-3 * a.seconds * 1e6;
}
