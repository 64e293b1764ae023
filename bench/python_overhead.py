#!/usr/bin/env python3
"""The cost of calling sdnc from Python: a tiny forward (the Transformer preset, X = Y = 4,
D = 8, one layer, B = T = 1) timed per call from Python (argument checks, array conversion,
the GIL released and retaken, the numpy result) against the same forward in a C++ loop
(Machine._time_forward: no Python in between), interleaved, medians over rounds.

    PYTHONPATH=build/release/python .venv/python/bin/python bench/python_overhead.py
"""
import statistics
import sys
import time

import numpy as np

import sdnc

ROUNDS, N = 7, 20000
sdnc.set_num_threads(1)
m = sdnc.transformer(input_size=4, output_size=4, d_model=8, nhead=2, num_layers=1, dim_feedforward=16)
x = np.ones((1, 1, 4), np.float32)
impl = m._m
rows = []
for form in ("parallel", "recurrent"):
    py, cpp = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(N):
            m.forward(x, form)
        py.append((time.perf_counter() - start) / N)
        cpp.append(impl._time_forward(x, form, N))
    rows.append((form, statistics.median(py) * 1e6, statistics.median(cpp) * 1e6))
print(f"sdnc {sdnc.__version__}, python {sys.version.split()[0]}, 1 thread, {ROUNDS} rounds x {N} calls, medians")
print(f"{'form':<10}{'python us/call':>16}{'C++ us/call':>14}{'overhead us':>13}{'ratio':>8}")
for form, p, c in rows:
    print(f"{form:<10}{p:>16.2f}{c:>14.2f}{p - c:>13.2f}{p / c:>8.2f}")
