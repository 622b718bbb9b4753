/** Run the `deltakit` CLI in-process and capture what it prints (stdout, stderr, console.log). */
import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    l.mockRestore();
    process.exitCode = undefined;
  }
}

/**
 * For test files that call `main` directly: the console.log lines and stderr chunks of the current
 * test, emptied before each test (empty them mid-test with `out.length = 0`).
 */
export function captureOutput(): { out: string[]; err: string[] } {
  const c = { out: [] as string[], err: [] as string[] };
  beforeEach(() => {
    c.out.length = 0;
    c.err.length = 0;
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void c.out.push(a.join(' ')));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (c.err.push(String(s)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  return c;
}
