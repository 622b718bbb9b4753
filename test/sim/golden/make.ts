/** Regenerate expected.json (run after an intended change of a cycle model, and review the diff). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES, digest } from './cases.js';

const out = Object.fromEntries(CASES.map((c) => [c.name, digest(c.run())]));
writeFileSync(fileURLToPath(new URL('./expected.json', import.meta.url)), JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${CASES.length} golden cases`);
