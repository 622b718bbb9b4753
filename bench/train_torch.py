#!/usr/bin/env python3
"""Training throughput of the deltakit train benchmark's model in PyTorch, on CPU.

Same model as bench/suites/train.ts: GRU(40 -> H) + Linear(H -> 11), logits averaged over
frames (mean readout), cross-entropy, Adam; batches of B sequences of T frames of seeded
random features. Two variants:
  dense  torch.nn.GRU (PyTorch's fused CPU kernel)
  delta  a DeltaGRU written per step with the thresholds in the forward pass and a
         straight-through gradient (x + (xp - x).detach()), the way delta networks are
         trained in PyTorch; plus the L1 penalty on fired hidden deltas.
Prints one JSON object: frames per second for each variant.

Usage: /usr/bin/python3 bench/train_torch.py --hidden 64 --batch 16 --frames 100 --steps 5 --threads 1
"""
import argparse
import json
import time

import torch
import torch.nn as nn


class DeltaGRU(nn.Module):
    def __init__(self, i, h, thx, thh):
        super().__init__()
        self.gru = nn.GRU(i, h, batch_first=True)
        self.h, self.thx, self.thh = h, thx, thh

    def forward(self, x):
        B, T, I = x.shape
        H = self.h
        w_ih, w_hh = self.gru.weight_ih_l0, self.gru.weight_hh_l0
        b_ih, b_hh = self.gru.bias_ih_l0, self.gru.bias_hh_l0
        h = x.new_zeros(B, H)
        xp = x.new_zeros(B, I)
        hp = x.new_zeros(B, H)
        outs, pen = [], x.new_zeros(())
        for t in range(T):
            xt = x[:, t]
            fx = (xt - xp).abs() >= self.thx
            xp_new = torch.where(fx, xt, xp).detach()
            xq = xt + (xp_new - xt).detach()  # straight-through
            xp = xp_new
            if t > 0:
                fh = (h - hp).abs() >= self.thh
                pen = pen + ((h - hp.detach()) * fh).abs().sum() / T
                hp_new = torch.where(fh, h, hp).detach()
                hq = h + (hp_new - h).detach()
                hp = hp_new
            else:
                hq = h * 0
            gi = xq @ w_ih.t() + b_ih
            gh = hq @ w_hh.t() + b_hh
            r = torch.sigmoid(gi[:, :H] + gh[:, :H])
            z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h
            outs.append(h)
        return torch.stack(outs, 1), pen


def run(variant, a):
    torch.manual_seed(1)
    head = nn.Linear(a.hidden, 11)
    rnn = DeltaGRU(40, a.hidden, 0.5, 0.2) if variant == 'delta' else nn.GRU(40, a.hidden, batch_first=True)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(a.batch, a.frames, 40)
    y = torch.randint(0, 11, (a.batch,))

    def step():
        opt.zero_grad()
        if variant == 'delta':
            hs, pen = rnn(x)
        else:
            hs, _ = rnn(x)
            pen = 0.0
        logits = head(hs).mean(1)
        loss = nn.functional.cross_entropy(logits, y) + 5e-3 * pen
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    return a.batch * a.frames * a.steps / dt


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--frames', type=int, default=100)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(json.dumps({
        'torch': torch.__version__,
        'threads': a.threads,
        'dense_frames_per_s': run('dense', a),
        'delta_frames_per_s': run('delta', a),
    }))


if __name__ == '__main__':
    main()
