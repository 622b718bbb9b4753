/** Every subpath export and the bin entry point at a module that exists in src/. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};
const toSource = (distPath: string) => join(root, distPath.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));

describe('package.json', () => {
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    it(`export ${sub} -> ${target.default}`, async () => {
      expect(target.types.replace(/\.d\.ts$/, '.js')).toBe(target.default);
      expect(existsSync(toSource(target.default))).toBe(true);
      const mod = (await import(toSource(target.default))) as Record<string, unknown>;
      expect(Object.keys(mod).length).toBeGreaterThan(0);
    });
  }
  it('bin deltakit points at the CLI', () => {
    expect(existsSync(toSource(pkg.bin.deltakit!))).toBe(true);
  });
});
