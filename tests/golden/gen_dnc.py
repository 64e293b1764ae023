#!/usr/bin/python3
"""Golden cases for sdnc's DNC, from the plain-PyTorch DNC of dnc_reference.py (float64,
computed from float32-representable weights and inputs). One folder per case under --out:
  config.json        sdnc's DNC config ("model_type": "dnc", ...)
  model.safetensors  the weights, float32, with sdnc's checkpoint names (docs/dnc.md)
  io.safetensors     input.inputs [B,T,X], output [B,T,Y] (logits), state.<name> [B,T,...]
                     per-step states, cotangent [B,T,Y], grad.<param> = d<output, cotangent>/d param
The allocation sort uses float32 keys and a stable descending order, as the reference does,
so ties (e.g. from the all-zero start) resolve to the lower slot index in both.

Run: /usr/bin/python3 tests/golden/gen_dnc.py --out DIR
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dnc_reference as ref  # noqa: E402
import safetensors_np  # noqa: E402

CASES = [
    # name, B, T, X, Y, h, N, W, R, H, controller, strength, clip
    ("dnc_lstm_h1", 3, 10, 5, 4, 12, 8, 6, 2, 1, "lstm", "softplus", 20.0),
    ("dnc_lstm_h2", 2, 9, 4, 3, 10, 7, 5, 3, 2, "lstm", "softplus", 20.0),
    ("dnc_ff_h1", 3, 8, 5, 4, 10, 6, 4, 2, 1, "feedforward", "softplus", 20.0),
    ("dnc_lstm_r1_oneplus_noclip", 2, 8, 3, 3, 8, 6, 4, 1, 1, "lstm", "oneplus", None),
    ("dnc_ff_h2_clip", 2, 8, 4, 3, 9, 6, 4, 2, 2, "feedforward", "softplus", 0.5),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    for seed, (name, B, T, X, Y, h, N, W, R, H, ctl, st, clip) in enumerate(CASES):
        cfg = {"model_type": "dnc", "input_size": X, "output_size": Y, "hidden_size": h, "memory_size": N,
               "word_size": W, "num_read_heads": R, "num_write_heads": H, "clip_value": clip,
               "controller": ctl, "strength": st}
        g = torch.Generator().manual_seed(1000 + seed)
        p = ref.init_params(cfg, g)
        for v in p.values():
            v.requires_grad_()
        inputs = (torch.randn(B, T, X, generator=g, dtype=torch.float64) * 1.5).float().double()
        y, states = ref.dnc_forward(cfg, p, inputs)
        r = torch.randn(y.shape, generator=g, dtype=torch.float64)
        grads = torch.autograd.grad(y, list(p.values()), r)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        safetensors_np.save(os.path.join(d, "model.safetensors"),
                            {k: v.detach().float().numpy() for k, v in p.items()}, {"format": "pt"})
        io = {"input.inputs": inputs.float().numpy(), "output": y.detach().numpy(), "cotangent": r.numpy()}
        for k, v in states.items():
            io["state." + k] = v.detach().numpy()
        for k, gr in zip(p, grads):
            io["grad." + k] = gr.numpy()
        safetensors_np.save(os.path.join(d, "io.safetensors"), io)
        print(f"{name}: |y| max {y.abs().max().item():.3g}, usage range "
              f"[{states['usage'].min().item():.3g}, {states['usage'].max().item():.3g}]")


if __name__ == "__main__":
    main()
