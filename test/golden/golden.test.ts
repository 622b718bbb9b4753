/**
 * Golden vectors from PyTorch (test/golden/make_golden.py, run with Debian's python3-torch):
 * every case is loaded through BOTH importers (the state_dict as safetensors, and the ONNX export),
 * then
 *  - a dense session must reproduce PyTorch's outputs within 1e-4 of the output scale;
 *  - a delta session at the case's thresholds must match an independent float64 numpy
 *    implementation of the delta network definition within 1e-3, with exactly the same fired counts per step and layer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/core/npy.js';
import { decodeModelFile } from '../../src/model/io.js';
import type { Model } from '../../src/model/types.js';
import { availableBackends, createSession } from '../../src/runtime/index.js';
import type { BiasConvention } from '../../src/runtime/types.js';

const DIR = join(import.meta.dirname, 'cases');
interface Case {
  name: string;
  cell: 'gru' | 'lstm';
  L: number;
  I: number;
  H: number;
  O: number;
  act: 'none' | 'relu' | 'tanh';
  thx: number;
  thh: number;
  T: number;
  conventions: BiasConvention[];
}
const index = JSON.parse(readFileSync(join(import.meta.dirname, 'cases.json'), 'utf8')) as { cases: Case[] };
const npy = (c: Case, f: string) => parseNpy(new Uint8Array(readFileSync(join(DIR, c.name, f))));
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Worst errors seen, printed at the end so the numbers can be reported. */
const worst = { dense: 0, delta: 0, runs: 0 };

function load(c: Case, file: string): { model: Model; kind: string } {
  // A state_dict does not record its readout activation, so it is passed; an ONNX graph records
  // it (a Relu/Tanh node) and refuses the option.
  const readoutActivation = c.O && !file.endsWith('.onnx') ? c.act : undefined;
  return decodeModelFile(new Uint8Array(readFileSync(join(DIR, c.name, file))), { readoutActivation });
}

describe('golden vectors from PyTorch', () => {
  expect(index.cases.length).toBeGreaterThanOrEqual(12);
  for (const c of index.cases) {
    for (const file of ['model.safetensors', 'model.onnx']) {
      describe(`${c.name} via ${file}`, () => {
        const { model, kind } = load(c, file);
        const x = npy(c, 'x.npy');
        const O = c.O || c.H;

        it('imports as the expected model', () => {
          expect(kind).toBe(file.endsWith('.onnx') ? 'onnx' : 'pytorch');
          const rec = model.layers.filter((l) => l.kind !== 'linear');
          expect(rec.length).toBe(c.L);
          expect(rec.every((l) => l.kind === c.cell)).toBe(true);
          expect(model.layers.length).toBe(c.L + (c.O ? 1 : 0));
          expect(model.layers[0]!.inputSize).toBe(c.I);
          expect(x.shape).toEqual([c.T, c.I]);
        });

        for (const backend of availableBackends()) {
          it(`dense session (${backend}) reproduces PyTorch`, () => {
            const yT = npy(c, 'y_torch.npy');
            expect(yT.shape).toEqual([c.T, O]);
            const s = createSession(model, { backend });
            expect(s.isDelta).toBe(false);
            const y = s.run(x.data);
            const err = maxDiff(y, yT.data);
            worst.dense = Math.max(worst.dense, err / Math.max(1, maxAbs(yT.data)));
            expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(yT.data)));
          });

          for (const conv of c.conventions) {
            it(`delta session (${backend}, ${conv}, thx ${c.thx}, thh ${c.thh}) matches the numpy the delta network definition reference`, () => {
              const yD = npy(c, `y_delta_${conv}.npy`);
              const fired = npy(c, `fired_${conv}.npy`);
              expect(fired.shape).toEqual([c.T, 2 * c.L]);
              const s = createSession(model, { thresholdX: c.thx, thresholdH: c.thh, biasConvention: conv, backend, trace: true });
              expect(s.isDelta).toBe(true);
              const y = s.run(x.data);
              const err = maxDiff(y, yD.data);
              worst.delta = Math.max(worst.delta, err);
              worst.runs++;
              expect(err).toBeLessThanOrEqual(1e-3);
              // Fired counts per step and recurrent layer, from the trace...
              const trace = s.trace();
              expect(trace.length).toBe(c.T);
              const got: number[] = [];
              for (const step of trace) {
                for (const l of step) if (l) got.push(l.firedX.length, l.firedH.length);
              }
              expect(got).toEqual(Array.from(fired.data));
              // ...and the totals from stats().
              const st = s.stats();
              const rec = st.layers.filter((l) => l.delta);
              expect(rec.length).toBe(c.L);
              rec.forEach((l, k) => {
                let fx = 0;
                let fh = 0;
                for (let t = 0; t < c.T; t++) {
                  fx += fired.data[t * 2 * c.L + 2 * k]!;
                  fh += fired.data[t * 2 * c.L + 2 * k + 1]!;
                }
                expect([l.firedX, l.firedH]).toEqual([fx, fh]);
              });
              // The case is only meaningful if thresholds skipped work.
              expect(st.occupancy).toBeLessThan(1);
            });
          }
        }
      });
    }
  }
  it('reports the worst errors seen', () => {
    console.log(`golden: ${index.cases.length} cases x 2 importers; worst dense error ${worst.dense.toExponential(2)} (relative to max(1, max|y|)), worst delta error ${worst.delta.toExponential(2)} over ${worst.runs} delta runs`);
  });
});
