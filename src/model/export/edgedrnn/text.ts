/**
 * The EdgeDRNN testbench text formats (read by `$readmemh` in hdl/tb of the authors' repository,
 * written by `gen_sim_file` in python/modules/util.py):
 *
 * - weights (edgedrnn_tb_params.txt): one 64-bit word per line, 16 upper-case hex digits; the 8
 *   bytes are 8 consecutive int8 weights of a column with the first one in the lowest byte;
 * - stimulus and outputs (edgedrnn_tb_stim.txt, edgedrnn_tb_gold_rnn.txt): one 128-bit word per
 *   line, 8 x 16-bit Q8.8 values, the first in the lowest 16 bits;
 * - configuration registers (edgedrnn_tb_creg.txt): one 16-bit value per line, 32 lines.
 *
 * Each data line is followed by ` //` and the decimal values, highest lane first, each followed
 * by a comma (`0000 // 0,`). Writers reproduce that byte for byte; readers accept what
 * `$readmemh` accepts: `//` and block comments, blank lines, any case, `_` separators, several
 * words per line, `@address` lines that continue at the next address; a malformed token is an
 * E_FORMAT error naming its line, never a silent zero.
 */
import { fail } from '../../../core/errors.js';

/** One data word of a hex file: its digits (left-padded to the word width) and its line. */
export interface HexWord {
  hex: string;
  line: number;
}

/**
 * Tokenise a `$readmemh` file into words of `digits` hex digits.
 *
 * @example parseHexWords('00FF // 255,\n', 4, 'creg') // [{ hex: '00FF', line: 1 }]
 */
export function parseHexWords(text: string, digits: number, what: string): HexWord[] {
  const words: HexWord[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  let inBlock = false;
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    const lineNo = n + 1;
    // Strip block comments (which may span lines), then line comments.
    let clean = '';
    let i = 0;
    while (i < line.length) {
      if (inBlock) {
        const end = line.indexOf('*/', i);
        if (end < 0) {
          i = line.length;
        } else {
          inBlock = false;
          i = end + 2;
        }
      } else {
        const lc = line.indexOf('//', i);
        const bc = line.indexOf('/*', i);
        if (bc >= 0 && (lc < 0 || bc < lc)) {
          clean += line.slice(i, bc) + ' ';
          inBlock = true;
          i = bc + 2;
        } else if (lc >= 0) {
          clean += line.slice(i, lc);
          i = line.length;
        } else {
          clean += line.slice(i);
          i = line.length;
        }
      }
    }
    line = clean;
    for (const raw of line.split(/\s+/)) {
      if (raw === '') continue;
      if (raw.startsWith('@')) {
        const addr = raw.slice(1).replace(/_/g, '');
        if (!/^[0-9a-fA-F]+$/.test(addr)) fail('E_FORMAT', `${what}: line ${lineNo}: malformed address "${raw}" (expected @ followed by hex digits)`);
        const a = parseInt(addr, 16);
        if (a !== words.length) {
          fail('E_FORMAT', `${what}: line ${lineNo}: address @${addr} jumps from word ${words.length} to ${a}; only contiguous files are supported`);
        }
        continue;
      }
      const tok = raw.replace(/_/g, '');
      if (tok === '' || !/^[0-9a-fA-F]+$/.test(tok)) {
        fail('E_FORMAT', `${what}: line ${lineNo}: malformed word "${raw}" (expected up to ${digits} hex digits)`);
      }
      const sig = tok.replace(/^0+(?=.)/, '');
      if (sig.length > digits) {
        fail('E_FORMAT', `${what}: line ${lineNo}: word "${raw}" is wider than ${digits} hex digits (${digits * 4} bits)`);
      }
      words.push({ hex: sig.toUpperCase().padStart(digits, '0'), line: lineNo });
    }
  }
  if (inBlock) fail('E_FORMAT', `${what}: unterminated /* comment at end of file`);
  return words;
}

function signedFromHex(hex: string, bits: number): number {
  const u = parseInt(hex, 16);
  return u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
}

function hexOf(v: number, digits: number): string {
  const bits = digits * 4;
  const u = ((v % 2 ** bits) + 2 ** bits) % 2 ** bits;
  return u.toString(16).toUpperCase().padStart(digits, '0');
}

/** Lanes of a word: `lanes` signed values of `laneBits` bits, lane 0 in the lowest bits. */
function unpackWord(hex: string, lanes: number, laneBits: number): number[] {
  const d = laneBits / 4;
  const out: number[] = [];
  for (let k = 0; k < lanes; k++) {
    const end = hex.length - k * d;
    out.push(signedFromHex(hex.slice(end - d, end), laneBits));
  }
  return out;
}

/** One line of the authors' format: lanes highest first in hex, then ` //` and ` v,` per lane. */
function packLine(values: ArrayLike<number>, start: number, lanes: number, laneBits: number): string {
  const d = laneBits / 4;
  let hex = '';
  let dec = ' //';
  for (let k = lanes - 1; k >= 0; k--) {
    const v = values[start + k]!;
    hex += hexOf(v, d);
    dec += ` ${v},`;
  }
  return hex + dec + '\n';
}

function formatLanes(values: ArrayLike<number>, lanes: number, laneBits: number, what: string): string {
  if (values.length % lanes !== 0) fail('E_SHAPE', `${what}: ${values.length} values do not fill whole ${lanes}-lane words`);
  const lo = -(2 ** (laneBits - 1));
  const hi = 2 ** (laneBits - 1) - 1;
  let s = '';
  for (let i = 0; i < values.length; i += lanes) {
    for (let k = 0; k < lanes; k++) {
      const v = values[i + k]!;
      if (!Number.isInteger(v) || v < lo || v > hi) fail('E_VALUE', `${what}: value ${v} at index ${i + k} is not a ${laneBits}-bit signed integer`);
    }
    s += packLine(values, i, lanes, laneBits);
  }
  return s;
}

/**
 * The weight image as testbench text: 8 int8 per 64-bit word, first weight in the lowest byte.
 *
 * @example formatWeightImage(Int8Array.from([27, 21, 2, 9, 13, -11, 36, 22]))
 * // '1624F50D0902151B // 22, 36, -11, 13, 9, 2, 21, 27,\n'
 */
export function formatWeightImage(weights: ArrayLike<number>): string {
  return formatLanes(weights, 8, 8, 'weight image');
}

/** Parse a weight image text file into int8 weights (8 per word). */
export function parseWeightImage(text: string, what = 'weight image'): { weights: Int8Array; lines: number[] } {
  const words = parseHexWords(text, 16, what);
  const weights = new Int8Array(words.length * 8);
  words.forEach((w, i) => weights.set(unpackWord(w.hex, 8, 8), i * 8));
  return { weights, lines: words.map((w) => w.line) };
}

/**
 * Q8.8 codes as testbench text: 8 x 16-bit per 128-bit word, first value in the lowest 16 bits.
 * Used for the stimulus (I_pad/8 words per step) and the outputs (H/8 words per step).
 */
export function formatActivationWords(codes: ArrayLike<number>, what = 'activation words'): string {
  return formatLanes(codes, 8, 16, what);
}

/** Parse stimulus or output text into Q8.8 codes (8 per word) with the line of each word. */
export function parseActivationWords(text: string, what = 'activation words'): { codes: Int16Array; lines: number[] } {
  const words = parseHexWords(text, 32, what);
  const codes = new Int16Array(words.length * 8);
  words.forEach((w, i) => codes.set(unpackWord(w.hex, 8, 16), i * 8));
  return { codes, lines: words.map((w) => w.line) };
}

/** Configuration registers as testbench text, one 16-bit value per line. */
export function formatRegisters(regs: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < regs.length; i++) {
    const v = regs[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) fail('E_VALUE', `configuration register ${i}: ${v} is not a 16-bit unsigned value`);
    s += `${hexOf(v, 4)} // ${v},\n`;
  }
  return s;
}

/** Parse a configuration register file: unsigned values (registers are 32-bit on the AXI bus). */
export function parseRegisters(text: string, what = 'configuration registers'): { regs: number[]; lines: number[] } {
  const words = parseHexWords(text, 8, what);
  return { regs: words.map((w) => parseInt(w.hex, 16)), lines: words.map((w) => w.line) };
}
