/**
 * writeFileSafely: atomic (temporary file + rename), no-clobber checked when the file takes its
 * name (not only before the work), abortable, and never leaves a temporary file behind.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { onPendingTempFiles, takePendingTempFiles, writeFileSafely } from '../../src/core/files.js';

describe('writeFileSafely', () => {
  afterEach(() => onPendingTempFiles(undefined));
  const bytes = new Uint8Array(1 << 20).fill(7);

  it('writes, refuses to replace, replaces with overwrite; no temporary file is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-files-'));
    const p = join(dir, 'a.bin');
    await writeFileSafely(p, bytes);
    expect(readFileSync(p).length).toBe(bytes.length);
    await expect(writeFileSafely(p, new Uint8Array(3))).rejects.toMatchObject({ code: 'E_EXISTS' });
    await writeFileSafely(p, new Uint8Array(3), { overwrite: true });
    expect(readFileSync(p).length).toBe(3);
    expect(readdirSync(dir)).toEqual(['a.bin']);
  });

  it('a file that appears at the path while the bytes are written is not replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-files-'));
    const p = join(dir, 'late.bin');
    // The listener runs when the temporary file is registered, i.e. after the early check.
    onPendingTempFiles((n) => {
      if (n > 0 && !existsSync(p)) writeFileSync(p, 'saved meanwhile');
    });
    await expect(writeFileSafely(p, bytes)).rejects.toMatchObject({ code: 'E_EXISTS' });
    expect(readFileSync(p, 'utf8')).toBe('saved meanwhile');
    expect(readdirSync(dir)).toEqual(['late.bin']);
  });

  it('an aborted write is E_INTERRUPTED and removes its temporary file; pending files are tracked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-files-'));
    const p = join(dir, 'big.bin');
    const counts: number[] = [];
    onPendingTempFiles((n) => counts.push(n));
    const ac = new AbortController();
    ac.abort();
    await expect(writeFileSafely(p, new Uint8Array(32 << 20), { signal: ac.signal })).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    expect(readdirSync(dir)).toEqual([]);
    expect(counts).toEqual([1, 0]);
    expect(takePendingTempFiles()).toEqual([]);
  });
});
