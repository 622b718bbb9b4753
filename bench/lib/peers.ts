/**
 * The peers: onnxruntime-node (CPU execution provider, one intra-op and one inter-op thread) and
 * onnxruntime-web's wasm backend (one thread), each running the ONNX graph of the same GRU stack
 * (bench/lib/onnx-gru.ts) one step per call, with the hidden states fed back.
 */
import type { Model } from '../../src/model/types.js';
import { gruStepOnnx } from './onnx-gru.js';

export interface StreamingPeer {
  name: string;
  /** One step; returns the last layer's h. */
  step(frame: Float32Array): Promise<Float32Array>;
  reset(): void;
  release(): Promise<void>;
}

interface OrtLike {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => { data: unknown };
  InferenceSession: { create(bytes: Uint8Array, opts: Record<string, unknown>): Promise<OrtSession> };
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

async function makePeer(name: string, ort: OrtLike, model: Model, opts: Record<string, unknown>): Promise<StreamingPeer> {
  const sess = await ort.InferenceSession.create(gruStepOnnx(model), opts);
  const I = model.layers[0]!.inputSize;
  const sizes = model.layers.map((l) => (l.kind === 'linear' ? l.outputSize : l.hiddenSize));
  let states = sizes.map((H) => new ort.Tensor('float32', new Float32Array(H), [1, 1, H]) as unknown);
  const last = sizes.length - 1;
  return {
    name,
    async step(frame: Float32Array): Promise<Float32Array> {
      const feeds: Record<string, unknown> = { X: new ort.Tensor('float32', frame, [1, 1, I]) };
      states.forEach((s, k) => (feeds[`h${k}`] = s));
      const out = await sess.run(feeds);
      states = sizes.map((_, k) => out[`h${k}_out`]!);
      return (states[last] as { data: Float32Array }).data;
    },
    reset() {
      states = sizes.map((H) => new ort.Tensor('float32', new Float32Array(H), [1, 1, H]) as unknown);
    },
    release: () => sess.release(),
  };
}

export async function ortNodePeer(model: Model, threads = 1): Promise<StreamingPeer> {
  const ort = (await import('onnxruntime-node')) as unknown as OrtLike;
  return makePeer('onnxruntime-node', ort, model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

export async function ortWebPeer(model: Model): Promise<StreamingPeer> {
  const ortw = await import('onnxruntime-web');
  ortw.env.wasm.numThreads = 1;
  return makePeer('onnxruntime-web', ortw as unknown as OrtLike, model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}
