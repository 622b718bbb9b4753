/**
 * Fixed point: formats as data, the quantiser with its calibration report, the EdgeDRNN
 * activation LUTs, the bit-exact EdgeDRNN DeltaGRU machine and its testbench/C-header export.
 *
 * @example
 * import { exportEdgeDrnn, verifyTestbench } from 'deltakit';
 * const exp = exportEdgeDrnn(model, { thresholdX: 0.0625, thresholdH: 0.0625 });
 * const r = verifyTestbench({ params, creg, stim, gold }); // r.matched === r.total
 */
export * from './format.js';
export * from './lut.js';
export * from './calibrate.js';
export * from './edgedrnn/hardware.js';
export * from './edgedrnn/machine.js';
export * from './edgedrnn/program.js';
export * from '../model/export/edgedrnn/text.js';
export * from '../model/export/edgedrnn/testbench.js';
export * from '../model/export/edgedrnn/cheader.js';
export * from '../model/export/edgedrnn/export.js';
export * from './lowering.js';
export * from '../model/export/c/index.js';
