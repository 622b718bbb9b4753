/**
 * A literal, cycle-by-cycle model of one EdgeDRNN layer step (slow, written to be obviously
 * right): the reference the event-driven engine (src/sim/engine/edgedrnn.ts) is tested against.
 *
 * Every cycle, in this order:
 *  1. MAC: if it holds a column with beats left, one beat issues; after its last beat the column
 *     leaves the queue (its slot frees this cycle). If it holds nothing, it takes the queue's head
 *     once 2 cycles have passed since the head was queued, and issues its first beat.
 *  2. Encoder: when its next element is due, it looks at it; an element that fired (or the last
 *     element of a part that did not: an empty 1-beat entry) needs a free slot, otherwise the
 *     encoder waits a cycle and everything after it moves by one.
 * The layer's MAC phase ends at the cycle of the last issued beat; the activation tail follows.
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

export function clockedLayerCycles(l: ClockedLayer): number {
  const Q = l.queueDepth ?? 32;
  const beatsPerColumn = (3 * l.H) / 8;
  // The encoder's elements in order, with the idle cycles before each and whether it queues.
  const elements: Array<{ idleBefore: number; queues: boolean; beats: number }> = [];
  elements.push({ idleBefore: 2, queues: l.bias, beats: beatsPerColumn });
  for (let k = 0; k < l.I; k++) {
    const fired = l.firedX.has(k);
    elements.push({ idleBefore: 0, queues: fired || k === l.I - 1, beats: fired ? beatsPerColumn : 1 });
  }
  for (let j = 0; j < l.H; j++) {
    const fired = l.firedH.has(j);
    elements.push({ idleBefore: j === 0 ? 2 : 0, queues: fired || j === l.H - 1, beats: fired ? beatsPerColumn : 1 });
  }
  const queue: Array<{ queuedAt: number; beatsLeft: number }> = [];
  let macBusy = false;
  let lastBeat = -1;
  let next = 0; // next element index
  let dueAt = elements[0]!.idleBefore; // cycle the next element is looked at
  for (let c = 0; ; c++) {
    // 1. MAC
    if (!macBusy && queue.length > 0 && c >= queue[0]!.queuedAt + 2) macBusy = true;
    if (macBusy) {
      const head = queue[0]!;
      head.beatsLeft--;
      lastBeat = c;
      if (head.beatsLeft === 0) {
        queue.shift();
        macBusy = false;
      }
    }
    // 2. Encoder
    if (next < elements.length && c >= dueAt) {
      const e = elements[next]!;
      let advance = true;
      if (e.queues) {
        if (queue.length < Q) queue.push({ queuedAt: c, beatsLeft: e.beats });
        else advance = false;
      }
      if (advance) {
        next++;
        if (next < elements.length) dueAt = c + 1 + elements[next]!.idleBefore;
      } else {
        dueAt = c + 1;
      }
    }
    if (next >= elements.length && queue.length === 0) break;
    if (c > 1e8) throw new Error('clocked model did not finish');
  }
  return lastBeat + 9 + (5 * l.H) / 8;
}
