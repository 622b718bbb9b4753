/**
 * A literal, cycle-by-cycle model of one EdgeDRNN layer step, written after the structure of the
 * authors' RTL (slow, meant to be obviously right): the reference the event-driven engine
 * (src/sim/engine/edgedrnn.ts) is tested against. Registers change at the end of a cycle;
 * everything a cycle decides is computed from the registers at its start.
 *
 *  - Encoder: a nominal clock that advances in every cycle the value FIFO is not full (the whole
 *    encoder stands still while it is full). At nominal cycle 2 the bias entry, at 3 + k input k,
 *    at I + 5 + j hidden j; a fired element, or the last element of a part that did not fire (an
 *    empty entry), is written to the value FIFO (and a fired one also to the index FIFO).
 *  - FIFOs (value and index): a memory of `depth` entries and an output register; `full` and
 *    `empty` come from the registered count; the output register loads the memory's head when
 *    it is empty or when its entry is taken.
 *  - Weight generator: IDLE until the index FIFO's output is valid, then it loads the address and
 *    streams 3H/8 beats (one per cycle while the MAC takes them); it takes the index entry at the
 *    second-to-last beat, and at the last beat either loads the next address or goes IDLE.
 *  - MAC: an empty entry in the value register is taken at once (its one MAC cycle); a column
 *    takes one weight beat per cycle and is taken with its last beat.
 * The layer's last MAC cycle E is followed by the activation tail; the next layer starts at
 * E + 1 + 9 + 5H/8.
 */
export interface ClockedLayer {
  /** Padded input size and hidden size. */
  I: number;
  H: number;
  bias: boolean;
  firedX: Set<number>;
  firedH: Set<number>;
  queueDepth?: number;
}

interface Entry {
  id: number;
  weights: boolean;
}

class Fifo {
  mem: Entry[] = [];
  out: Entry | null = null;
  constructor(readonly depth: number) {}
  get full(): boolean {
    return this.mem.length === this.depth;
  }
}

export function clockedLayerCycles(l: ClockedLayer): number {
  const depth = l.queueDepth ?? 32;
  const beats = (3 * l.H) / 8;
  // Nominal queue cycle of every entry the encoder writes.
  const schedule = new Map<number, Entry>();
  let id = 0;
  if (l.bias) schedule.set(2, { id: id++, weights: true });
  for (let k = 0; k < l.I; k++) {
    if (l.firedX.has(k)) schedule.set(3 + k, { id: id++, weights: true });
    else if (k === l.I - 1) schedule.set(3 + k, { id: id++, weights: false });
  }
  for (let j = 0; j < l.H; j++) {
    if (l.firedH.has(j)) schedule.set(l.I + 5 + j, { id: id++, weights: true });
    else if (j === l.H - 1) schedule.set(l.I + 5 + j, { id: id++, weights: false });
  }
  const lastNominal = l.I + 5 + l.H - 1;
  const values = new Fifo(depth);
  const indices = new Fifo(depth);
  let nominal = 0;
  let gen: 'idle' | 'read' = 'idle';
  let genBeat = 0;
  let lastMac = -1;
  let taken = 0;
  for (let c = 0; ; c++) {
    // --- combinational decisions from the registers at the start of cycle c ---
    // MAC and weight generator.
    let popValue = false;
    let popIndex = false;
    let genNext: 'idle' | 'read' = gen;
    let genBeatNext = genBeat;
    const v = values.out;
    if (v && !v.weights) {
      popValue = true; // the empty entry's MAC cycle
      lastMac = c;
    }
    if (gen === 'idle') {
      if (indices.out) {
        genNext = 'read';
        genBeatNext = 0;
      }
    } else {
      const handshake = v !== null && v.weights; // the beat is valid; the MAC takes it with a column's value
      if (handshake) {
        lastMac = c;
        if (genBeat === beats - 2) popIndex = true;
        if (genBeat === beats - 1) {
          popValue = true;
          // The index register already holds the next column's address if it was queued in time.
          if (indices.out) {
            genBeatNext = 0;
          } else {
            genNext = 'idle';
          }
        } else {
          genBeatNext = genBeat + 1;
        }
      }
    }
    // Encoder.
    let write: Entry | null = null;
    const advance = !values.full;
    if (advance) write = schedule.get(nominal) ?? null;
    // --- registers update at the end of cycle c ---
    for (const [f, pop] of [
      [values, popValue],
      [indices, popIndex],
    ] as const) {
      const hadMem = f.mem.length > 0;
      if ((pop && hadMem) || (f.out === null && hadMem)) f.out = f.mem.shift()!;
      else if (pop) f.out = null;
    }
    if (popValue) taken++;
    if (write) {
      values.mem.push(write);
      if (write.weights) indices.mem.push(write);
    }
    gen = genNext;
    genBeat = genBeatNext;
    if (advance) nominal++;
    if (nominal > lastNominal && taken === id && values.out === null) break;
    if (c > 1e8) throw new Error('clocked model did not finish');
  }
  return lastMac + 1 + 9 + (5 * l.H) / 8;
}
