/**
 * `deltakit demo`: run a built-in model on a built-in stream, dense and as a delta network, and
 * print what the delta network saved (occupancy, ops) and how far its outputs moved.
 *
 * The built-in model here is a seeded random 2-layer GRU (40 inputs, as log-mel features)
 * with a linear readout, and the stream a smooth random walk: enough to show the mechanism.
 */
import type { Command } from 'commander';
import { maxAbs, maxAbsDiff } from '../../core/math.js';
import { randomModel, smoothStream } from '../../model/random.js';
import { createSession } from '../../runtime/session.js';
import { parseNumber, si, table } from '../options.js';

interface DemoOptions {
  thx?: string;
  thh?: string;
  steps?: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the built-in model on a built-in stream: dense against delta')
    .option('--thx <threshold>', 'delta threshold on inputs', '0.1')
    .option('--thh <threshold>', 'delta threshold on hidden states', '0.05')
    .option('--steps <n>', 'frames to stream', '2000')
    .action((o: DemoOptions) => {
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 })!;
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 })!;
      const T = parseNumber('--steps', o.steps, { min: 1, max: 1e7, integer: true })!;
      const model = randomModel(2024, 40, [{ kind: 'gru', hiddenSize: 128 }, { kind: 'gru', hiddenSize: 128 }, { kind: 'linear', outputSize: 12 }]);
      const frames = smoothStream(7, T, 40, 0.15);
      const dense = createSession(model);
      const delta = createSession(model, { thresholdX, thresholdH });
      const t0 = performance.now();
      const yd = dense.run(frames);
      const t1 = performance.now();
      const yt = delta.run(frames);
      const t2 = performance.now();
      const sd = dense.stats();
      const st = delta.stats();
      const us = (ms: number) => ((1000 * ms) / T).toFixed(1);
      console.log(`built-in model: ${model.name}, 40 -> GRU 128 -> GRU 128 -> Linear 12; ${T} frames of a smooth stream`);
      console.log(
        table(
          ['', 'occupancy', 'ops/frame', 'us/frame'],
          [
            ['dense', '100.0 %', si(sd.ops / T), us(t1 - t0)],
            [`delta (thx ${thresholdX}, thh ${thresholdH})`, `${(100 * st.occupancy).toFixed(1)} %`, si(st.ops / T), us(t2 - t1)],
          ],
        ),
      );
      console.log(`ops: ${st.opsSaving.toFixed(2)}x fewer than dense; inputs fired ${(100 * st.occupancyX).toFixed(1)} %, hidden ${(100 * st.occupancyH).toFixed(1)} %`);
      console.log(`outputs moved by at most ${maxAbsDiff(yd, yt).toFixed(4)} (output scale ${maxAbs(yd).toFixed(3)})`);
    });
}
