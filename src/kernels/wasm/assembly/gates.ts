// Fused gate activations: one pass from pre-activations to the new state, no temporaries.
// References: src/kernels/ref/gates.ts (gruGatesRef, lstmGatesRef, sruStepsRef, qrnnStepsRef).
// Gate blocks are Hp floats apart (Hp = H rounded up to 4), so every block is 16-byte aligned.

import { madd } from './fma';

import { vsigmoid, vtanh, ssigmoid, stanh, k } from './activations';

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
    // Two vectors of units per iteration, their rational tanh chains written side by side: the
    // chain of one gate is 11 dependent multiply-adds and a division, so a loop of one vector
    // per iteration is bound by latency, not throughput (Node 24, alone, load ~3 on 2 cores:
    // 768 units 2.52 -> 2.13 us, 64 units 213 -> 180 ns). Each element's arithmetic is the same
    // as the one-vector tail's, so both give the same bits.
    const hh = k(208);
    for (; o + 32 <= blk; o += 32) {
      let ra = f32x4.mul(f32x4.add(v128.load(gi + o), v128.load(gh + o)), hh);
      let rb = f32x4.mul(f32x4.add(v128.load(gi + o + 16), v128.load(gh + o + 16)), hh);
      let za = f32x4.mul(f32x4.add(v128.load(gi + blk + o), v128.load(gh + blk + o)), hh);
      let zb = f32x4.mul(f32x4.add(v128.load(gi + blk + o + 16), v128.load(gh + blk + o + 16)), hh);
      ra = f32x4.pmin(f32x4.pmax(ra, k(0)), k(16));
      rb = f32x4.pmin(f32x4.pmax(rb, k(0)), k(16));
      za = f32x4.pmin(f32x4.pmax(za, k(0)), k(16));
      zb = f32x4.pmin(f32x4.pmax(zb, k(0)), k(16));
      const ra2 = f32x4.mul(ra, ra);
      const rb2 = f32x4.mul(rb, rb);
      const za2 = f32x4.mul(za, za);
      const zb2 = f32x4.mul(zb, zb);
      let rap = madd(ra2, k(32), k(48));
      let rbp = madd(rb2, k(32), k(48));
      let zap = madd(za2, k(32), k(48));
      let zbp = madd(zb2, k(32), k(48));
      let raq = madd(ra2, k(144), k(160));
      let rbq = madd(rb2, k(144), k(160));
      let zaq = madd(za2, k(144), k(160));
      let zbq = madd(zb2, k(144), k(160));
      rap = madd(ra2, rap, k(64));
      rbp = madd(rb2, rbp, k(64));
      zap = madd(za2, zap, k(64));
      zbp = madd(zb2, zbp, k(64));
      raq = madd(ra2, raq, k(176));
      rbq = madd(rb2, rbq, k(176));
      zaq = madd(za2, zaq, k(176));
      zbq = madd(zb2, zbq, k(176));
      rap = madd(ra2, rap, k(80));
      rbp = madd(rb2, rbp, k(80));
      zap = madd(za2, zap, k(80));
      zbp = madd(zb2, zbp, k(80));
      raq = madd(ra2, raq, k(192));
      rbq = madd(rb2, rbq, k(192));
      zaq = madd(za2, zaq, k(192));
      zbq = madd(zb2, zbq, k(192));
      rap = madd(ra2, rap, k(96));
      rbp = madd(rb2, rbp, k(96));
      zap = madd(za2, zap, k(96));
      zbp = madd(zb2, zbp, k(96));
      rap = madd(ra2, rap, k(112));
      rbp = madd(rb2, rbp, k(112));
      zap = madd(za2, zap, k(112));
      zbp = madd(zb2, zbp, k(112));
      rap = madd(ra2, rap, k(128));
      rbp = madd(rb2, rbp, k(128));
      zap = madd(za2, zap, k(128));
      zbp = madd(zb2, zbp, k(128));
      const tra = f32x4.div(f32x4.mul(ra, rap), raq);
      const trb = f32x4.div(f32x4.mul(rb, rbp), rbq);
      const tza = f32x4.div(f32x4.mul(za, zap), zaq);
      const tzb = f32x4.div(f32x4.mul(zb, zbp), zbq);
      const r0 = madd(hh, tra, hh), r1 = madd(hh, trb, hh), z0 = madd(hh, tza, hh), z1 = madd(hh, tzb, hh);
      let na = madd(r0, v128.load(gh + 2 * blk + o), v128.load(gi + 2 * blk + o));
      let nb = madd(r1, v128.load(gh + 2 * blk + o + 16), v128.load(gi + 2 * blk + o + 16));
      na = f32x4.pmin(f32x4.pmax(na, k(0)), k(16));
      nb = f32x4.pmin(f32x4.pmax(nb, k(0)), k(16));
      const na2 = f32x4.mul(na, na);
      const nb2 = f32x4.mul(nb, nb);
      let nap = madd(na2, k(32), k(48));
      let nbp = madd(nb2, k(32), k(48));
      let naq = madd(na2, k(144), k(160));
      let nbq = madd(nb2, k(144), k(160));
      nap = madd(na2, nap, k(64));
      nbp = madd(nb2, nbp, k(64));
      naq = madd(na2, naq, k(176));
      nbq = madd(nb2, nbq, k(176));
      nap = madd(na2, nap, k(80));
      nbp = madd(nb2, nbp, k(80));
      naq = madd(na2, naq, k(192));
      nbq = madd(nb2, nbq, k(192));
      nap = madd(na2, nap, k(96));
      nbp = madd(nb2, nbp, k(96));
      nap = madd(na2, nap, k(112));
      nbp = madd(nb2, nbp, k(112));
      nap = madd(na2, nap, k(128));
      nbp = madd(nb2, nbp, k(128));
      const n0 = f32x4.div(f32x4.mul(na, nap), naq);
      const n1 = f32x4.div(f32x4.mul(nb, nbp), nbq);
      if (KEEP) {
        v128.store(keep + o, z0);
        v128.store(keep + o + 16, z1);
        v128.store(keep + blk + o, n0);
        v128.store(keep + blk + o + 16, n1);
      }
      v128.store(h + o, madd(z0, f32x4.sub(v128.load(h + o), n0), n0));
      v128.store(h + o + 16, madd(z1, f32x4.sub(v128.load(h + o + 16), n1), n1));
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
