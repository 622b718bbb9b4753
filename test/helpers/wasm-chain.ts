/**
 * The check every chained-wasm session test starts with: step a session frame by frame with
 * stepInto (where the layers share one kernels instance this takes the stepWasm chain), then run
 * a traced session (which always steps executor by executor, float64 between layers) on the same
 * frames. The executors are spied on (and the kernels count their one-call layer steps); the
 * callers assert on the counts and outputs returned.
 * Call `vi.restoreAllMocks()` after each test (afterEach).
 */
import { vi } from 'vitest';
import type { Model } from '../../src/model/types.js';
import { WasmLinearExecutor, WasmRecurrentExecutor } from '../../src/runtime/backends/wasm/index.js';
import { createSession, type SessionOptions } from '../../src/runtime/index.js';
import { loadKernels } from '../../src/kernels/wasm/loader.js';

/** `frames`: `steps` frames of the model's input size, row-major. */
export function chainedAgainstTraced(model: Model, opts: SessionOptions, frames: Float32Array, steps: number) {
  const inputSize = frames.length / steps;
  const stepSpy = vi.spyOn(WasmRecurrentExecutor.prototype, 'step');
  const linSpy = vi.spyOn(WasmLinearExecutor.prototype, 'step');
  const wasmSpy = vi.spyOn(WasmRecurrentExecutor.prototype, 'stepWasm');
  const fusedSpy = vi.spyOn(WasmRecurrentExecutor.prototype, 'stepFused');
  const callsSpy = vi.spyOn(WasmRecurrentExecutor.prototype, 'stepCalls');
  // layer_step calls counted by the kernels module itself (the default build's instance).
  const kernelSteps = (): number => loadKernels().exports.layer_steps();
  const k0 = kernelSteps();
  const chained = createSession(model, opts);
  const out = chained.outputSize;
  const y = new Float32Array(steps * out);
  for (let t = 0; t < steps; t++) chained.stepInto(frames.subarray(t * inputSize, (t + 1) * inputSize), y, t * out);
  // Calls made by the chained session alone, before the traced one runs.
  const chainedCalls = {
    step: stepSpy.mock.calls.length,
    linearStep: linSpy.mock.calls.length,
    stepWasm: wasmSpy.mock.calls.length,
    stepFused: fusedSpy.mock.calls.length,
    stepCalls: callsSpy.mock.calls.length,
    layerSteps: kernelSteps() - k0,
  };
  const traced = createSession(model, { ...opts, trace: true });
  const yt = traced.run(frames);
  const tracedCalls = { step: stepSpy.mock.calls.length - chainedCalls.step };
  return { chained, traced, y, yt, chainedCalls, tracedCalls };
}
