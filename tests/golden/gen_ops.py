#!/usr/bin/python3
"""PyTorch oracle for the op table: for every case in tests/ops/cases/*.json, generate
inputs, run the PyTorch twin of the op (ops_<family>.py) in float64, and write
<out>/<case>.safetensors with input.i, output.k, grad_out.k (random cotangents) and
grad_input.i (d Σ_k <output.k, grad_out.k> / d input.i) for differentiable inputs.

Inputs and cotangents are rounded to float32 so sdnc's F32 and F64 paths see the same
values. Run with Debian's interpreter: /usr/bin/python3 tests/golden/gen_ops.py --out DIR
"""
import argparse
import glob
import importlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_np  # noqa: E402


def fnv1a(s):
    h = 0xcbf29ce484222325
    for ch in s.encode():
        h = ((h ^ ch) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def load_ops():
    ops = {}
    for path in sorted(glob.glob(os.path.join(HERE, "ops_*.py"))):
        mod = importlib.import_module(os.path.splitext(os.path.basename(path))[0])
        ops.update(mod.OPS)
    return ops


def make_input(spec, g):
    shape = spec["shape"]
    gen = spec.get("gen", "normal")
    if gen == "index":
        return torch.randint(0, spec.get("high", 2), shape, generator=g, dtype=torch.int64)
    if gen == "values":
        return torch.tensor(spec["values"], dtype=torch.float64).reshape(shape)
    if gen == "uniform":
        lo, hi = spec.get("lo", -1.0), spec.get("hi", 1.0)
        t = lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float64)
    elif gen == "positive":
        t = 0.5 + 1.5 * torch.rand(shape, generator=g, dtype=torch.float64)
    elif gen == "probability":
        t = 0.05 + 0.9 * torch.rand(shape, generator=g, dtype=torch.float64)
    elif gen == "zeros":
        t = torch.zeros(shape, dtype=torch.float64)
    elif gen == "binary":
        t = (torch.rand(shape, generator=g, dtype=torch.float64) < 0.5).double()
    else:
        t = torch.randn(shape, generator=g, dtype=torch.float64)
    flat = t.reshape(-1)
    if gen == "large":
        flat *= 1e3
    if gen == "with_zero":
        flat[::3] = 0.0
    if gen == "away_from_zero":
        flat.copy_(torch.sign(flat) * (0.2 + flat.abs()))
    return t.float().double()  # float32-representable


def run_case(case, ops, out_dir):
    g = torch.Generator().manual_seed(fnv1a(case["name"]) & 0x7FFFFFFF)
    specs = case["inputs"]
    inputs = [make_input(s, g) for s in specs]
    grad_flags = [s.get("grad", s.get("gen", "normal") not in ("index", "binary")) for s in specs]
    for t, flag in zip(inputs, grad_flags):
        if flag:
            t.requires_grad_(True)
    outs = ops[case["op"]](inputs, case.get("params", {}))
    tensors = {}
    for i, t in enumerate(inputs):
        tensors[f"input.{i}"] = t.detach().numpy()
    cotangents = []
    for k, o in enumerate(outs):
        tensors[f"output.{k}"] = o.detach().numpy()
        r = torch.randn(o.shape, generator=g, dtype=torch.float64).float().double()
        cotangents.append(r)
        tensors[f"grad_out.{k}"] = r.numpy()
    diff = [t for t, flag in zip(inputs, grad_flags) if flag]
    if diff:
        grads = torch.autograd.grad(outs, diff, cotangents, allow_unused=True)
        gi = iter(grads)
        for i, flag in enumerate(grad_flags):
            if flag:
                gr = next(gi)
                tensors[f"grad_input.{i}"] = (torch.zeros_like(inputs[i]) if gr is None else gr).detach().numpy()
    safetensors_np.save(os.path.join(out_dir, case["name"] + ".safetensors"), tensors)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", default=os.path.join(HERE, "..", "ops", "cases"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    ops = load_ops()
    n = 0
    for path in sorted(glob.glob(os.path.join(args.cases, "*.json"))):
        with open(path) as f:
            for case in json.load(f):
                if case.get("golden", True) is False:
                    continue
                if case["op"] not in ops:
                    sys.exit(f"[gen_ops] {path}: case {case['name']}: no PyTorch twin for op '{case['op']}'")
                run_case(case, ops, args.out)
                n += 1
    print(f"[gen_ops] wrote {n} golden files to {args.out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
