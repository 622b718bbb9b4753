/**
 * File helpers every writer shares. Node's fs is imported lazily, so modules that use these stay
 * usable in a browser as long as no path is given.
 */
import { fail } from './errors.js';

/**
 * Write bytes to a path. Refuses to replace an existing file unless `overwrite` (E_EXISTS): nothing
 * a user saved is lost without asking. With overwrite, writes a temporary file and renames it, so
 * a failed write leaves the old file intact.
 *
 * @example await writeFileSafely('y.npy', bytes, { overwrite: true });
 */
export async function writeFileSafely(path: string, bytes: Uint8Array, opts: { overwrite?: boolean } = {}): Promise<void> {
  const fs = await import('node:fs/promises');
  const ioFail = (e: unknown): never => fail('E_IO', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  if (!opts.overwrite) {
    try {
      await fs.writeFile(path, bytes, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') fail('E_EXISTS', `${path} exists; pass overwrite (CLI: --force) to replace it`);
      ioFail(e);
    }
    return;
  }
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.writeFile(tmp, bytes, { flag: 'wx' });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    ioFail(e);
  }
}

/** IEEE 754 half precision bits to a number (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
