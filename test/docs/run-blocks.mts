/**
 * Runs doc code blocks one after another in this process (started with `--import tsx`): each in
 * a fresh directory with the fixtures, as an ES module. Writes {where: error | null} to the
 * results file. Usage: run-blocks.mts MANIFEST.json RESULTS.json
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [manifestPath, resultsPath] = process.argv.slice(2) as [string, string];
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dir: string; fixtures: Record<string, string>; blocks: Array<{ where: string; file: string }> };
const results: Record<string, string | null> = {};
for (const [i, b] of manifest.blocks.entries()) {
  const cwd = join(manifest.dir, `run-${i}`);
  mkdirSync(cwd, { recursive: true });
  for (const [name, src] of Object.entries(manifest.fixtures)) copyFileSync(src, join(cwd, name));
  process.chdir(cwd);
  try {
    await import(pathToFileURL(b.file).href);
    results[b.where] = null;
  } catch (e) {
    results[b.where] = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  writeFileSync(resultsPath, JSON.stringify(results));
}
writeFileSync(resultsPath, JSON.stringify(results));
// Blocks may leave timers or worker threads; the results are written, so end here.
process.exit(0);
