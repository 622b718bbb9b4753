/**
 * The benchmark suites `npm run bench` runs, in this order. Each suite lives in its own file in
 * this folder; add yours by importing it here and appending it to SUITES (no import side effects:
 * a suite does nothing until run() is called).
 */
import type { BenchSuite } from '../types.js';
import { gruStepSuite } from './gru-step.js';
import { deltaSuite } from './delta.js';
import { sruSuite } from './sru.js';
import { simSuite } from './sim.js';
import { trainSuite } from './train.js';
import { mcuSuite } from './mcu.js';
import { kernelsSuite } from './kernels.js';
import { listenSuite } from './listen.js';

export const SUITES: BenchSuite[] = [gruStepSuite, kernelsSuite, deltaSuite, sruSuite, simSuite, trainSuite, mcuSuite, listenSuite];
