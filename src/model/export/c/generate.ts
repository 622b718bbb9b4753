/**
 * C source generation for a lowered model: one header (API, state struct, sizes) and one source
 * file (gate tables, kernels, const weights, init/reset/step). Plain C99, no allocation, state
 * in one caller-owned struct.
 */
import { check } from '../../../core/errors.js';
import type { LoweredLinear, LoweredModel, LoweredRecurrent } from '../../../quant/lowering.js';
import { fixedKernels, floatKernels, selectKernels } from './kernels.js';
import { TANH_Q14, SIGMOID_Q14 } from './reference.js';

export interface CSources {
  /** C identifier prefix of every public symbol. */
  name: string;
  header: string;
  source: string;
}

/** A C identifier from a free-form name: lower case, [a-z0-9_], not starting with a digit. */
export function cIdentifier(name: string): string {
  let s = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (s === '') s = 'model';
  if (/^[0-9]/.test(s)) s = `m_${s}`;
  return s;
}

function intList(values: ArrayLike<number>, wrap: (v: number) => string = String): string {
  const out: string[] = [];
  let line: string[] = [];
  for (let i = 0; i < values.length; i++) {
    line.push(wrap(values[i]!));
    if (line.length === 16) {
      out.push('  ' + line.join(', '));
      line = [];
    }
  }
  if (line.length) out.push('  ' + line.join(', '));
  return out.join(',\n');
}

const floatLit = (v: number) => {
  const f = Math.fround(v);
  if (f === 0) return '0.0f';
  const t = f.toPrecision(9);
  return `${t.includes('e') || t.includes('.') ? t : t + '.0'}f`;
};

/** Column-major copy of a row-major (rows, cols) matrix: the delta kernels read one column at a time. */
function transpose(w: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(w.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) t[j * rows + r] = w[r * cols + j]!;
  return t;
}

/**
 * Generate the header and source of a lowered model.
 *
 * @example const { header, source } = generateC(lowerModel(model, { precision: 'q15' }), 'kws');
 */
export function generateC(low: LoweredModel, nameHint?: string): CSources {
  const name = cIdentifier(nameHint ?? low.name);
  const N = name.toUpperCase();
  const fixed = low.precision !== 'f32';
  const actC = !fixed ? 'float' : low.actBits === 16 ? 'int16_t' : 'int8_t';
  const wC = !fixed ? 'float' : low.weightBits === 16 ? 'int16_t' : 'int8_t';
  const accC = !fixed ? 'float' : low.accBits === 64 ? 'int64_t' : 'int32_t';
  const dC = fixed ? 'int32_t' : 'float';
  const cellC = fixed ? 'int32_t' : 'float';
  const wLit = fixed ? String : floatLit;
  const accLit = !fixed ? floatLit : low.accBits === 64 ? (v: number) => `INT64_C(${v})` : String;
  const L = low.layers.length;

  for (const l of low.layers) {
    const rows = l.kind === 'linear' ? l.outputSize : 4 * l.hiddenSize;
    check(rows <= 65535 && l.inputSize <= 65535, 'E_LIMIT', () => `C export: layer sizes must keep 4H and I within 65535, found ${l.kind} with ${rows} rows and ${l.inputSize} inputs`);
  }

  // --- header: the state struct ---
  const fields: string[] = [];
  let maxFired = 0;
  let maxLinear = 0;
  low.layers.forEach((l, k) => {
    if (l.kind === 'linear') {
      fields.push(`  /* layer ${k}: linear ${l.inputSize} -> ${l.outputSize}, activation ${l.activation} */`);
      fields.push(`  ${actC} y_${k}[${l.outputSize}];`);
      maxLinear = Math.max(maxLinear, l.outputSize);
      return;
    }
    const H = l.hiddenSize;
    fields.push(`  /* layer ${k}: ${l.kind} ${l.inputSize} -> ${H}${l.delta ? ', delta' : ''} */`);
    fields.push(`  ${actC} h_${k}[${H}];`);
    fields.push(`  ${accC} m_${k}[${4 * H}]; /* ${l.kind === 'gru' ? 'memories nx, r, z, nh' : 'memories i, f, g, o'} */`);
    if (l.kind === 'lstm') fields.push(`  ${cellC} c_${k}[${H}];${fixed ? ' /* Q14 */' : ''}`);
    if (!l.resetAfter) fields.push(`  ${actC} q_${k}[${H}]; /* reset-before GRU: r * h */`);
    if (l.delta) {
      fields.push(`  ${actC} x_prev_${k}[${l.inputSize}];`);
      fields.push(`  ${actC} h_prev_${k}[${H}];`);
      if (!l.resetAfter) fields.push(`  ${actC} q_prev_${k}[${H}];`);
      maxFired = Math.max(maxFired, l.inputSize, H);
    }
  });
  if (maxFired > 0) {
    fields.push('  /* scratch: fired indices and deltas of one vector */');
    fields.push(`  uint16_t fired_idx[${maxFired}];`);
    fields.push(`  ${dC} fired_d[${maxFired}];`);
  }
  if (maxLinear > 0) fields.push(`  ${accC} linear_acc[${maxLinear}]; /* scratch */`);
  fields.push(`  /* statistics of the last step (counted when ${N}_STATS is 1) */`);
  fields.push(`  uint32_t steps;`);
  fields.push(`  uint16_t fired_x[${L}];`);
  fields.push(`  uint16_t fired_h[${L}];`);
  fields.push(`  uint16_t fired_q[${L}]; /* reset-before GRU: fired r * h elements */`);

  const recurrentIdx = low.layers.flatMap((l, k) => (l.kind === 'linear' ? [] : [k]));
  const firedSum = recurrentIdx.length
    ? recurrentIdx.map((k) => `(uint32_t)(s)->fired_x[${k}] + (s)->fired_h[${k}]${(low.layers[k] as LoweredRecurrent).resetAfter ? '' : ` + (s)->fired_q[${k}]`}`).join(' + ')
    : '0u';
  const desc = low.layers.map((l) => (l.kind === 'linear' ? `linear ${l.outputSize}` : `${l.kind} ${l.hiddenSize}`)).join(', ');
  const numerics = fixed
    ? `${low.precision}: int${low.actBits} activations, int${low.weightBits} weights, int${low.accBits} accumulators`
    : 'f32: float throughout';
  const header = `/*
 * ${name}.h: generated by \`deltakit export c\` from model "${low.name}". Do not edit.
 * Layers: ${desc}. ${low.delta ? `Delta network: thresholds x ${low.thresholdX}, h ${low.thresholdH} (inclusive: |delta| >= threshold fires), bias convention ${low.biasConvention}.` : 'Dense network.'}
 * Numerics: ${numerics}.
 *
 * Usage: ${name}_state_t s; ${name}_init(&s); then per frame ${name}_step(&s, x, y);
 * ${name}_reset(&s) starts a new stream. No allocation; all weights are const (flash).
 */
#ifndef ${N}_H
#define ${N}_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ${N}_INPUT_SIZE ${low.inputSize}
#define ${N}_OUTPUT_SIZE ${low.outputSize}
#define ${N}_LAYERS ${L}
#define ${N}_DELTA ${low.delta ? 1 : 0}
#define ${N}_PRECISION "${low.precision}"
${fixed ? `/* Fixed point: an input code is round(x * 2^${N}_INPUT_FRAC); an output code means y * 2^-${N}_OUTPUT_FRAC. */
#define ${N}_INPUT_FRAC ${low.inputFrac}
#define ${N}_OUTPUT_FRAC ${low.outputFrac}
` : ''}
/* Statistics (fired columns per step) cost a few stores per step; build with -D${N}_STATS=0 to drop them. */
#ifndef ${N}_STATS
#define ${N}_STATS 1
#endif

typedef ${actC} ${name}_input_t;
typedef ${actC} ${name}_output_t;

/* The whole streaming state: sizeof(${name}_state_t) bytes, owned by the caller. */
typedef struct ${name}_state {
${fields.join('\n')}
} ${name}_state_t;

/* Set up a state (the same as reset). */
void ${name}_init(${name}_state_t *s);
/* Back to the initial state: h = 0, delta memories at the biases, statistics cleared. */
void ${name}_reset(${name}_state_t *s);
/* One time step: x holds ${N}_INPUT_SIZE values, y receives ${N}_OUTPUT_SIZE. */
void ${name}_step(${name}_state_t *s, const ${name}_input_t *x, ${name}_output_t *y);

/* Last step: fired input / hidden elements of a layer (dense layers: their full sizes); reset-before GRU: also fired r * h elements. */
#define ${N}_FIRED_X(s, layer) ((s)->fired_x[layer])
#define ${N}_FIRED_H(s, layer) ((s)->fired_h[layer])
#define ${N}_FIRED_Q(s, layer) ((s)->fired_q[layer])
/* Last step: weight columns read over all recurrent layers. */
#define ${N}_FIRED_COLUMNS(s) (${firedSum})
/* Steps since the last reset. */
#define ${N}_STEPS(s) ((s)->steps)
${fixed ? `
/* A real to an input code (round half away from zero, saturated). */
static inline ${name}_input_t ${name}_quantize(float x) {
  float v = x * (float)(1L << ${N}_INPUT_FRAC);
  v = v >= 0.0f ? v + 0.5f : v - 0.5f;
  return (${name}_input_t)(v >= ${2 ** (low.actBits - 1) - 1}.0f ? ${2 ** (low.actBits - 1) - 1} : v <= -${2 ** (low.actBits - 1)}.0f ? -${2 ** (low.actBits - 1)} : (int32_t)v);
}
/* An output code to a real. */
static inline float ${name}_dequantize(${name}_output_t y) { return (float)y / (float)(1L << ${N}_OUTPUT_FRAC); }
` : ''}
#ifdef __cplusplus
}
#endif

#endif /* ${N}_H */
`;

  // --- source ---
  const used = new Set<string>();
  for (const l of low.layers) {
    if (l.kind === 'linear') used.add('linear');
    else {
      used.add(l.kind === 'gru' && !l.resetAfter ? 'gru_before' : l.kind);
      if (!l.resetAfter) used.add('gru_q');
      used.add(l.delta ? 'encode' : 'matvec');
      if (l.delta) used.add('columns');
    }
  }
  const kernelText = fixed ? fixedKernels({ act: actC, w: wC, acc: accC, actBits: low.actBits }) : floatKernels();
  const { code: kernels, needs } = selectKernels(kernelText, [...used]);
  const tables: string[] = [];
  if (fixed && needs.has('tanh')) tables.push(`/* tanh((k - 1024) / 128) in Q2.14, k = 0..2047: the gate table of dk_tanh */\nstatic const int16_t dk_tanh_q14[2048] = {\n${intList(TANH_Q14)}\n};`);
  if (fixed && needs.has('sigtab')) tables.push(`/* sigmoid((k - 1024) / 64) in Q2.14 as (16385 + tanh entry k) >> 1, k = 0..2047: the gate table of dk_sigmoid */\nstatic const int16_t dk_sigmoid_q14[2048] = {\n${intList(SIGMOID_Q14)}\n};`);

  const data: string[] = [];
  const resetLines: string[] = [];
  const stepLines: string[] = [];
  let input = 'x';
  low.layers.forEach((l, k) => {
    if (l.kind === 'linear') {
      const ll = l as LoweredLinear;
      data.push(`/* layer ${k}: linear (${ll.outputSize}, ${ll.inputSize}) row-major${fixed ? `, weights Q${ll.wFrac}, bias Q${ll.accFrac}` : ''} */`);
      data.push(`static const w_t W${k}[${ll.w.length}] = {\n${intList(ll.w, wLit)}\n};`);
      data.push(`static const acc_t B${k}[${ll.outputSize}] = {\n${intList(ll.bias, accLit)}\n};`);
      const act = ll.activation === 'none' ? 0 : ll.activation === 'relu' ? 1 : 2;
      stepLines.push(`  /* layer ${k}: linear ${ll.inputSize} -> ${ll.outputSize} */`);
      stepLines.push(`  dk_linear(W${k}, B${k}, ${ll.outputSize}, ${ll.inputSize}, ${input}, s->y_${k}, s->linear_acc, ${act}, ${ll.accFrac}, ${ll.outputFrac});`);
      input = `s->y_${k}`;
      return;
    }
    const r = l as LoweredRecurrent;
    const H = r.hiddenSize;
    const I = r.inputSize;
    const rowsIh = r.wih.length / I;
    const before = !r.resetAfter;
    // Reset-before GRU: W_hh's r, z rows (WHH) multiply h; its n rows (WHN) multiply q = r * h.
    const rowsHh = before ? 2 * H : r.whh.length / H;
    const whh = before ? r.whh.subarray(0, 2 * H * H) : r.whh;
    const layout = r.delta ? 'column-major (one fired column is contiguous)' : 'row-major';
    const rowsNote = r.kind === 'gru' ? ['n, r, z', before ? 'r, z' : 'r, z, n'] : ['i, f, g, o', 'i, f, g, o'];
    data.push(`/* layer ${k}: ${r.kind}${before ? ' (reset-before)' : ''}, W_ih rows ${rowsNote[0]} (${rowsIh}, ${I}), ${layout}${fixed ? `, Q${r.wihFrac}` : ''} */`);
    data.push(`static const w_t WIH${k}[${r.wih.length}] = {\n${intList(r.delta ? transpose(r.wih, rowsIh, I) : r.wih, wLit)}\n};`);
    data.push(`/* layer ${k}: W_hh rows ${rowsNote[1]} (${rowsHh}, ${H}), ${layout}${fixed ? `, Q${r.whhFrac}` : ''} */`);
    data.push(`static const w_t WHH${k}[${whh.length}] = {\n${intList(r.delta ? transpose(whh, rowsHh, H) : whh, wLit)}\n};`);
    if (before) {
      const whn = r.whh.subarray(2 * H * H);
      data.push(`/* layer ${k}: W_hn (${H}, ${H}), multiplies q = r * h, ${layout}${fixed ? `, Q${r.whhFrac}` : ''} */`);
      data.push(`static const w_t WHN${k}[${whn.length}] = {\n${intList(r.delta ? transpose(whn, H, H) : whn, wLit)}\n};`);
    }
    const bias = r.delta ? r.deltaBias : r.denseBias;
    data.push(`/* layer ${k}: ${r.delta ? 'initial delta memories' : 'biases'} in memory order${fixed ? `, Q${r.accFrac}` : ''} */`);
    data.push(`static const acc_t B${k}[${4 * H}] = {\n${intList(bias, accLit)}\n};`);
    const thLit = fixed ? String : floatLit;
    stepLines.push(`  /* layer ${k}: ${r.kind}${before ? ' (reset-before)' : ''} ${I} -> ${H}${r.delta ? ', delta' : ''} */`);
    if (r.delta) {
      resetLines.push(`  memcpy(s->m_${k}, B${k}, sizeof s->m_${k});`);
      stepLines.push(`  n = dk_encode(${input}, s->x_prev_${k}, ${I}, ${thLit(r.thresholdX)}, s->fired_idx, s->fired_d);`);
      stepLines.push(`  dk_columns(WIH${k}, ${rowsIh}, s->fired_idx, s->fired_d, n, s->m_${k});`);
      stepLines.push(`#if ${N}_STATS\n  s->fired_x[${k}] = n;\n#endif`);
      stepLines.push(`  n = dk_encode(s->h_${k}, s->h_prev_${k}, ${H}, ${thLit(r.thresholdH)}, s->fired_idx, s->fired_d);`);
      stepLines.push(`  dk_columns(WHH${k}, ${rowsHh}, s->fired_idx, s->fired_d, n, s->m_${k}${r.hhOffset ? ` + ${r.hhOffset}` : ''});`);
      stepLines.push(`#if ${N}_STATS\n  s->fired_h[${k}] = n;\n#endif`);
      if (before) {
        stepLines.push(`  dk_gru_q(s->m_${k}, s->h_${k}, s->q_${k}, ${H}, ${r.accFrac});`);
        stepLines.push(`  n = dk_encode(s->q_${k}, s->q_prev_${k}, ${H}, ${thLit(r.thresholdH)}, s->fired_idx, s->fired_d);`);
        stepLines.push(`  dk_columns(WHN${k}, ${H}, s->fired_idx, s->fired_d, n, s->m_${k} + ${3 * H});`);
        stepLines.push(`#if ${N}_STATS\n  s->fired_q[${k}] = n;\n#endif`);
      }
    } else {
      stepLines.push(`  memcpy(s->m_${k}, B${k}, sizeof s->m_${k});`);
      stepLines.push(`  dk_matvec(WIH${k}, ${rowsIh}, ${I}, ${input}, s->m_${k});`);
      stepLines.push(`  dk_matvec(WHH${k}, ${rowsHh}, ${H}, s->h_${k}, s->m_${k}${r.hhOffset ? ` + ${r.hhOffset}` : ''});`);
      stepLines.push(`#if ${N}_STATS\n  s->fired_x[${k}] = ${I};\n  s->fired_h[${k}] = ${H};${before ? `\n  s->fired_q[${k}] = ${H};` : ''}\n#endif`);
      if (before) {
        stepLines.push(`  dk_gru_q(s->m_${k}, s->h_${k}, s->q_${k}, ${H}, ${r.accFrac});`);
        stepLines.push(`  dk_matvec(WHN${k}, ${H}, ${H}, s->q_${k}, s->m_${k} + ${3 * H});`);
      }
    }
    stepLines.push(
      r.kind === 'lstm'
        ? `  dk_lstm_units(s->m_${k}, s->h_${k}, s->c_${k}, ${H}, ${r.accFrac}, ${r.hiddenFrac});`
        : `  dk_${before ? 'gru_before' : 'gru'}_units(s->m_${k}, s->h_${k}, ${H}, ${r.accFrac}, ${r.hiddenFrac});`,
    );
    input = `s->h_${k}`;
  });
  const anyDelta = low.layers.some((l) => l.kind !== 'linear' && l.delta);
  const linearStats = low.layers.flatMap((l, k) => (l.kind === 'linear' ? [`  s->fired_x[${k}] = ${l.inputSize};`] : []));

  const source = `/*
 * ${name}.c: generated by \`deltakit export c\` from model "${low.name}". Do not edit.
 * ${numerics}. See ${name}.h for the API.
 */
#include <string.h>
${fixed ? '' : '#include <math.h>\n'}#include "${name}.h"

${fixed ? `/* The kernels need arithmetic right shifts of negative integers (implementation-defined in C99). */
typedef char dk_needs_arithmetic_shift[((-1) >> 1) == -1 ? 1 : -1];

` : ''}${tables.join('\n\n')}
${kernels}
${data.join('\n')}

void ${name}_reset(${name}_state_t *s) {
  memset(s, 0, sizeof *s);
${resetLines.join('\n')}
}

void ${name}_init(${name}_state_t *s) { ${name}_reset(s); }

void ${name}_step(${name}_state_t *s, const ${name}_input_t *x, ${name}_output_t *y) {
${anyDelta ? '  uint16_t n;\n' : ''}${stepLines.join('\n')}
  memcpy(y, ${input}, sizeof(act_t) * ${low.outputSize});
#if ${N}_STATS
${linearStats.join('\n')}${linearStats.length ? '\n' : ''}  s->steps++;
#endif
}
`;
  return { name, header, source };
}
