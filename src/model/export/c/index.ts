/** The C export: lowering, generated library, its TypeScript reference, board files. */
export { exportC, writeCExport, type CExport, type CExportOptions } from './export.js';
export { generateC, cIdentifier, type CSources } from './generate.js';
export { createCReference, quantizeCInput, dequantizeCOutput, TANH_Q14, tanhAcc, sigmoidAcc, type CReference } from './reference.js';
export { boardFiles, BOARDS, BOARD_INFO, type Board, type BoardInfo } from './boards.js';
