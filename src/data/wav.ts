/**
 * Minimal RIFF/WAVE reader for 16-bit PCM, the format espeak-ng writes with `--stdout`.
 *
 * espeak-ng streams to a pipe, so it cannot seek back to fill in the sizes: its RIFF and `data`
 * chunk sizes read 0x7fffffff. We therefore trust the data chunk size only when it fits inside the
 * buffer, and otherwise read to the end.
 */
import { check, DeltakitError } from '../core/errors.js';

export interface Audio {
  /** Mono samples in [-1, 1). */
  samples: Float32Array;
  /** Samples per second. */
  sampleRate: number;
}

/**
 * Parse a 16-bit PCM WAV file (mono, or the first channel of a multi-channel file).
 *
 * @example const audio = parseWav(readFileSync('seven.wav')); // { samples, sampleRate: 22050 }
 */
export function parseWav(bytes: Uint8Array): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!, bytes[o + 3]!);
  check(bytes.length >= 12 && tag(0) === 'RIFF' && tag(8) === 'WAVE', 'E_FORMAT', () => `wav: expected a RIFF/WAVE header, found ${bytes.length < 12 ? `${bytes.length} bytes` : JSON.stringify(tag(0) + tag(8))}`);
  let off = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  while (off + 8 <= bytes.length) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      check(body + 16 <= bytes.length, 'E_FORMAT', () => 'wav: truncated fmt chunk');
      const format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      check(format === 1 && bits === 16, 'E_UNSUPPORTED', () => `wav: expected 16-bit PCM (format 1), found format ${format} with ${bits} bits`);
      check(channels >= 1 && sampleRate > 0, 'E_FORMAT', () => `wav: expected channels >= 1 and a positive sample rate, found ${channels} and ${sampleRate}`);
    } else if (id === 'data') {
      check(channels > 0, 'E_FORMAT', () => 'wav: data chunk before fmt chunk');
      const end = size <= bytes.length - body ? body + size : bytes.length;
      const frameBytes = 2 * channels;
      const n = Math.floor((end - body) / frameBytes);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = view.getInt16(body + i * frameBytes, true) / 32768;
      return { samples, sampleRate };
    }
    off = body + size + (size & 1);
  }
  throw new DeltakitError('E_FORMAT', 'wav: no data chunk found');
}
