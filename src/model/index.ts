/** Models: in-memory types, the deltakit file format, safetensors, importers, load/save. */
export * from './types.js';
export * from './safetensors.js';
export * from './format.js';
export * from './io.js';
export { importPytorchStateDict, type PytorchImportOptions } from './import/pytorch.js';
export { importOnnx, decodeOnnx, type OnnxImportOptions } from './import/onnx.js';
export * from './random.js';
export * from './summary.js';
export { importKeras3, importKerasH5 } from './import/keras/keras.js';
export { modelFromKeras, type KerasImport, type KerasTensor, type KerasWeightsOf } from './import/keras/layers.js';
export { importTfjsLayers, type ShardReader } from './import/tfjs.js';
export { exportOnnx, type OnnxExport, type OnnxExportOptions, type OnnxStateIo } from './export/onnx/export.js';
