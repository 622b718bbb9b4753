/**
 * Every ```ts block of README.md and docs/*.md runs as written (or, marked ```ts no-run, is at
 * least valid TypeScript). See test/docs/blocks.ts for the convention.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { docCodeBlocks, FIXTURES, resolveDeltakitImports, ROOT } from './blocks.js';

const blocks = docCodeBlocks();

describe('doc code blocks', () => {
  let results: Record<string, string | null> = {};
  let runnerOutput = '';
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-docs-'));
    const runnable = blocks.filter((b) => b.run).map((b, i) => {
      const file = join(dir, `block-${i}.mts`);
      writeFileSync(file, `${resolveDeltakitImports(b.code)}\nexport {};\n`);
      return { where: b.where, file };
    });
    const manifest = join(dir, 'manifest.json');
    const out = join(dir, 'results.json');
    writeFileSync(manifest, JSON.stringify({ dir, fixtures: FIXTURES, blocks: runnable }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'docs', 'run-blocks.mts'), manifest, out], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    runnerOutput = `${r.stdout}\n${r.stderr}`.slice(-4000);
    try {
      results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string | null>;
    } catch {
      results = {};
    }
  }, 300_000);

  it('finds the blocks (README and docs have some)', () => {
    expect(blocks.filter((b) => b.where.startsWith('README.md')).length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.run).length).toBeGreaterThan(5);
  });

  for (const b of blocks) {
    if (b.run) {
      it(`${b.where} runs`, () => {
        expect(b.where in results, `the runner did not reach this block:\n${runnerOutput}`).toBe(true);
        expect(results[b.where], b.code).toBeNull();
      });
    } else {
      it(`${b.where} (no-run) is valid TypeScript`, () => {
        const r = ts.transpileModule(b.code, { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
        expect((r.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
      });
    }
  }
});
