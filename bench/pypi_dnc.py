#!/usr/bin/python3
"""The community package PyPI `dnc` (ixaxaar/pytorch-dnc, 1.1.0) at the D1/D2 shapes of
../shared/BENCHMARKS.md: a training step (forward, sigmoid BCE (mean), backward, AdamW lr 1e-4,
weight decay 0.01), as bench/torch_dnc.py and bench/dnc_bench.cpp run it, one JSON line per
workload. Needs the package next to Debian's torch, without pulling a PyPI torch:

  /usr/bin/python3 -m venv --system-site-packages /tmp/dncvenv
  /tmp/dncvenv/bin/pip install --no-deps dnc
  /tmp/dncvenv/bin/python bench/pypi_dnc.py [--threads N] [--workloads D1,D2] [--steps N] [--warmup N]

Configuration: DNC(X, hidden, rnn_type='lstm', num_layers=1, num_hidden_layers=1,
nr_cells=N, read_heads=R, cell_size=W, gpu_id=-1, independent_linears=False, clip=20) — one
write head (the only kind it has), one LSTM layer as in the reference. Differences it keeps:
its output layer maps to the input width X (so its targets here are [B, T, X], not
[B, T, Y]), tanh on keys and write vectors, exact norms (DNC.md A.2/A.3); its state is
created per call (hx=None), i.e. from zero memory as the other two.
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_dnc import SHAPES, timed  # noqa: E402

import dnc  # noqa: E402


def run(name, a):
    sh = SHAPES[name]
    torch.manual_seed(1)
    model = dnc.DNC(sh["X"], sh["hidden"], rnn_type="lstm", num_layers=1, num_hidden_layers=1, nr_cells=sh["N"],
                    read_heads=sh["R"], cell_size=sh["W"], gpu_id=-1, independent_linears=False, clip=20)
    B, T = sh["B"], sh["T"]
    g = torch.Generator().manual_seed(2)
    inputs = torch.randint(0, 2, (B, T, sh["X"]), generator=g).float()
    targets = torch.randint(0, 2, (B, T, sh["X"]), generator=g).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, foreach=True)
    box = {}

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = model(inputs, (None, None, None), reset_experience=True, pass_through_memory=True)
        loss = F.binary_cross_entropy_with_logits(out, targets)
        loss.backward()
        opt.step()
        box["loss"] = loss.item()

    times = timed(step, a.warmup, a.steps)
    s = statistics.median(times)
    print(json.dumps({"impl": "pypi", "dnc": "1.1.0", "torch": torch.__version__, "workload": name,
                      "threads": a.threads, "step_ms": round(s * 1e3, 3), "step_ms_min": round(min(times) * 1e3, 3),
                      "steps": len(times), "tb_per_s": round(T * B / s, 1), "loss": round(box["loss"], 5)}),
          flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workloads", default="D1,D2")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for w in a.workloads.split(","):
        if w in ("D1", "D2"):
            try:
                run(w, a)
            except Exception as e:  # record what the package does at this shape
                print(json.dumps({"impl": "pypi", "workload": w, "threads": a.threads,
                                  "error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
