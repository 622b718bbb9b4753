/**
 * Memory that must not grow with the stream: a wasm SRU/QRNN session run over 10^6 frames needs
 * the output plus a few blocks, not several copies of the input (it peaked at ~9x the input).
 * Measured in a child process (peak resident memory), so the test process's heap does not blur it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const ROOT = join(import.meta.dirname, '..', '..');

describe('bounded memory', () => {
  it('session.run of 10^6 frames through wasm SRU + QRNN grows resident memory by about the output only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-mem-'));
    const script = join(dir, 'mem.mts');
    writeFileSync(
      script,
      `import { createSession } from ${JSON.stringify(pathToFileURL(join(SRC, 'runtime', 'session.ts')).href)};
import { randomModel } from ${JSON.stringify(pathToFileURL(join(SRC, 'model', 'random.ts')).href)};
const m = randomModel(1, 16, [{ kind: 'sru', hiddenSize: 16 }, { kind: 'qrnn', hiddenSize: 16, window: 2 }]);
const s = createSession(m, { backend: 'wasm' });
const T = 1_000_000;
const x = new Float32Array(T * 16).fill(0.1);
s.run(x.subarray(0, 16 * 64));
const before = process.resourceUsage().maxRSS;
const y = s.run(x);
const after = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ path: s.paths.join(','), out: y.byteLength, grow: (after - before) * 1024 }));
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { path, out, grow } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { path: string; out: number; grow: number };
    expect(path).toMatch(/wasm/);
    // The output (64 MB) must exist; everything else is blocks of 1024 steps. Before: ~5x the output.
    expect(grow).toBeLessThan(2 * out);
  }, 60_000);
});
