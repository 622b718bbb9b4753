/**
 * File helpers every writer shares. Node's fs is imported lazily, so modules that use these stay
 * usable in a browser as long as no path is given.
 */
import { fail } from './errors.js';

/** Temporary files being written right now: removed by the CLI's Ctrl-C handler (see cli/main.ts). */
const pendingTempFiles = new Set<string>();
let pendingListener: ((count: number) => void) | undefined;

/**
 * Be told how many temporary files are pending whenever that changes (the CLI installs its Ctrl-C
 * handler only while there are some, so Ctrl-C during long computations still stops at once).
 */
export function onPendingTempFiles(listener: ((count: number) => void) | undefined): void {
  pendingListener = listener;
}

/**
 * The temporary files writes in progress have created, forgotten here: the caller removes them
 * (the CLI does so synchronously from its Ctrl-C handler, just before the process exits).
 */
export function takePendingTempFiles(): string[] {
  const all = [...pendingTempFiles];
  pendingTempFiles.clear();
  pendingListener?.(0);
  return all;
}

/**
 * Write bytes to a path, atomically: the bytes go to a temporary file next to it, which then
 * takes the final name, so a reader (or a crash, or Ctrl-C) never sees a half-written file and no
 * temporary file is left behind on failure.
 *
 * Refuses to replace an existing file unless `overwrite` (E_EXISTS), and that check happens when
 * the file takes its name, not only before the work started: a file saved at that path while a
 * long run was going is not replaced. With `signal`, an abort stops the write (E_INTERRUPTED) and
 * removes the temporary file.
 *
 * @example await writeFileSafely('y.npy', bytes, { overwrite: true });
 */
export async function writeFileSafely(path: string, bytes: Uint8Array, opts: { overwrite?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const fs = await import('node:fs/promises');
  const ioFail = (e: unknown): never => fail('E_IO', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  const exists = (): never => fail('E_EXISTS', `${path} exists; pass overwrite (CLI: --force) to replace it`);
  if (!opts.overwrite) {
    // Fail early (before writing a large temporary file) when the path is already taken.
    const taken = await fs.stat(path).then(() => true, () => false);
    if (taken) exists();
  }
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  pendingTempFiles.add(tmp);
  pendingListener?.(pendingTempFiles.size);
  try {
    try {
      await fs.writeFile(tmp, bytes, { flag: 'wx', ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (e) {
      if ((e as Error).name === 'AbortError') fail('E_INTERRUPTED', `writing ${path} was interrupted; nothing was written`);
      ioFail(e);
    }
    if (opts.overwrite) {
      await fs.rename(tmp, path).catch(ioFail);
      return;
    }
    // No-clobber rename: link() fails with EEXIST when the name is taken (atomically), where
    // rename() would silently replace. Filesystems without hard links get an exclusive copy.
    try {
      await fs.link(tmp, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') exists();
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') ioFail(e);
      await fs.copyFile(tmp, path, (await import('node:fs')).constants.COPYFILE_EXCL).catch((e2: NodeJS.ErrnoException) => (e2.code === 'EEXIST' ? exists() : ioFail(e2)));
    }
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    if (pendingTempFiles.delete(tmp)) pendingListener?.(pendingTempFiles.size);
  }
}

/**
 * Write a set of text files (name -> contents) into a directory, created if missing: what every
 * exporter producing several files at once needs. Refuses to replace any existing file unless
 * `force` (E_EXISTS), checked for every file before the first is written, so a refused export
 * leaves the directory as it was. Returns the written paths, in the order of `files`.
 */
export async function writeFileSet(files: Record<string, string>, outDir: string, opts: { force?: boolean } = {}): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  try {
    await fs.mkdir(outDir, { recursive: true });
  } catch (e) {
    fail('E_IO', `cannot create ${outDir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const targets = Object.keys(files).map((n) => path.join(outDir, n));
  if (!opts.force) {
    for (const t of targets) {
      const exists = await fs.access(t).then(() => true, () => false);
      if (exists) fail('E_EXISTS', `${t} exists; pass --force (API: { force: true }) to replace it`);
    }
  }
  for (const [n, text] of Object.entries(files)) {
    await writeFileSafely(path.join(outDir, n), new TextEncoder().encode(text), { overwrite: opts.force === true });
  }
  return targets;
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
