/**
 * 16-bit PCM WAV bytes for tests and fuzz seeds (the package reads WAV but never writes it).
 */

export interface WavFileOptions {
  /** Interleaved channels (default 1). */
  channels?: number;
  /** The data chunk's size field as written (default: the true size; a pipe writes 0 or 0x7fffffff). */
  dataSize?: number;
  /** The RIFF size field as written (default: the true size). */
  riffSize?: number;
  /** A chunk written between fmt and data, as some recorders do (e.g. LIST). */
  extraChunk?: { id: string; body: Uint8Array };
}

/**
 * A WAV file holding `codes` (interleaved int16 sample values) at `rate` Hz.
 *
 * @example parseWav(wavFile([0, 1000, -1000], 16000)).samples.length // 3
 */
export function wavFile(codes: ArrayLike<number>, rate: number, o: WavFileOptions = {}): Uint8Array {
  const channels = o.channels ?? 1;
  const extra = o.extraChunk ? 8 + o.extraChunk.body.length : 0;
  const dataAt = 36 + extra;
  const b = new Uint8Array(dataAt + 8 + 2 * codes.length);
  const v = new DataView(b.buffer);
  const tag = (at: number, t: string) => [...t].forEach((c, i) => (b[at + i] = c.charCodeAt(0)));
  tag(0, 'RIFF');
  v.setUint32(4, o.riffSize ?? b.length - 8, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, 2 * channels * rate, true);
  v.setUint16(32, 2 * channels, true);
  v.setUint16(34, 16, true);
  if (o.extraChunk) {
    tag(36, o.extraChunk.id);
    v.setUint32(40, o.extraChunk.body.length, true);
    b.set(o.extraChunk.body, 44);
  }
  tag(dataAt, 'data');
  v.setUint32(dataAt + 4, o.dataSize ?? 2 * codes.length, true);
  for (let i = 0; i < codes.length; i++) v.setInt16(dataAt + 8 + 2 * i, codes[i]!, true);
  return b;
}

/** int16 codes of samples in [-1, 1] (scaled by 32767, rounded, clamped). */
export function int16Codes(samples: ArrayLike<number>): Int16Array {
  return Int16Array.from({ length: samples.length }, (_, i) => Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))));
}
