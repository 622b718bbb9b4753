/**
 * Minimal RIFF/WAVE reader for 16-bit PCM, the format espeak-ng writes with `--stdout`.
 *
 * espeak-ng streams to a pipe, so it cannot seek back to fill in the sizes: its RIFF and `data`
 * chunk sizes read 0x7ffff000 (other writers leave 0x7fffffff, 0xffffffff or 0). Such a size is
 * read as "to the end"; any other size is the recording's, and a file holding fewer bytes than
 * it declares is refused as truncated (E_FORMAT).
 */
import { asBytes } from '../core/bytes.js';
import { check, DeltakitError } from '../core/errors.js';

export interface Audio {
  /** Mono samples in [-1, 1). */
  samples: Float32Array;
  /** Samples per second. */
  sampleRate: number;
}

/** Where a WAV file's samples are: the format and the data chunk's offset and declared size. */
export interface WavHeader {
  sampleRate: number;
  channels: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Size the data chunk declares (may be 0x7fffffff or 0 when written to a pipe). */
  dataSize: number;
}

/**
 * The header of a 16-bit PCM WAV file, or null when `bytes` ends before the data chunk starts
 * (a stream: read more). Throws E_FORMAT / E_UNSUPPORTED on anything else.
 *
 * @example parseWavHeader(bytes) // { sampleRate: 22050, channels: 1, dataOffset: 44, dataSize: 262144 }
 */
export function parseWavHeader(bytes: Uint8Array, complete = true): WavHeader | null {
  bytes = asBytes(bytes, 'wav');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!, bytes[o + 3]!);
  if (!complete && bytes.length < 12) return null;
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
      if (!complete && body + 16 > bytes.length) return null;
      check(body + 16 <= bytes.length, 'E_FORMAT', () => 'wav: truncated fmt chunk');
      const format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      check(format === 1 && bits === 16, 'E_UNSUPPORTED', () => `wav: expected 16-bit PCM (format 1), found format ${format} with ${bits} bits`);
      check(channels >= 1 && sampleRate > 0, 'E_FORMAT', () => `wav: expected channels >= 1 and a positive sample rate, found ${channels} and ${sampleRate}`);
    } else if (id === 'data') {
      check(channels > 0, 'E_FORMAT', () => 'wav: data chunk before fmt chunk');
      return { sampleRate, channels, dataOffset: body, dataSize: size };
    }
    off = body + size + (size & 1);
  }
  if (!complete) return null;
  throw new DeltakitError('E_FORMAT', 'wav: no data chunk found');
}

/** Whether a data chunk size is the recording's (not a placeholder left by a writer to a pipe). */
function sizeIsKnown(size: number): boolean {
  return size > 0 && size < 0x7ffff000;
}

/**
 * Parse a 16-bit PCM WAV file (mono, or the first channel of a multi-channel file).
 *
 * @example const audio = parseWav(readFileSync('seven.wav')); // { samples, sampleRate: 22050 }
 */
export function parseWav(bytes: Uint8Array): Audio {
  bytes = asBytes(bytes, 'wav');
  const { sampleRate, channels, dataOffset: body, dataSize: size } = parseWavHeader(bytes)!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A size a writer to a pipe leaves (0, or 0x7ffff000 and up) says nothing; any other size is
  // the recording's, and a file that holds less was cut short (a copy or a recorder that stopped).
  check(!sizeIsKnown(size) || size <= bytes.length - body, 'E_FORMAT', () => `wav: expected the ${size} bytes of samples its data chunk declares, found ${bytes.length - body} (truncated file?)`);
  const end = sizeIsKnown(size) ? body + size : bytes.length;
  const frameBytes = 2 * channels;
  const n = Math.floor((end - body) / frameBytes);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = view.getInt16(body + i * frameBytes, true) / 32768;
  return { samples, sampleRate };
}

/**
 * A 16-bit PCM WAV file read as it arrives (a pipe from a recorder, a network stream): push its
 * bytes in pieces of any size and get the first channel's samples as soon as they are complete.
 * The samples are parseWav's, in order.
 *
 * @example
 * const w = new WavStream();
 * process.stdin.on('data', (b) => { const x = w.push(b); if (x.length) listener ??= new Listener(model, w.sampleRate); ... });
 */
export class WavStream {
  private header: WavHeader | null = null;
  private head = new Uint8Array(0);
  /** Bytes of the data chunk still expected (Infinity when its size is not trustworthy). */
  private left = Infinity;
  private carry = new Uint8Array(0);

  /**
   * Say the stream has ended: E_FORMAT when its header declared more sample bytes than arrived (a
   * file cut short, as parseWav refuses it); nothing when the size was a pipe's placeholder.
   */
  end(): void {
    check(this.header === null || this.left === Infinity || this.left === 0, 'E_FORMAT', () => `wav: expected the ${this.header!.dataSize} bytes of samples its data chunk declares, found ${this.header!.dataSize - this.left} (truncated stream?)`);
  }

  /** The format, once the header has arrived (else null). */
  get format(): WavHeader | null {
    return this.header;
  }
  get sampleRate(): number {
    return this.header?.sampleRate ?? 0;
  }

  push(bytes: Uint8Array): Float32Array {
    let data: Uint8Array;
    if (!this.header) {
      const all = new Uint8Array(this.head.length + bytes.length);
      all.set(this.head);
      all.set(bytes, this.head.length);
      const h = parseWavHeader(all, false);
      if (!h) {
        check(all.length <= 1 << 20, 'E_FORMAT', () => `wav stream: expected a data chunk within the first MB, found none in ${all.length} bytes`);
        this.head = all;
        return new Float32Array(0);
      }
      this.header = h;
      this.head = new Uint8Array(0);
      // A pipe's writer cannot seek back to fill in sizes: 0 and 0x7ffff000+ mean "to the end".
      this.left = sizeIsKnown(h.dataSize) ? h.dataSize : Infinity;
      data = all.subarray(Math.min(h.dataOffset, all.length));
    } else {
      data = bytes;
    }
    if (data.length > this.left) data = data.subarray(0, this.left);
    this.left -= data.length;
    if (this.carry.length) {
      const joined = new Uint8Array(this.carry.length + data.length);
      joined.set(this.carry);
      joined.set(data, this.carry.length);
      data = joined;
    }
    const frameBytes = 2 * this.header.channels;
    const n = Math.floor(data.length / frameBytes);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt16(i * frameBytes, true) / 32768;
    this.carry = data.slice(n * frameBytes);
    return out;
  }
}
