/**
 * `deltakit export c`: a model as a self-contained C99 library (one .c, one .h), optionally with
 * the startup file and linker script of a board to run it on (see ./boards.ts).
 */
import { check, fail } from '../../../core/errors.js';
import { writeFileSet } from '../../../core/files.js';
import type { Model } from '../../types.js';
import { lowerModel, type LoweredModel, type LoweringOptions } from '../../../quant/lowering.js';
import { BOARD_INFO, boardFiles, BOARDS, type Board } from './boards.js';
import { cIdentifier, generateC } from './generate.js';

export interface CExportOptions extends LoweringOptions {
  /** C prefix of every public symbol and the file names (default: from the model's name). */
  name?: string;
  /** Also write the startup file and linker script of this board. */
  board?: Board;
}

export interface CExport {
  /** The C prefix (`<name>_step`, `<name>.h`). */
  name: string;
  lowered: LoweredModel;
  /** File name -> text. */
  files: Record<string, string>;
}

/**
 * Generate the C library of a model.
 *
 * @example
 * const exp = exportC(model, { precision: 'q15', thresholdX: 0.4, thresholdH: 0.3, name: 'digits' });
 * await writeCExport(exp, 'out/digits', { force: true }); // digits.c, digits.h
 */
/** The longest C prefix: C99 guarantees 63 significant characters in external identifiers. */
const C_NAME_MAX = 63;

const C_EXPORT_OPTIONS = ['name', 'board', 'precision', 'weightBits', 'thresholdX', 'thresholdH', 'biasConvention', 'actFrac', 'calibration'];

export function exportC(model: Model, options: CExportOptions = {}): CExport {
  check(options !== null && typeof options === 'object', 'E_OPTION', () => `exportC options: expected an object, found ${options === null ? 'null' : typeof options}`);
  // A misspelt option (thresholdx) exported a dense network without a word.
  for (const key of Object.keys(options)) check(C_EXPORT_OPTIONS.includes(key), 'E_OPTION', () => `exportC option: expected one of ${C_EXPORT_OPTIONS.join(', ')}, found '${key}'`);
  if (options.name !== undefined) {
    // The name is every symbol's prefix and the files' names: 5,000 characters made file names
    // no file system takes.
    check(typeof options.name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(options.name) && options.name.length <= C_NAME_MAX, 'E_OPTION', () => `name: expected a C identifier ([A-Za-z_][A-Za-z0-9_]*) of at most ${C_NAME_MAX} characters, found '${String(options.name).slice(0, 40)}'${String(options.name).length > 40 ? ` (${String(options.name).length} characters)` : ''}`);
  }
  if (options.board !== undefined && !BOARDS.includes(options.board)) {
    fail('E_OPTION', `board: expected one of ${BOARDS.join(', ')}, found '${String(options.board)}'`);
  }
  const { name: _name, board, ...lowering } = options;
  void _name;
  const lowered = lowerModel(model, lowering);
  if (board) {
    // The weights are const data in the board's flash: a model whose weights alone exceed it
    // exported a library that could not link (a GRU 512 for the micro:bit: 'region FLASH
    // overflowed by 616976 bytes'). Biases, tables and code need room on top of this.
    const bytesPerWeight = lowered.precision === 'f32' ? 4 : lowered.weightBits / 8;
    const weights = lowered.layers.reduce((a, l) => a + (l.kind === 'linear' ? l.w.length : l.wih.length + l.whh.length), 0);
    const flash = BOARD_INFO[board].flashKiB * 1024;
    check(weights * bytesPerWeight <= flash, 'E_HW_LIMIT', () => `board ${board}: the weights alone take ${weights * bytesPerWeight} bytes (${weights} x ${bytesPerWeight}), its flash holds ${flash}; expected a smaller model or weights, or another board`);
  }
  const src = generateC(lowered, options.name ?? cIdentifier(model.name).slice(0, C_NAME_MAX));
  const files: Record<string, string> = { [`${src.name}.h`]: src.header, [`${src.name}.c`]: src.source };
  if (board) Object.assign(files, boardFiles(board));
  return { name: src.name, lowered, files };
}

/**
 * Write an export into a directory (created if missing). Refuses to replace any existing file
 * unless `force` (E_EXISTS, checked for every file before the first is written). Returns the paths.
 */
export async function writeCExport(exp: CExport, outDir: string, opts: { force?: boolean } = {}): Promise<string[]> {
  return writeFileSet(exp.files, outDir, opts);
}
