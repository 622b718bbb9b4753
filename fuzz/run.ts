/**
 * `npm run fuzz -- [--format NAME|all] [--count N] [--seed S] [--time-cap MS] [--mem-cap MB]
 * [--save DIR] [--replay FILE]`: fuzz the file readers (see fuzz/formats.ts and
 * docs/model-files.md). Exit status 1 when any input ended in anything but a load or a coded error.
 */
import { readFileSync } from 'node:fs';
import { FUZZ_FORMATS } from './formats.js';
import { runFuzz, type FuzzReport } from './harness.js';

function parse(argv: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`fuzz: unexpected argument '${a}'`);
    o[a.slice(2)] = argv[i + 1] ?? '';
    i++;
  }
  return o;
}

function line(r: FuzzReport): string {
  const coded = Object.entries(r.coded).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  return `${r.format}: ${r.inputs} inputs (seed ${r.seed}) in ${r.seconds.toFixed(1)} s: ${r.ok} loaded, coded errors ${coded || 'none'}; failures ${r.failures.length}; slowest ${r.maxMs.toFixed(1)} ms (${r.maxMsBytes} bytes); worker peak ${r.maxRssMb.toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const names = !o['format'] || o['format'] === 'all' ? FUZZ_FORMATS.filter((f) => !f.hidden).map((f) => f.name) : o['format'].split(',');
  for (const n of names) if (!FUZZ_FORMATS.some((f) => f.name === n)) throw new Error(`fuzz: unknown format '${n}' (expected ${FUZZ_FORMATS.filter((f) => !f.hidden).map((f) => f.name).join(', ')} or all)`);
  const common = {
    ...(o['seed'] ? { seed: Number(o['seed']) } : {}),
    ...(o['time-cap'] ? { timeCapMs: Number(o['time-cap']) } : {}),
    ...(o['mem-cap'] ? { memCapMb: Number(o['mem-cap']) } : {}),
    saveDir: o['save'] ?? 'fuzz-failures',
  };
  let failed = 0;
  for (const format of names) {
    const tty = process.stderr.isTTY;
    const r = await runFuzz({
      format,
      ...common,
      ...(o['replay'] ? { inputs: [new Uint8Array(readFileSync(o['replay']))] } : { count: Number(o['count'] ?? 1000) }),
      ...(tty ? { onProgress: (d: number, t: number) => d % 100 === 0 && process.stderr.write(`\r${format}: ${d}/${t}`) } : {}),
    });
    if (tty) process.stderr.write('\r');
    console.log(line(r));
    for (const f of r.failures.slice(0, 20)) console.log(`  input ${f.index} (${f.bytes} bytes): ${f.kind}: ${f.detail.split('\n')[0]}${f.saved ? ` -> ${f.saved}` : ''}`);
    failed += r.failures.length;
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
