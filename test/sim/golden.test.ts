/**
 * Golden timing results: every engine on fixed workloads, compared exactly with
 * test/sim/golden/expected.json (regenerated only on purpose by test/sim/golden/make.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CASES, digest } from './golden/cases.js';

const expected = JSON.parse(readFileSync(new URL('./golden/expected.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('golden simulation results', () => {
  it('covers every case', () => {
    expect(Object.keys(expected).sort()).toEqual(CASES.map((c) => c.name).sort());
  });
  for (const c of CASES) {
    it(c.name, () => {
      expect(digest(c.run())).toEqual(expected[c.name]);
    });
  }
});
