import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { espeakAvailable } from '../../src/data/espeak.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';

function run(args: string[], onStart?: (kill: () => void) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += String(d);
      // The first finished epoch proves training is under way: interrupt it there.
      if (onStart && /epoch 1 /.test(stderr)) {
        onStart(() => p.kill('SIGINT'));
        onStart = undefined;
      }
    });
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(!espeakAvailable())('deltakit train: Ctrl-C and --resume', () => {
  it('writes a checkpoint on SIGINT, exits with E_INTERRUPTED, and --resume finishes the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-int-'));
    const out = join(dir, 'm.safetensors');
    const args = ['train', '--data', 'digits', '-o', out, '--hidden', '8', '--epochs', '100', '--delta-epochs', '0', '--batch', '2', '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', join(dir, 'cache')];
    const first = await run(args, (kill) => kill());
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/deltakit: E_INTERRUPTED: train: interrupted in epoch \d+ after batch \d+/);
    expect(existsSync(`${out}.ckpt`)).toBe(true);
    expect(existsSync(out)).toBe(false);
    const state = readCheckpoint(`${out}.ckpt`).state as { epoch: number };
    expect(state.epoch).toBeGreaterThanOrEqual(1);
    expect(state.epoch).toBeLessThan(100);
    const second = await run([...args, '--resume']);
    expect(second.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    // The resumed run starts where the first stopped: it does not log epoch 1 again.
    expect(second.stderr).not.toMatch(/^epoch 1 /m);
    expect(second.stderr).toMatch(/epoch 100 /);
  });
});
