/**
 * One error class for everything a user can cause, with a stable machine-readable code.
 *
 * Codes are part of the public API: scripts match on `err.code`, never on the message.
 * Messages say what was expected and what was found.
 *
 * @example
 * try { await loadModel('bad.safetensors'); }
 * catch (e) { if (e instanceof DeltakitError && e.code === 'E_FORMAT') console.error(e.message); }
 */
export type ErrorCode =
  /** A file could not be read (missing, permission). */
  | 'E_IO'
  /** A file is malformed: truncated, bad header, bad JSON, offsets outside the file. */
  | 'E_FORMAT'
  /** A file is well formed but uses something deltakit does not support (dtype, operator, cell). */
  | 'E_UNSUPPORTED'
  /** Tensor or array shapes disagree with each other or with the model spec. */
  | 'E_SHAPE'
  /** A numeric value is not acceptable (NaN, infinity, out of range, negative threshold). */
  | 'E_VALUE'
  /** An option or argument is invalid or missing. */
  | 'E_OPTION'
  /** A size in a header or an option is absurd (larger than the file, or than a sane limit). */
  | 'E_LIMIT'
  /** A model does not fit a hardware target's limits (fixed-point accelerators). */
  | 'E_HW_LIMIT'
  /** Output would overwrite an existing file and the user did not ask for that. */
  | 'E_EXISTS'
  /** A verification found a mismatch. */
  | 'E_MISMATCH'
  /**
   * A search ran to the end and found nothing that meets the user's budget (e.g. `tune`: no
   * threshold pair within the accuracy budget). The input was fine; the result is "none".
   */
  | 'E_NO_POINT'
  /** Long work was interrupted by the user. */
  | 'E_INTERRUPTED';

export class DeltakitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeltakitError';
    this.code = code;
  }
}

/** Throw a coded error. Handy in expressions: `x ?? fail('E_OPTION', '...')`. */
export function fail(code: ErrorCode, message: string): never {
  throw new DeltakitError(code, message);
}

/**
 * Check a condition; the message is built lazily so hot paths pay nothing when it holds.
 *
 * @example check(x.length === n, 'E_SHAPE', () => `frame length: expected ${n}, found ${x.length}`);
 */
export function check(cond: unknown, code: ErrorCode, message: () => string): asserts cond {
  if (!cond) throw new DeltakitError(code, message());
}

export function isDeltakitError(e: unknown): e is DeltakitError {
  return e instanceof DeltakitError;
}
