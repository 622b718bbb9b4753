/**
 * Code blocks of README.md and docs/*.md, as the doc test sees them.
 *
 * Convention (README: Development): a ```ts block is a complete program, run as an ES module in
 * a fresh directory holding the fixture files (FIXTURES); `deltakit` and `deltakit/<sub>`
 * imports resolve to this repository's src/. A block that cannot run standalone (browser-only,
 * minutes of corpus synthesis or training, files the reader has) is marked ```ts no-run: it is
 * only checked to be valid TypeScript syntax.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface CodeBlock {
  /** e.g. README.md:28 (the line of the opening fence). */
  where: string;
  run: boolean;
  code: string;
}

/** Every fenced block whose info string starts with `ts` in README.md and docs/*.md. */
export function docCodeBlocks(): CodeBlock[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f))];
  const blocks: CodeBlock[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]!);
      if (!open) continue;
      const [, indent, lang, rest] = open;
      let j = i + 1;
      while (j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j]!)) j++;
      if (lang === 'ts' || lang === 'typescript') {
        blocks.push({ where: `${relative(ROOT, join(ROOT, file))}:${i + 1}`, run: !/\bno-run\b/.test(rest ?? ''), code: lines.slice(i + 1, j).map((l) => l.slice(indent!.length)).join('\n') });
      }
      i = j;
    }
  }
  return blocks;
}

/** `deltakit` and `deltakit/<sub>` imports pointed at src/ (the package's exports map, in source). */
export function resolveDeltakitImports(code: string): string {
  return code.replace(/(from\s+|import\s*\(\s*)(['"])deltakit(?:\/([a-z]+))?\2/g, (_m, pre: string, q: string, sub?: string) => {
    const target = join(ROOT, 'src', sub ? `${sub}/index.ts` : 'index.ts');
    return `${pre}${q}${pathToFileURL(target).href}${q}`;
  });
}

/** Files every runnable block finds in its working directory. */
export const FIXTURES: Record<string, string> = {
  'm.safetensors': join(ROOT, 'models', 'digits-deltagru.safetensors'),
  'm.onnx': join(ROOT, 'test', 'golden', 'cases', 'gru_l1_h8', 'model.onnx'),
  'gru.onnx': join(ROOT, 'test', 'golden', 'cases', 'gru_l1_h8', 'model.onnx'),
  'x.npy': join(ROOT, 'models', 'digits-heldout.npy'),
};
