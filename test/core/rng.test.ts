import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';

describe('Rng.shuffle', () => {
  it('is a permutation drawn as Fisher-Yates from the end, one int draw per position (splits and streams depend on it)', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const got = new Rng(7).shuffle([...a]);
    const draws = new Rng(7);
    const want = [...a];
    for (let i = want.length - 1; i > 0; i--) {
      const j = draws.int(i + 1);
      [want[i], want[j]] = [want[j]!, want[i]!];
    }
    expect(got).toEqual(want);
    expect([...got].sort((x, y) => x - y)).toEqual(a);
    expect(got).not.toEqual(a);
  });

  it('shuffles in place and leaves short arrays alone', () => {
    const a = [3, 1, 2];
    expect(new Rng(1).shuffle(a)).toBe(a);
    expect(new Rng(1).shuffle([5])).toEqual([5]);
    expect(new Rng(1).shuffle([])).toEqual([]);
  });
});
