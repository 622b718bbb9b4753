/**
 * From audio to words in one object: samples at any rate, in chunks of any size (a microphone's
 * 128-sample blocks, a file read piece by piece), resampled to 16 kHz, turned into 40-band log-mel
 * frames as the offline front end computes them, and recognised as they come.
 */
import { Resampler } from '../data/resample.js';
import { StreamingLogMel } from '../data/mel.js';
import type { Model } from '../model/types.js';
import { StreamingRecognizer, type RecognizedWord, type RecognizerFrame, type RecognizerOptions } from './recognizer.js';

/** The rate the listener computes features at (the built-in models' front end covers 20 Hz - 8 kHz). */
export const LISTEN_SAMPLE_RATE = 16000;

/**
 * A streaming speech recogniser fed with audio.
 *
 * @example
 * const l = new Listener(model, 48000);
 * node.port.onmessage = (e) => { for (const f of l.push(e.data)) for (const w of f.words) show(w.word); };
 */
export class Listener {
  readonly resampler: Resampler;
  readonly mel: StreamingLogMel;
  readonly recognizer: StreamingRecognizer;

  constructor(model: Model, readonly sampleRate: number, o: RecognizerOptions = {}) {
    this.resampler = new Resampler(sampleRate, LISTEN_SAMPLE_RATE);
    this.mel = new StreamingLogMel(LISTEN_SAMPLE_RATE);
    this.recognizer = new StreamingRecognizer(model, o);
  }

  /** Audio samples in [-1, 1) at `sampleRate`; returns one entry per log-mel frame they completed, with its raw features. */
  push(samples: ArrayLike<number>): Array<RecognizerFrame & { features: Float32Array }> {
    return this.frames(this.mel.push(this.resampler.push(samples)));
  }

  /** End of the stream: the resampler's and the front end's last frames, and the open segment's word. */
  flush(): { frames: Array<RecognizerFrame & { features: Float32Array }>; words: RecognizedWord[] } {
    const frames = this.frames(this.mel.push(this.resampler.flush()));
    this.mel.reset();
    return { frames, words: this.recognizer.flush() };
  }

  reset(): void {
    this.resampler.reset();
    this.mel.reset();
    this.recognizer.reset();
  }

  private frames(features: Float32Array[]): Array<RecognizerFrame & { features: Float32Array }> {
    return features.map((f) => ({ ...this.recognizer.push(f), features: f }));
  }
}
