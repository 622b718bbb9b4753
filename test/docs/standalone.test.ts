/**
 * The docs stand on their own: no README, doc page, help text, simulator description or shipped
 * source comment (they become the .d.ts docs) cites a "SPEC §N" users do not have.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from '../helpers/cli.js';
import { ROOT } from './blocks.js';

const SPEC = /\bSPEC\b(?!_)/;

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|md)$/.test(e.name) && !p.includes(`${join('kernels', 'wasm', 'generated')}`)) yield p;
  }
}

describe('docs stand on their own', () => {
  afterEach(() => vi.restoreAllMocks());
  it('README, docs/ and src/ never cite SPEC', () => {
    const hits: string[] = [];
    for (const f of [join(ROOT, 'README.md'), ...files(join(ROOT, 'docs')), ...files(join(ROOT, 'src'))]) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (SPEC.test(line)) hits.push(`${f.slice(ROOT.length + 1)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });
  it('help texts and sim --describe never cite SPEC', async () => {
    const outputs: string[] = [];
    for (const argv of [['--help'], ['train', '--help'], ['sim', '--help'], ['run', '--help'], ['prune', '--help'], ['sim', '--arch', 'all', '--describe']]) {
      const r = await cli(...argv);
      outputs.push(r.out + r.err);
    }
    for (const arch of ['edgedrnn', 'deltarnn', 'spartus', 'rnnaccel']) {
      const r = await cli('sim', '--arch', arch, '--describe');
      expect(r.code, r.err).toBe(0);
      outputs.push(r.out);
    }
    expect(outputs.join('\n')).not.toMatch(SPEC);
  });
});
