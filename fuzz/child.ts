/**
 * The fuzz worker process: runs one format's loader on each input the parent sends and says how
 * it ended. The parent enforces the time and memory caps (it kills this process), so a hang or
 * a runaway allocation ends here without taking the harness down.
 */
import { DeltakitError } from '../src/core/errors.js';
import { fuzzFormat } from './formats.js';

export type ChildRequest = { index: number; format: string; bytes: Uint8Array };
export type ChildReply =
  | { index: number; outcome: 'ok'; ms: number; rss: number }
  | { index: number; outcome: 'coded'; code: string; ms: number; rss: number }
  | { index: number; outcome: 'bug'; error: string; ms: number; rss: number };

process.on('message', (req: ChildRequest) => {
  const f = fuzzFormat(req.format);
  const t0 = performance.now();
  let reply: ChildReply;
  try {
    if (!f) throw new Error(`fuzz: unknown format ${req.format}`);
    f.decode(req.bytes);
    reply = { index: req.index, outcome: 'ok', ms: performance.now() - t0, rss: process.memoryUsage.rss() };
  } catch (e) {
    const ms = performance.now() - t0;
    const rss = process.memoryUsage.rss();
    reply = e instanceof DeltakitError ? { index: req.index, outcome: 'coded', code: e.code, ms, rss } : { index: req.index, outcome: 'bug', error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 6).join('\n')}` : String(e), ms, rss };
  }
  process.send!(reply);
});
process.send!({ ready: true });
