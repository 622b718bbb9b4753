// Fused gate activations: one pass from pre-activations to the new state, no temporaries.
// References: src/kernels/ref/gates.ts (gruGatesRef, lstmGatesRef, sruStepsRef, qrnnStepsRef).
// Gate blocks are Hp floats apart (Hp = H rounded up to 4), so every block is 16-byte aligned.

import { madd } from './fma';

import { vsigmoid, vtanh, ssigmoid, stanh } from './activations';

// GRU: gi = W_ih x + b_ih (or the delta memories of the input part), gh = W_hh h + b_hh;
// r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
// h = (1 - z) n + z h, written as n + z (h - n). h is updated in place.
export function gru_gates(gi: usize, gh: usize, h: usize, hp: i32): void {
  gruGates(gi, gh, h, hp, 0, false);
}

// One body for gru_gates and gru_gates_keep: KEEP is a constant at each inlined call, so the
// stores of z and n exist only in the keeping kernel.
@inline
function gruGates(gi: usize, gh: usize, h: usize, hp: i32, keep: usize, KEEP: bool): void {
  const blk = (<usize>hp) << 2;
  if (ASC_FEATURE_SIMD) {
    let o: usize = 0;
    // Two vectors of units per iteration: each gate's rational tanh is a chain of 11 dependent
    // multiply-adds and a division, and one vector per iteration left the core waiting on it
    // (Node 24, alone: 768 units 2.52 -> 2.20 us, 64 units 213 -> 184 ns; the chains written out
    // side by side by hand were 3 % faster, not worth a second copy of the tanh). Each element's
    // arithmetic is the tail's, so both give the same bits.
    for (; o + 32 <= blk; o += 32) {
      const o2 = o + 16;
      const r0 = vsigmoid(f32x4.add(v128.load(gi + o), v128.load(gh + o)));
      const r1 = vsigmoid(f32x4.add(v128.load(gi + o2), v128.load(gh + o2)));
      const z0 = vsigmoid(f32x4.add(v128.load(gi + blk + o), v128.load(gh + blk + o)));
      const z1 = vsigmoid(f32x4.add(v128.load(gi + blk + o2), v128.load(gh + blk + o2)));
      const n0 = vtanh(madd(r0, v128.load(gh + 2 * blk + o), v128.load(gi + 2 * blk + o)));
      const n1 = vtanh(madd(r1, v128.load(gh + 2 * blk + o2), v128.load(gi + 2 * blk + o2)));
      if (KEEP) {
        v128.store(keep + o, z0);
        v128.store(keep + o2, z1);
        v128.store(keep + blk + o, n0);
        v128.store(keep + blk + o2, n1);
      }
      v128.store(h + o, madd(z0, f32x4.sub(v128.load(h + o), n0), n0));
      v128.store(h + o2, madd(z1, f32x4.sub(v128.load(h + o2), n1), n1));
    }
    for (; o < blk; o += 16) {
      const r = vsigmoid(f32x4.add(v128.load(gi + o), v128.load(gh + o)));
      const z = vsigmoid(f32x4.add(v128.load(gi + blk + o), v128.load(gh + blk + o)));
      const n = vtanh(madd(r, v128.load(gh + 2 * blk + o), v128.load(gi + 2 * blk + o)));
      if (KEEP) {
        v128.store(keep + o, z);
        v128.store(keep + blk + o, n);
      }
      v128.store(h + o, madd(z, f32x4.sub(v128.load(h + o), n), n));
    }
  } else {
    for (let o: usize = 0; o < blk; o += 4) {
      const r = ssigmoid(load<f32>(gi + o) + load<f32>(gh + o));
      const z = ssigmoid(load<f32>(gi + blk + o) + load<f32>(gh + blk + o));
      const n = stanh(load<f32>(gi + 2 * blk + o) + r * load<f32>(gh + 2 * blk + o));
      if (KEEP) {
        store<f32>(keep + o, z);
        store<f32>(keep + blk + o, n);
      }
      store<f32>(h + o, n + z * (load<f32>(h + o) - n));
    }
  }
}

// LSTM, gates i, f, g, o of gi + gh: c = f c + i g, h = o tanh(c). c, h in place.
export function lstm_gates(gi: usize, gh: usize, c: usize, h: usize, hp: i32): void {
  lstmGates(gi, gh, c, h, hp, 0, false);
}

// One body for lstm_gates and lstm_gates_keep (KEEP constant at each inlined call).
@inline
function lstmGates(gi: usize, gh: usize, c: usize, h: usize, hp: i32, keep: usize, KEEP: bool): void {
  const blk = (<usize>hp) << 2;
  if (ASC_FEATURE_SIMD) {
    for (let o: usize = 0; o < blk; o += 16) {
      const i = vsigmoid(f32x4.add(v128.load(gi + o), v128.load(gh + o)));
      const f = vsigmoid(f32x4.add(v128.load(gi + blk + o), v128.load(gh + blk + o)));
      const g = vtanh(f32x4.add(v128.load(gi + 2 * blk + o), v128.load(gh + 2 * blk + o)));
      const og = vsigmoid(f32x4.add(v128.load(gi + 3 * blk + o), v128.load(gh + 3 * blk + o)));
      const ig = f32x4.mul(i, g);
      if (KEEP) {
        v128.store(keep + o, f);
        v128.store(keep + blk + o, ig);
        v128.store(keep + 2 * blk + o, og);
      }
      const cv = madd(f, v128.load(c + o), ig);
      v128.store(c + o, cv);
      v128.store(h + o, f32x4.mul(og, vtanh(cv)));
    }
  } else {
    for (let o: usize = 0; o < blk; o += 4) {
      const i = ssigmoid(load<f32>(gi + o) + load<f32>(gh + o));
      const f = ssigmoid(load<f32>(gi + blk + o) + load<f32>(gh + blk + o));
      const g = stanh(load<f32>(gi + 2 * blk + o) + load<f32>(gh + 2 * blk + o));
      const og = ssigmoid(load<f32>(gi + 3 * blk + o) + load<f32>(gh + 3 * blk + o));
      const ig = i * g;
      if (KEEP) {
        store<f32>(keep + o, f);
        store<f32>(keep + blk + o, ig);
        store<f32>(keep + 2 * blk + o, og);
      }
      const cv = f * load<f32>(c + o) + ig;
      store<f32>(c + o, cv);
      store<f32>(h + o, og * stanh(cv));
    }
  }
}

// SRU recurrence over T steps. u: T rows of ustride floats, blocks [xt | f | r | p?]
// (p only when the layer has a projection), b = [b_f | b_r] (2 Hp), x: T rows of xstride floats
// (the highway input when there is no projection), c: state (Hp), h: T rows of hstride floats.
// f = sigmoid(u_f + b_f), r = sigmoid(u_r + b_r), c = f c + (1 - f) xt, h = r tanh(c) + (1 - r) x'.
export function sru_steps(u: usize, ustride: i32, b: usize, x: usize, xstride: i32, proj: i32, c: usize, h: usize, hstride: i32, hp: i32, steps: i32): void {
  const blk = (<usize>hp) << 2;
  for (let t = 0; t < steps; t++) {
    const ut = u + <usize>t * ((<usize>ustride) << 2);
    const ht = h + <usize>t * ((<usize>hstride) << 2);
    const hw = proj ? ut + 3 * blk : x + <usize>t * ((<usize>xstride) << 2);
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1);
      for (let o: usize = 0; o < blk; o += 16) {
        const f = vsigmoid(f32x4.add(v128.load(ut + blk + o), v128.load(b + o)));
        const r = vsigmoid(f32x4.add(v128.load(ut + 2 * blk + o), v128.load(b + blk + o)));
        const cv = f32x4.add(f32x4.mul(f, v128.load(c + o)), f32x4.mul(f32x4.sub(one, f), v128.load(ut + o)));
        v128.store(c + o, cv);
        v128.store(ht + o, f32x4.add(f32x4.mul(r, vtanh(cv)), f32x4.mul(f32x4.sub(one, r), v128.load(hw + o))));
      }
    } else {
      for (let o: usize = 0; o < blk; o += 4) {
        const f = ssigmoid(load<f32>(ut + blk + o) + load<f32>(b + o));
        const r = ssigmoid(load<f32>(ut + 2 * blk + o) + load<f32>(b + blk + o));
        const cv = f * load<f32>(c + o) + (<f32>1 - f) * load<f32>(ut + o);
        store<f32>(c + o, cv);
        store<f32>(ht + o, r * stanh(cv) + (<f32>1 - r) * load<f32>(hw + o));
      }
    }
  }
}

// QRNN recurrence over T steps (PyTorch's cell definitions, the paper's form): u: T rows of ustride floats with
// blocks [Z | F | O] already including the bias; z = tanh, f, o = sigmoid, c = f c + (1 - f) z, h = o c.
export function qrnn_steps(u: usize, ustride: i32, c: usize, h: usize, hstride: i32, hp: i32, steps: i32): void {
  const blk = (<usize>hp) << 2;
  for (let t = 0; t < steps; t++) {
    const ut = u + <usize>t * ((<usize>ustride) << 2);
    const ht = h + <usize>t * ((<usize>hstride) << 2);
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1);
      for (let o: usize = 0; o < blk; o += 16) {
        const z = vtanh(v128.load(ut + o));
        const f = vsigmoid(v128.load(ut + blk + o));
        const og = vsigmoid(v128.load(ut + 2 * blk + o));
        const cv = f32x4.add(f32x4.mul(f, v128.load(c + o)), f32x4.mul(f32x4.sub(one, f), z));
        v128.store(c + o, cv);
        v128.store(ht + o, f32x4.mul(og, cv));
      }
    } else {
      for (let o: usize = 0; o < blk; o += 4) {
        const z = stanh(load<f32>(ut + o));
        const f = ssigmoid(load<f32>(ut + blk + o));
        const og = ssigmoid(load<f32>(ut + 2 * blk + o));
        const cv = f * load<f32>(c + o) + (<f32>1 - f) * z;
        store<f32>(c + o, cv);
        store<f32>(ht + o, og * cv);
      }
    }
  }
}

// Linear layer activation in place: kind 0 none, 1 relu, 2 tanh.
export function activate(y: usize, n: i32, kind: i32): void {
  if (kind == 0) return;
  const bytes = (<usize>n) << 2;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (let o: usize = 0; o < bytes; o += 16) {
      const v = v128.load(y + o);
      v128.store(y + o, kind == 1 ? f32x4.max(v, zero) : vtanh(v));
    }
  } else {
    for (let o: usize = 0; o < bytes; o += 4) {
      const v = load<f32>(y + o);
      store<f32>(y + o, kind == 1 ? (v > 0 ? v : <f32>0) : stanh(v));
    }
  }
}

// Delta layers: what the gate activations produced is kept, so a step where no column fired
// (the memories gi, gh did not change) recomputes only the state update, bit for bit the same as
// the full kernel: GRU keeps z and n (h = n + z (h - n)), LSTM keeps f, i g and o (c = f c + i g,
// h = o tanh(c)). keep: 2 (GRU) or 3 (LSTM) blocks of hp floats.
export function gru_gates_keep(gi: usize, gh: usize, h: usize, hp: i32, keep: usize): void {
  gruGates(gi, gh, h, hp, keep, true);
}

export function gru_blend(keep: usize, h: usize, hp: i32): void {
  const blk = (<usize>hp) << 2;
  if (ASC_FEATURE_SIMD) {
    for (let o: usize = 0; o < blk; o += 16) {
      const z = v128.load(keep + o);
      const n = v128.load(keep + blk + o);
      v128.store(h + o, madd(z, f32x4.sub(v128.load(h + o), n), n));
    }
  } else {
    for (let o: usize = 0; o < blk; o += 4) {
      const z = load<f32>(keep + o);
      const n = load<f32>(keep + blk + o);
      store<f32>(h + o, n + z * (load<f32>(h + o) - n));
    }
  }
}

export function lstm_gates_keep(gi: usize, gh: usize, c: usize, h: usize, hp: i32, keep: usize): void {
  lstmGates(gi, gh, c, h, hp, keep, true);
}

export function lstm_blend(keep: usize, c: usize, h: usize, hp: i32): void {
  const blk = (<usize>hp) << 2;
  if (ASC_FEATURE_SIMD) {
    for (let o: usize = 0; o < blk; o += 16) {
      const cv = madd(v128.load(keep + o), v128.load(c + o), v128.load(keep + blk + o));
      v128.store(c + o, cv);
      v128.store(h + o, f32x4.mul(v128.load(keep + 2 * blk + o), vtanh(cv)));
    }
  } else {
    for (let o: usize = 0; o < blk; o += 4) {
      const cv = load<f32>(keep + o) * load<f32>(c + o) + load<f32>(keep + blk + o);
      store<f32>(c + o, cv);
      store<f32>(h + o, load<f32>(keep + 2 * blk + o) * stanh(cv));
    }
  }
}
