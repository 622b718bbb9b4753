#!/usr/bin/python3
"""Golden vectors for deltakit's importers, dense runtime and delta cells.

Run with Debian's PyTorch:  /usr/bin/python3 test/golden/make_golden.py
Writes test/golden/cases/<name>/ and test/golden/cases.json; the vectors are committed so CI needs no
PyTorch. Everything is seeded: re-running reproduces the same files.

Per case:
  model.safetensors   the module's state_dict (no deltakit metadata), as a PyTorch user saves it
  model.onnx          torch.onnx.export at opset 14 (a few cases: 11 or 17, batch_first, or
                      without constant folding), input (T, 1, I), output the per-step readout
                      (or the last layer's h)
  x.npy               input (T, I) float32, a smooth random walk so deltas are sparse
  y_torch.npy         PyTorch's output (T, O) float32
  y_delta_<conv>.npy  an independent float64 numpy implementation of SPEC section 3 (DeltaGRU,
                      DeltaLSTM) at the case's thresholds, bias convention <conv>
  fired_<conv>.npy    (T, 2L) fired input / hidden element counts per step and layer

The numpy delta implementation below is written from SPEC section 3 alone; it shares no code with
deltakit. Thresholds are inclusive (an element fires when |delta| >= threshold).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'cases')

# The safetensors python module is not packaged in Debian; the format is tiny (SPEC: 8-byte
# little-endian header length, JSON header, raw little-endian data), so write it here.
def write_safetensors(path, tensors):
    header = {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        a = t.detach().cpu().numpy().astype('<f4')
        b = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class Net(nn.Module):
    """One nn.GRU / nn.LSTM, optionally one nn.Linear readout and an activation.

    `rnn_name` / `fc_name` vary the state_dict key prefixes; `gemm` squeezes the batch axis before
    the readout so torch exports it as Gemm instead of MatMul + Add."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        cls = nn.GRU if c['cell'] == 'gru' else nn.LSTM
        setattr(self, c['rnn_name'], cls(c['I'], c['H'], c['L'], bias=c['bias'], batch_first=c['bf']))
        if c['O']:
            setattr(self, c['fc_name'], nn.Linear(c['H'], c['O']))

    def forward(self, x):  # x: (T, 1, I), or (1, T, I) when batch_first
        y, _ = getattr(self, self.c['rnn_name'])(x)
        if self.c['O']:
            if self.c['gemm']:
                b = 0 if self.c['bf'] else 1
                y = getattr(self, self.c['fc_name'])(y.squeeze(b)).unsqueeze(b)
            else:
                y = getattr(self, self.c['fc_name'])(y)
            if self.c['act'] == 'relu':
                y = torch.relu(y)
            elif self.c['act'] == 'tanh':
                y = torch.tanh(y)
        return y


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def delta_reference(c, sd, x, thx, thh, conv):
    """SPEC section 3 in float64. Returns outputs (T, O), fired counts (T, 2L) and the smallest
    distance between any |delta| and its threshold (to keep vectors away from ties that float32
    rounding could flip)."""
    T = x.shape[0]
    L, H = c['L'], c['H']
    G = 3 if c['cell'] == 'gru' else 4
    p = c['rnn_name'] + '.'
    layers = []
    for k in range(L):
        Wi = sd[p + f'weight_ih_l{k}'].double().numpy()
        Wh = sd[p + f'weight_hh_l{k}'].double().numpy()
        bi = sd[p + f'bias_ih_l{k}'].double().numpy() if c['bias'] else np.zeros(G * H)
        bh = sd[p + f'bias_hh_l{k}'].double().numpy() if c['bias'] else np.zeros(G * H)
        layers.append((Wi, Wh, bi, bh))
    margin = np.inf
    state = []
    for k, (Wi, Wh, bi, bh) in enumerate(layers):
        I = Wi.shape[1]
        s = {'xp': np.zeros(I), 'h': np.zeros(H), 'hp': np.zeros(H), 'c': np.zeros(H)}
        if G == 3:
            s['Mr'] = bi[0:H] + bh[0:H]
            s['Mz'] = bi[H:2 * H] + bh[H:2 * H]
            if conv == 'cudnn':
                s['Mnx'] = bi[2 * H:].copy()
                s['Mnh'] = bh[2 * H:].copy()
            else:  # edgedrnn: one bias per gate, Mnh starts at 0
                s['Mnx'] = bi[2 * H:] + bh[2 * H:]
                s['Mnh'] = np.zeros(H)
        else:
            s['M'] = bi + bh
        state.append(s)
    ys, fired = [], []
    for t in range(T):
        inp = x[t].astype(np.float64)
        row = []
        for k, (Wi, Wh, bi, bh) in enumerate(layers):
            s = state[k]
            dx = inp - s['xp']
            dh = s['h'] - s['hp']
            fx = np.abs(dx) >= thx
            fh = np.abs(dh) >= thh
            margin = min(margin, np.min(np.abs(np.abs(dx) - thx)), np.min(np.abs(np.abs(dh) - thh)))
            dx = np.where(fx, dx, 0.0)
            dh = np.where(fh, dh, 0.0)
            s['xp'] = np.where(fx, inp, s['xp'])
            s['hp'] = np.where(fh, s['h'], s['hp'])
            row += [int(fx.sum()), int(fh.sum())]
            if G == 3:
                s['Mr'] = s['Mr'] + Wi[0:H] @ dx + Wh[0:H] @ dh
                s['Mz'] = s['Mz'] + Wi[H:2 * H] @ dx + Wh[H:2 * H] @ dh
                s['Mnx'] = s['Mnx'] + Wi[2 * H:] @ dx
                s['Mnh'] = s['Mnh'] + Wh[2 * H:] @ dh
                r = sigmoid(s['Mr'])
                z = sigmoid(s['Mz'])
                n = np.tanh(s['Mnx'] + r * s['Mnh'])
                s['h'] = (1 - z) * n + z * s['h']
            else:
                s['M'] = s['M'] + Wi @ dx + Wh @ dh
                M = s['M']
                i, f, g, o = sigmoid(M[0:H]), sigmoid(M[H:2 * H]), np.tanh(M[2 * H:3 * H]), sigmoid(M[3 * H:])
                s['c'] = f * s['c'] + i * g
                s['h'] = o * np.tanh(s['c'])
            inp = s['h']
        y = inp
        if c['O']:
            fp = c['fc_name'] + '.'
            y = sd[fp + 'weight'].double().numpy() @ inp + sd[fp + 'bias'].double().numpy()
            if c['act'] == 'relu':
                y = np.maximum(y, 0)
            elif c['act'] == 'tanh':
                y = np.tanh(y)
        ys.append(y)
        fired.append(row)
    return np.array(ys), np.array(fired, dtype=np.float32), margin


def write_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype='<f4'))


# The cases: GRU and LSTM, 1 to 3 layers, with and without a readout, varied sizes, prefixes,
# Gemm vs MatMul+Add readouts, one bias-free RNN, readout activations.
CASES = [
    dict(name='gru_l1_h8', cell='gru', L=1, I=3, H=8, O=0, thx=0.1, thh=0.05),
    dict(name='gru_l1_h16_fc', cell='gru', L=1, I=5, H=16, O=4, thx=0.05, thh=0.02),
    dict(name='gru_l2_h12_fc_gemm', cell='gru', L=2, I=7, H=12, O=3, gemm=True, thx=0.15, thh=0.05),
    dict(name='gru_l2_h20', cell='gru', L=2, I=11, H=20, O=0, rnn_name='gru', thx=0.2, thh=0.1),
    dict(name='gru_l3_h10_fc_relu', cell='gru', L=3, I=4, H=10, O=6, act='relu', thx=0.1, thh=0.03),
    dict(name='gru_l1_h32_fc_nobias', cell='gru', L=1, I=20, H=32, O=5, bias=False, fc_name='head', thx=0.08, thh=0.04),
    dict(name='gru_l3_h6', cell='gru', L=3, I=9, H=6, O=0, thx=0.12, thh=0.06),
    dict(name='lstm_l1_h8', cell='lstm', L=1, I=3, H=8, O=0, thx=0.1, thh=0.05),
    dict(name='lstm_l1_h24_fc_gemm', cell='lstm', L=1, I=13, H=24, O=2, gemm=True, rnn_name='lstm', fc_name='readout', thx=0.05, thh=0.02),
    dict(name='lstm_l2_h16_fc', cell='lstm', L=2, I=6, H=16, O=7, thx=0.15, thh=0.08),
    dict(name='lstm_l2_h9_fc_tanh_gemm', cell='lstm', L=2, I=17, H=9, O=3, gemm=True, act='tanh', thx=0.1, thh=0.05),
    dict(name='lstm_l3_h12', cell='lstm', L=3, I=5, H=12, O=0, thx=0.2, thh=0.1),
    dict(name='lstm_l3_h7_fc_nobias', cell='lstm', L=3, I=8, H=7, O=4, bias=False, thx=0.1, thh=0.04),
    # Other export settings: weights behind Slice/Concat/Unsqueeze (no constant folding),
    # batch_first (Transpose on the path), other opsets (Squeeze axes as attribute at 11).
    dict(name='gru_l2_h14_fc_nofold', cell='gru', L=2, I=6, H=14, O=5, fold=False, thx=0.1, thh=0.05),
    dict(name='lstm_l2_h10_fc_gemm_bf_op17', cell='lstm', L=2, I=4, H=10, O=3, gemm=True, bf=True, opset=17, thx=0.1, thh=0.05),
    dict(name='lstm_l1_h12_op11_nofold', cell='lstm', L=1, I=7, H=12, O=0, opset=11, fold=False, thx=0.08, thh=0.04),
]
T = 48
MIN_MARGIN = 2e-5


def make_case(c, seed):
    c = dict(dict(O=0, gemm=False, act='none', bias=True, rnn_name='rnn', fc_name='fc', bf=False, fold=True, opset=14), **c)
    torch.manual_seed(seed)
    net = Net(c).eval()
    # Scale weights up a little so the recurrent state moves enough for deltas to matter.
    with torch.no_grad():
        for prm in getattr(net, c['rnn_name']).parameters():
            prm.mul_(1.5)
    rs = np.random.RandomState(seed)
    x = np.cumsum(rs.normal(0, 0.12, size=(T, c['I'])), axis=0)
    x += 0.3 * rs.normal(size=(1, c['I']))
    x = x.astype(np.float32)
    b = 0 if c['bf'] else 1
    with torch.no_grad():
        y = net(torch.from_numpy(x).unsqueeze(b)).squeeze(b).numpy()
    sd = {k: v.detach().clone() for k, v in net.state_dict().items()}
    convs = ['cudnn', 'edgedrnn'] if c['cell'] == 'gru' else ['cudnn']
    deltas = {}
    margin = np.inf
    for conv in convs:
        yd, fired, m = delta_reference(c, sd, x, c['thx'], c['thh'], conv)
        margin = min(margin, m)
        deltas[conv] = (yd, fired)
    # Sanity: the numpy reference at zero thresholds is the dense network (checks the script itself).
    y0, _, _ = delta_reference(c, sd, x, 0.0, 0.0, 'cudnn')
    assert np.max(np.abs(y0 - y)) < 1e-4, f'{c["name"]}: numpy reference disagrees with torch'
    return c, net, x, y, sd, deltas, margin


def main():
    os.makedirs(OUT, exist_ok=True)
    index = []
    for n, spec in enumerate(CASES):
        seed = 1000 + 17 * n
        # Retry seeds until no delta sits within MIN_MARGIN of its threshold (a float32 runtime
        # could legitimately decide such a tie the other way).
        for attempt in range(50):
            c, net, x, y, sd, deltas, margin = make_case(spec, seed + attempt)
            if margin >= MIN_MARGIN:
                seed += attempt
                break
        else:
            sys.exit(f'{spec["name"]}: no seed without near-threshold deltas')
        d = os.path.join(OUT, c['name'])
        os.makedirs(d, exist_ok=True)
        write_safetensors(os.path.join(d, 'model.safetensors'), sd)
        torch.onnx.export(net, torch.from_numpy(x).unsqueeze(0 if c['bf'] else 1), os.path.join(d, 'model.onnx'),
                          opset_version=c['opset'], do_constant_folding=c['fold'], input_names=['x'], output_names=['y'])
        write_npy(os.path.join(d, 'x.npy'), x)
        write_npy(os.path.join(d, 'y_torch.npy'), y)
        fired_frac = {}
        for conv, (yd, fired) in deltas.items():
            write_npy(os.path.join(d, f'y_delta_{conv}.npy'), yd)
            write_npy(os.path.join(d, f'fired_{conv}.npy'), fired)
            fired_frac[conv] = float(fired.sum() / (T * (c['I'] + c['H'] + (c['L'] - 1) * 2 * c['H'])))
        entry = {k: c[k] for k in ['name', 'cell', 'L', 'I', 'H', 'O', 'act', 'bias', 'gemm', 'rnn_name', 'fc_name', 'bf', 'fold', 'opset', 'thx', 'thh']}
        entry.update(T=T, seed=seed, conventions=list(deltas.keys()), margin=float(margin), firedFraction=fired_frac)
        index.append(entry)
        print(f'{c["name"]}: seed {seed}, margin {margin:.2e}, fired {fired_frac}')
    with open(os.path.join(HERE, 'cases.json'), 'w') as f:
        json.dump({'generator': 'test/golden/make_golden.py', 'torch': torch.__version__, 'cases': index}, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
