/** The C export: lowering, generated library, its TypeScript reference, board files. */
export { exportC, writeCExport, type CExport, type CExportOptions } from './export.js';
export { generateC, cIdentifier, type CSources } from './generate.js';
export { createCReference, quantizeCInput, dequantizeCOutput, SIGMOID_Q14, TANH_Q14, type CReference } from './reference.js';
export { boardFiles, BOARDS, BOARD_INFO, type Board, type BoardInfo } from './boards.js';
