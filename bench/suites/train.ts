/**
 * Training throughput: deltakit's BPTT trainer against PyTorch on CPU, same model (GRU 40 -> H
 * with a Linear 11 head, mean readout, cross-entropy, Adam), same batch of seeded random
 * sequences, dense and delta (thresholds in the forward pass, straight-through gradient, L1 on
 * fired hidden deltas). PyTorch runs bench/train_torch.py under Debian's /usr/bin/python3.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.js';
import { adamState, adamStep } from '../../src/train/adam.js';
import { initModel } from '../../src/train/init.js';
import { backwardSequence, forwardSequence, zeroGrads, type DeltaThresholds } from '../../src/train/net.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../train_torch.py', import.meta.url));

function deltakitFramesPerSecond(H: number, B: number, T: number, steps: number, delta?: DeltaThresholds): number {
  const model = initModel({ cell: 'gru', inputSize: 40, hiddenSize: H, layers: 1, classes: 11, seed: 1 });
  const rng = new Rng(1);
  const xs = Array.from({ length: B }, () => Float32Array.from({ length: T * 40 }, () => rng.normal()));
  const ys = Array.from({ length: B }, () => rng.int(11));
  const st = adamState(model);
  const o = { readout: 'mean' as const, delta, l1: delta ? 5e-3 : 0 };
  const step = () => {
    const g = zeroGrads(model);
    xs.forEach((x, b) => backwardSequence(model, forwardSequence(model, x, T, o), ys[b]!, o, g, 1 / B));
    adamStep(model, g, st, { lr: 1e-3 });
  };
  step(); // warm-up (JIT)
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  return (B * T * steps) / ((performance.now() - t0) / 1000);
}

export const trainSuite: BenchSuite = {
  name: 'train',
  async run(ctx: BenchContext): Promise<BenchSection[]> {
    const H = 64;
    const B = 16;
    const T = 100;
    const steps = ctx.quick ? 1 : 5;
    ctx.log('train: deltakit dense');
    const dkDense = deltakitFramesPerSecond(H, B, T, steps);
    ctx.log('train: deltakit delta');
    const dkDelta = deltakitFramesPerSecond(H, B, T, steps, { thresholdX: 0.5, thresholdH: 0.2 });
    ctx.log('train: PyTorch');
    const py = spawnSync(PY, [SCRIPT, '--hidden', String(H), '--batch', String(B), '--frames', String(T), '--steps', String(steps), '--threads', '1'], { encoding: 'utf8' });
    let torch: { torch: string; dense_frames_per_s: number; delta_frames_per_s: number } | null = null;
    if (py.status === 0) {
      try {
        torch = JSON.parse(py.stdout.trim().split('\n').pop()!);
      } catch {
        torch = null;
      }
    }
    const f = (v: number) => v.toFixed(0);
    const rows = [
      ['dense GRU', f(dkDense), torch ? f(torch.dense_frames_per_s) : 'n/a', torch ? (dkDense / torch.dense_frames_per_s).toFixed(2) : 'n/a'],
      ['DeltaGRU (thx 0.5, thh 0.2, L1)', f(dkDelta), torch ? f(torch.delta_frames_per_s) : 'n/a', torch ? (dkDelta / torch.delta_frames_per_s).toFixed(2) : 'n/a'],
    ];
    const notes = [
      `Model: GRU 40 -> ${H} + Linear 11, mean readout, cross-entropy, Adam; batches of ${B} sequences x ${T} frames; frames/s = trained frames (forward + backward + update) per second of wall time, ${steps} step(s) after one warm-up.`,
      'deltakit trains one sequence at a time in float64 TypeScript (no batching across sequences); PyTorch batches the 16 sequences in its CPU kernels, 1 thread (torch.set_num_threads(1)); the PyTorch DeltaGRU is a per-step Python loop with a straight-through threshold, as delta networks are trained in PyTorch.',
      torch ? `PyTorch ${torch.torch} via ${PY}.` : `PyTorch not available (${PY} bench/train_torch.py failed: ${(py.stderr || py.error?.message || '').trim().split('\n').pop()}).`,
    ];
    return [{ title: 'Training throughput (deltakit train vs PyTorch, CPU)', columns: ['model', 'deltakit frames/s', 'PyTorch frames/s', 'deltakit / PyTorch'], rows, notes }];
  },
};
