/**
 * Every parameter a preset declares must matter: changing it changes a simulated result
 * (except the few declared informational). A parameter that silently does nothing would let a
 * `--set` sweep report flat lines.
 */
import { describe, expect, it } from 'vitest';
import { cbtdPruneModel } from '../../src/compress/cbtd/index.js';
import { randomModel } from '../../src/model/random.js';
import { INFORMATIONAL_PARAMS, PRESETS, resolveSpec, simulate, syntheticWorkload, type ArchName, type SimOutcome, type Workload } from '../../src/sim/index.js';

const workloads: Record<ArchName, Workload> = {
  // Sparse enough that a shallow queue lets the MAC array idle while the encoder scans a gap.
  edgedrnn: syntheticWorkload(randomModel(1, 16, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }]), { steps: 20, occupancyX: 0.25 }),
  deltarnn: syntheticWorkload(randomModel(2, 16, [{ kind: 'gru', hiddenSize: 256 }]), { steps: 6, occupancyX: 0.4 }),
  spartus: syntheticWorkload(cbtdPruneModel(randomModel(3, 64, [{ kind: 'lstm', hiddenSize: 128 }]), { gamma: 0.75, pes: 64 }), { steps: 6, occupancyX: 0.4 }),
  rnnaccel: syntheticWorkload(randomModel(4, 16, [{ kind: 'gru', hiddenSize: 40 }, { kind: 'sru', hiddenSize: 40 }, { kind: 'linear', outputSize: 10 }]), { steps: 6, occupancyX: 1 }),
};
/** Settings under which a parameter can show its effect (e.g. prefetch matters only with DRAM latency). */
const context: Record<string, Record<string, number>> = { dramPrefetch: { dramFirstAccessCycles: 20 } };
/** A different value that must change the result; default: 7 for 0, else 2v + 1. */
const changed: Record<string, number> = { dramBusBits: 16, dramPrefetch: 0, decoderWeightsPerCycle: 8, encoderQueueDepth: 1, encoderElementsPerCycle: 0.25, onChipWeightBytes: 100, endOfPartLeadCycles: 100 };

function fingerprint(r: SimOutcome): string {
  if (!r.ok) return `fail: ${r.reason}`;
  const t = r.total;
  return JSON.stringify([t.cycles, t.latencyUs, t.dramBytes, t.sramBytes, t.energyUJ, t.peakGops, t.addedLatencySteps, t.stallCycles]);
}

describe('preset parameters', () => {
  for (const p of Object.values(PRESETS)) {
    it(`${p.arch}: every parameter changes the result`, () => {
      for (const [name, pv] of Object.entries(p.params)) {
        if ((INFORMATIONAL_PARAMS as readonly string[]).includes(name)) continue;
        const base = context[name] ?? {};
        const v = pv!.value;
        const other = changed[name] ?? (v === 0 ? 7 : 2 * v + 1);
        const a = fingerprint(simulate(workloads[p.arch], p.arch, { set: { ...base, [name]: v } }));
        const b = fingerprint(simulate(workloads[p.arch], p.arch, { set: { ...base, [name]: other } }));
        expect(b, `${p.arch}.${name}: ${v} -> ${other} changed nothing`).not.toBe(a);
      }
    });
  }
});

describe('parameter bounds', () => {
  it('sizes that allocate memory or exponents are bounded integers (E_LIMIT / E_VALUE), checked before any engine runs', () => {
    // --set arrays=3e8 held 4.7 GB after 20 s; arrays=1e12 was "Invalid typed array length";
    // codebookBits=1e12 gave a report of Infinity cycles and NaN energy.
    expect(() => resolveSpec('spartus', { arrays: 3e8 })).toThrow(/^arrays: expected at most 65536, found 300000000$/);
    expect(() => resolveSpec('spartus', { arrays: 1.5 })).toThrow(/^arrays: expected an integer, found 1.5$/);
    expect(() => resolveSpec('edgedrnn', { encoderQueueDepth: 1e12 })).toThrow(/^encoderQueueDepth: expected at most 1048576, found 1000000000000$/);
    expect(() => resolveSpec('rnnaccel', { codebookBits: 1e12 })).toThrow(/^codebookBits: expected at most 16, found 1000000000000$/);
    expect(resolveSpec('spartus', { arrays: 16 }).params.arrays).toBe(16);
    // A PE count is a count: 1.5 PEs ran as a fractional divisor.
    expect(() => resolveSpec('deltarnn', { pes: 1.5 })).toThrow(/^pes: expected an integer, found 1.5$/);
  });
});
