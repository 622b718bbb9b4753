/**
 * Build and run generated C libraries in tests: on the host (gcc) and on Cortex-M under
 * qemu-system-arm (arm-none-eabi-gcc + newlib rdimon semihosting).
 *
 * Tools are Debian packages (.ci/run installs them). A test needing a missing tool fails when
 * CI=true and skips locally (see `needTool`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOARD_INFO, boardFiles, type Board } from '../../src/model/export/c/boards.js';
import type { CSources } from '../../src/model/export/c/generate.js';

export const STRICT_FLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic'];

export function hasTool(name: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** In CI a missing tool is a failure; locally the test is skipped. Returns whether to run. */
export function needTool(...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`CI needs ${missing.join(', ')} (installed by .ci/run)`);
  return false;
}

/**
 * The test program: steps every frame of in.bin and writes out.bin (all outputs, then the fired
 * columns of each step as uint32). `batch`: reads all frames first and writes everything at the
 * end, so the steps are the only per-step work (instruction counts); otherwise it streams frame
 * by frame in constant memory (the 16 kB micro:bit).
 */
export function harnessSource(name: string, maxSteps: number, batch: boolean): string {
  const N = name.toUpperCase();
  const I = `${N}_INPUT_SIZE`;
  const O = `${N}_OUTPUT_SIZE`;
  const common = `#include <stdio.h>
#include <stdint.h>
#include "${name}.h"
static ${name}_state_t st;
`;
  if (batch) {
    return `${common}static ${name}_input_t xin[${maxSteps} * ${I}];
static ${name}_output_t yout[${maxSteps} * ${O}];
static uint32_t fired[${maxSteps}];
int main(void) {
  size_t n, t;
  FILE *f = fopen("in.bin", "rb");
  if (!f) return 2;
  setvbuf(f, NULL, _IONBF, 0);
  n = fread(xin, sizeof(${name}_input_t) * ${I}, ${maxSteps}, f);
  fclose(f);
  ${name}_init(&st);
  for (t = 0; t < n; t++) {
    ${name}_step(&st, xin + t * ${I}, yout + t * ${O});
    fired[t] = ${N}_FIRED_COLUMNS(&st);
  }
  f = fopen("out.bin", "wb");
  if (!f) return 3;
  setvbuf(f, NULL, _IONBF, 0);
  if (n > 0 && fwrite(yout, sizeof(${name}_output_t) * ${O}, n, f) != n) return 4;
  if (n > 0 && fwrite(fired, sizeof(uint32_t), n, f) != n) return 5;
  fclose(f);
  return ${N}_STEPS(&st) == n ? 0 : 6;
}
`;
  }
  return `${common}static ${name}_input_t x[${I}];
static ${name}_output_t y[${O}];
int main(void) {
  uint32_t n = 0, fired;
  FILE *in = fopen("in.bin", "rb");
  FILE *out = fopen("out.bin", "wb");
  FILE *fo = fopen("fired.bin", "wb");
  if (!in || !out || !fo) return 2;
  setvbuf(in, NULL, _IONBF, 0);
  setvbuf(out, NULL, _IONBF, 0);
  setvbuf(fo, NULL, _IONBF, 0);
  ${name}_init(&st);
  while (fread(x, sizeof x, 1, in) == 1) {
    ${name}_step(&st, x, y);
    fired = ${N}_FIRED_COLUMNS(&st);
    if (fwrite(y, sizeof y, 1, out) != 1 || fwrite(&fired, sizeof fired, 1, fo) != 1) return 4;
    n++;
  }
  fclose(in);
  fclose(out);
  fclose(fo);
  return ${N}_STEPS(&st) == n ? 0 : 6;
}
`;
}

export interface BuiltProgram {
  dir: string;
  /** Host: the executable; board: the ELF. */
  binary: string;
  board?: Board;
  batch: boolean;
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/** Write the library and harness into a fresh directory and build for the host or a board. */
export function buildProgram(src: CSources, opts: { board?: Board; maxSteps: number; batch?: boolean; sanitize?: boolean; extraFlags?: string[] }): BuiltProgram {
  const dir = mkdtempSync(join(tmpdir(), 'dk-c-'));
  writeFileSync(join(dir, `${src.name}.h`), src.header);
  writeFileSync(join(dir, `${src.name}.c`), src.source);
  writeFileSync(join(dir, 'main.c'), harnessSource(src.name, opts.maxSteps, opts.batch ?? true));
  const libObj = [`${src.name}.c`];
  if (!opts.board) {
    const san = opts.sanitize ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-g'] : [];
    run('gcc', [...STRICT_FLAGS, '-O2', ...san, '-c', `${src.name}.c`, '-o', 'lib.o'], dir);
    run('gcc', ['-std=c99', '-O2', ...san, 'main.c', 'lib.o', '-o', 'prog', '-lm'], dir);
    return { dir, binary: join(dir, 'prog'), batch: opts.batch ?? true };
  }
  const info = BOARD_INFO[opts.board];
  for (const [n, text] of Object.entries(boardFiles(opts.board))) writeFileSync(join(dir, n), text);
  const cc = 'arm-none-eabi-gcc';
  const base = [...info.cflags, '-O2', ...(opts.extraFlags ?? [])];
  run(cc, [...base, ...STRICT_FLAGS, '-c', libObj[0]!, '-o', 'lib.o'], dir);
  run(cc, [...base, '-std=c99', '-c', 'main.c', '-o', 'main.o'], dir);
  run(cc, [...base, '-std=gnu99', '-c', `startup_${opts.board.replace(/-/g, '_')}.c`, '-o', 'startup.o'], dir);
  run(cc, [...base, '--specs=rdimon.specs', '-T', `${opts.board}.ld`, 'startup.o', 'main.o', 'lib.o', '-lm', '-o', 'prog.elf'], dir);
  return { dir, binary: join(dir, 'prog.elf'), board: opts.board, batch: opts.batch ?? true };
}

/** Address range [start, end) of a function symbol of an ELF (arm-none-eabi-nm). */
export function symbolRange(elf: string, name: string): [number, number] | undefined {
  const r = spawnSync('arm-none-eabi-nm', ['-S', elf], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const [addr, size, , sym] = line.trim().split(/\s+/);
    if (sym === name && size) {
      const a = parseInt(addr!, 16) & ~1;
      return [a, a + parseInt(size, 16)];
    }
  }
  return undefined;
}

export const QEMU_PLUGIN_SOURCE = join(import.meta.dirname, 'qemu-insn-plugin.c');

/** Build the instruction-counting qemu plugin once (host gcc, shared object). */
export function buildInsnPlugin(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dk-plugin-'));
  const so = join(dir, 'libinsn.so');
  run('gcc', ['-shared', '-fPIC', '-O2', '-o', so, QEMU_PLUGIN_SOURCE], dir);
  return so;
}

export interface RunResult {
  outputs: Buffer;
  fired: Uint32Array;
  /** Executed guest instructions (only with a plugin, under qemu). */
  instructions?: number;
  /** Of those, the ones inside the plugin's address range. */
  inRange?: number;
}

/** Run a built program on `input` (raw frames); returns its raw outputs and fired columns per step. */
export function runProgram(p: BuiltProgram, input: Uint8Array, steps: number, outBytesPerStep: number, plugin?: string, range?: [number, number]): RunResult {
  writeFileSync(join(p.dir, 'in.bin'), input);
  const countFile = join(p.dir, 'count.txt');
  let r;
  if (!p.board) {
    r = spawnSync(p.binary, [], { cwd: p.dir, encoding: 'utf8', timeout: 120_000 });
  } else {
    const info = BOARD_INFO[p.board];
    const args = ['-M', info.qemuMachine, '-cpu', info.qemuCpu, '-nographic', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native', '-kernel', p.binary];
    if (plugin) args.push('-plugin', `${plugin},out=${countFile}${range ? `,range=${range[0].toString(16)}-${range[1].toString(16)}` : ''}`);
    r = spawnSync('qemu-system-arm', args, { cwd: p.dir, encoding: 'utf8', timeout: 300_000 });
  }
  if (r.status !== 0) throw new Error(`${p.binary} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  let out = readFileSync(join(p.dir, 'out.bin'));
  if (!p.batch) out = Buffer.concat([out, readFileSync(join(p.dir, 'fired.bin'))]);
  const yBytes = steps * outBytesPerStep;
  if (out.length !== yBytes + 4 * steps) throw new Error(`out.bin: expected ${yBytes + 4 * steps} bytes, found ${out.length}`);
  const fired = new Uint32Array(out.buffer.slice(out.byteOffset + yBytes, out.byteOffset + out.length));
  const res: RunResult = { outputs: out.subarray(0, yBytes), fired };
  if (plugin && existsSync(countFile)) {
    const [total, inRange] = readFileSync(countFile, 'utf8').trim().split(/\s+/).map(Number);
    res.instructions = total!;
    res.inRange = inRange!;
  }
  return res;
}
