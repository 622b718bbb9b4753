import type { ArchName } from '../spec/params.js';
import { deltarnnEngine, spartusEngine } from './columns.js';
import { edgedrnnEngine } from './edgedrnn.js';
import { rnnaccelEngine } from './rnnaccel.js';
import type { Engine } from './types.js';

export * from './types.js';
export { columnEngine, deltarnnEngine, spartusEngine } from './columns.js';
export { edgedrnnEngine } from './edgedrnn.js';
export { codecBits, rnnaccelEngine } from './rnnaccel.js';

/** One cycle engine per accelerator. */
export const ENGINES: Record<ArchName, Engine> = {
  deltarnn: deltarnnEngine,
  edgedrnn: edgedrnnEngine,
  spartus: spartusEngine,
  rnnaccel: rnnaccelEngine,
};
