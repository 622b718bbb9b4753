/**
 * The fuzz harness: mutated inputs of one format go, one at a time, to a worker process that
 * runs the loader; each input has a time cap (the worker is killed and restarted when it does
 * not answer in time) and a memory cap (the worker's resident memory is polled; over the cap it
 * is killed). Outcomes: ok (loaded), coded (a DeltakitError: the expected rejection), bug (any
 * other exception), hang, oom. Every non-passing input is saved for replay.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildReply } from './child.js';
import { fuzzFormat } from './formats.js';
import { fuzzInput } from './mutate.js';

export interface FuzzOptions {
  format: string;
  /** Inputs to generate (ignored when `inputs` is given). */
  count?: number;
  seed?: number;
  /** Per-input wall-time cap, ms. */
  timeCapMs?: number;
  /** Cap on the worker's resident memory, MB (its baseline, ~150 MB, included). */
  memCapMb?: number;
  /** Run exactly these inputs instead of generated ones. */
  inputs?: Uint8Array[];
  /** Directory for failing inputs (default: none saved). */
  saveDir?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface FuzzFailure {
  index: number;
  kind: 'bug' | 'hang' | 'oom';
  detail: string;
  bytes: number;
  saved?: string;
}

export interface FuzzReport {
  format: string;
  seed: number;
  inputs: number;
  ok: number;
  coded: Record<string, number>;
  failures: FuzzFailure[];
  /** Slowest input that finished, ms, and its size. */
  maxMs: number;
  maxMsBytes: number;
  /** Largest worker resident memory seen, MB. */
  maxRssMb: number;
  seconds: number;
}

const CHILD = join(import.meta.dirname, 'child.ts');

/** Resident memory of a process in bytes (Linux /proc; null elsewhere, where the cap is not enforced). */
function rssBytes(pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return null;
  }
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const format = fuzzFormat(o.format);
  if (!format) throw new Error(`fuzz: unknown format '${o.format}'`);
  const seed = o.seed ?? 1;
  const timeCap = o.timeCapMs ?? 2000;
  const memCap = (o.memCapMb ?? 1024) * 2 ** 20;
  const seeds = o.inputs ? [] : format.seeds();
  const total = o.inputs ? o.inputs.length : (o.count ?? 1000);
  const input = (i: number) => (o.inputs ? o.inputs[i]! : fuzzInput(seed, i, seeds));
  const report: FuzzReport = { format: format.name, seed, inputs: 0, ok: 0, coded: {}, failures: [], maxMs: 0, maxMsBytes: 0, maxRssMb: 0, seconds: 0 };
  const t0 = performance.now();

  let child: ChildProcess | null = null;
  let pending: ((r: ChildReply | { outcome: 'exit' }) => void) | null = null;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = fork(CHILD, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      child = c;
      c.stderr?.resume();
      c.once('message', () => resolve());
      c.on('message', (m: ChildReply | { ready: true }) => {
        if ('index' in m) pending?.(m);
      });
      c.once('exit', () => {
        if (child === c) child = null;
        pending?.({ outcome: 'exit' });
      });
      c.once('error', reject);
    });
  const kill = () => {
    const c = child;
    child = null;
    c?.kill('SIGKILL');
  };

  const save = (index: number, bytes: Uint8Array, kind: string): string | undefined => {
    if (!o.saveDir) return undefined;
    mkdirSync(o.saveDir, { recursive: true });
    const p = join(o.saveDir, `${format.name}-seed${seed}-${index}-${kind}.bin`);
    writeFileSync(p, bytes);
    return p;
  };

  try {
    for (let i = 0; i < total; i++) {
      if (!child) await start();
      const bytes = input(i);
      const c = child!;
      let over = null as 'hang' | 'oom' | null;
      const outcome = await new Promise<ChildReply | { outcome: 'exit' }>((resolve) => {
        pending = resolve;
        const timer = setTimeout(() => {
          over = 'hang';
          kill();
        }, timeCap);
        const poll = setInterval(() => {
          const rss = rssBytes(c.pid!);
          if (rss !== null) {
            report.maxRssMb = Math.max(report.maxRssMb, rss / 2 ** 20);
            if (rss > memCap) {
              over = 'oom';
              kill();
            }
          }
        }, 20);
        pending = (r) => {
          clearTimeout(timer);
          clearInterval(poll);
          pending = null;
          resolve(r);
        };
        c.send({ index: i, format: format.name, bytes });
      });
      report.inputs++;
      if ('rss' in outcome) report.maxRssMb = Math.max(report.maxRssMb, outcome.rss / 2 ** 20);
      if (outcome.outcome === 'ok' || outcome.outcome === 'coded') {
        if (outcome.ms > report.maxMs) {
          report.maxMs = outcome.ms;
          report.maxMsBytes = bytes.length;
        }
        if (outcome.outcome === 'ok') report.ok++;
        else report.coded[outcome.code] = (report.coded[outcome.code] ?? 0) + 1;
      } else if (outcome.outcome === 'bug') {
        report.failures.push({ index: i, kind: 'bug', detail: outcome.error, bytes: bytes.length, ...(o.saveDir ? { saved: save(i, bytes, 'bug')! } : {}) });
      } else {
        const kind = over ?? 'bug';
        const detail = kind === 'hang' ? `no answer within ${timeCap} ms` : kind === 'oom' ? `resident memory over ${o.memCapMb ?? 1024} MB` : 'the worker exited';
        report.failures.push({ index: i, kind, detail, bytes: bytes.length, ...(o.saveDir ? { saved: save(i, bytes, kind)! } : {}) });
      }
      o.onProgress?.(i + 1, total);
    }
  } finally {
    kill();
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}
