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
import { sequenceGradWasm, trainKernels } from '../../src/train/fast.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../train_torch.py', import.meta.url));

function deltakitFramesPerSecond(H: number, B: number, T: number, steps: number, delta: DeltaThresholds | undefined, backend: 'js' | 'wasm'): number {
  const model = initModel({ cell: 'gru', inputSize: 40, hiddenSize: H, layers: 1, classes: 11, seed: 1 });
  const rng = new Rng(1);
  const xs = Array.from({ length: B }, () => Float32Array.from({ length: T * 40 }, () => rng.normal()));
  const ys = Array.from({ length: B }, () => rng.int(11));
  const st = adamState(model);
  const o = { readout: 'mean' as const, delta, l1: delta ? 5e-3 : 0 };
  const step = () => {
    const g = zeroGrads(model);
    if (backend === 'wasm') xs.forEach((x, b) => sequenceGradWasm(model, x, T, ys[b]!, o, g, 1 / B));
    else xs.forEach((x, b) => backwardSequence(model, forwardSequence(model, x, T, o), ys[b]!, o, g, 1 / B));
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
    // Round-robin, best of `rounds`: on a shared machine load changes then hit every contender alike.
    const rounds = ctx.quick ? 1 : 3;
    let dkDense = 0, dkDelta = 0, wasmDense = 0, wasmDelta = 0;
    let torch: { torch: string; dense_frames_per_s: number; delta_frames_per_s: number } | null = null;
    let torchError = '';
    for (let r = 0; r < rounds; r++) {
      ctx.log(`train: round ${r + 1}/${rounds}: deltakit`);
      dkDense = Math.max(dkDense, deltakitFramesPerSecond(H, B, T, steps, undefined, 'js'));
      dkDelta = Math.max(dkDelta, deltakitFramesPerSecond(H, B, T, steps, { thresholdX: 0.5, thresholdH: 0.2 }, 'js'));
      wasmDense = Math.max(wasmDense, deltakitFramesPerSecond(H, B, T, steps, undefined, 'wasm'));
      wasmDelta = Math.max(wasmDelta, deltakitFramesPerSecond(H, B, T, steps, { thresholdX: 0.5, thresholdH: 0.2 }, 'wasm'));
      ctx.log(`train: round ${r + 1}/${rounds}: PyTorch`);
      const py = spawnSync(PY, [SCRIPT, '--hidden', String(H), '--batch', String(B), '--frames', String(T), '--steps', String(steps), '--threads', '1'], { encoding: 'utf8' });
      if (py.status !== 0) {
        torchError = (py.stderr || py.error?.message || '').trim().split('\n').pop() ?? '';
        break;
      }
      try {
        const t = JSON.parse(py.stdout.trim().split('\n').pop()!) as { torch: string; dense_frames_per_s: number; delta_frames_per_s: number };
        torch = torch ? { ...t, dense_frames_per_s: Math.max(torch.dense_frames_per_s, t.dense_frames_per_s), delta_frames_per_s: Math.max(torch.delta_frames_per_s, t.delta_frames_per_s) } : t;
      } catch {
        torchError = 'unparsable output';
        break;
      }
    }
    const f = (v: number) => v.toFixed(0);
    const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : 'n/a');
    const rows = [
      ['dense GRU', f(dkDense), f(wasmDense), torch ? f(torch.dense_frames_per_s) : 'n/a', ratio(wasmDense, torch?.dense_frames_per_s)],
      ['DeltaGRU (thx 0.5, thh 0.2, L1)', f(dkDelta), f(wasmDelta), torch ? f(torch.delta_frames_per_s) : 'n/a', ratio(wasmDelta, torch?.delta_frames_per_s)],
    ];
    const notes = [
      `Model: GRU 40 -> ${H} + Linear 11, mean readout, cross-entropy, Adam; batches of ${B} sequences x ${T} frames; frames/s = trained frames (forward + backward + update) per second of wall time, ${steps} step(s) after one warm-up.`,
      `deltakit trains one sequence at a time: backend js is the float64 TypeScript definition, backend wasm runs its matrix products on the ${trainKernels().path} kernels in float32 (gates and thresholds stay in JavaScript); PyTorch batches the 16 sequences in its CPU kernels, 1 thread (torch.set_num_threads(1)); the PyTorch DeltaGRU is a per-step Python loop with a straight-through threshold, as delta networks are trained in PyTorch.`,
      torch ? `PyTorch ${torch.torch} via ${PY}; best of ${rounds} round-robin round(s) for every contender.` : `PyTorch not available (${PY} bench/train_torch.py failed: ${torchError}).`,
    ];
    return [{ title: 'Training throughput (deltakit train vs PyTorch, CPU)', columns: ['model', 'deltakit js frames/s', 'deltakit wasm frames/s', 'PyTorch frames/s', 'deltakit wasm / PyTorch'], rows, notes }];
  },
};
