#!/usr/bin/env python3
"""A Transformer is a stateless DNC — seen from Python.

Builds a small causal Transformer in PyTorch (pre-LN torch.nn.TransformerEncoderLayers over a
Linear input map with sinusoidal positions), loads its state_dict unchanged into an sdnc memory
machine (the Transformer preset), runs the machine one step at a time — each step writes one
slot per layer into a write-once memory and reads it with one read head per attention head —
prints the largest difference to PyTorch, and saves a picture of the read weights.

    /usr/bin/python3 -m venv --system-site-packages v && v/bin/pip install . && v/bin/python examples/equivalence.py

(--system-site-packages lets the venv see Debian's torch; any torch >= 1.13 works.)
"""
import argparse
import math
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("equivalence.py needs PyTorch: install torch, or make the venv with --system-site-packages "
             "on a system that has python3-torch")

import sdnc


class TinyTransformer(torch.nn.Module):
    """x [B, T, X] → logits [B, T, Y]; the names match sdnc's Transformer preset."""

    def __init__(self, input_size, output_size, d_model, nhead, num_layers, dim_feedforward):
        super().__init__()
        self.input = torch.nn.Linear(input_size, d_model)
        self.layers = torch.nn.ModuleList([
            torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                             activation=lambda x: F.gelu(x, approximate="tanh"),
                                             batch_first=True, norm_first=True)
            for _ in range(num_layers)])
        self.norm = torch.nn.LayerNorm(d_model)
        self.output = torch.nn.Linear(d_model, output_size)

    def forward(self, x):
        T, D = x.shape[1], self.input.out_features
        t = torch.arange(T, dtype=torch.float64)[:, None]
        div = torch.exp(torch.arange(0, D, 2, dtype=torch.float64) * (-math.log(10000.0) / D))
        pos = torch.zeros(T, D)
        pos[:, 0::2], pos[:, 1::2] = torch.sin(t * div).float(), torch.cos(t * div).float()
        h = self.input(x) + pos
        causal = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        for layer in self.layers:
            h = layer(h, src_mask=causal)
        return self.output(self.norm(h))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--length", type=int, default=12, help="sequence length T (default 12)")
    ap.add_argument("--out", default="equivalence_read_weights.png", help="the read-weight picture (PNG)")
    args = ap.parse_args()

    sizes = dict(input_size=8, output_size=8, d_model=32, nhead=4, num_layers=2, dim_feedforward=64)
    torch.manual_seed(0)
    reference = TinyTransformer(**sizes).eval()

    machine = sdnc.transformer(**sizes)
    machine.load_state_dict(reference.state_dict())  # the same names, unchanged
    print(machine)

    x = np.random.default_rng(0).standard_normal((1, args.length, sizes["input_size"])).astype(np.float32)
    with torch.no_grad():
        want = reference(torch.from_numpy(x)).numpy()

    # The memory machine, one step at a time: step t writes slot t of every layer's memory.
    state = machine.initial_state(batch=1)
    steps = np.stack([machine.step(x[:, t], state) for t in range(args.length)], axis=1)
    parallel = machine.forward(x, form="parallel")
    print(f"memory after {state.position} steps: {state.slots} slots per layer")
    print(f"max |recurrent - PyTorch| = {np.abs(steps - want).max():.3g}")
    print(f"max |parallel  - PyTorch| = {np.abs(parallel - want).max():.3g}")

    # Which slot each read head (attention head) read at each step, layer 0: [R, T, n].
    weights = machine.trace(x, form="recurrent")["layers.0.read_weights"][0].transpose(1, 0, 2)
    sdnc.save_heatmap(args.out, weights, "layer 0, read head", x_label="slot (written at step)",
                      y_label="step", vmin=0, vmax=1)
    print(f"read weights of layer 0 ({weights.shape[0]} heads) saved to {args.out}")
    return 0 if max(np.abs(steps - want).max(), np.abs(parallel - want).max()) < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
