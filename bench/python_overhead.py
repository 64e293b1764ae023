#!/usr/bin/env python3
"""The cost of calling sdnc from Python. A tiny forward (the Transformer preset, X = Y = 4,
D = 8, one layer, B = T = 1) timed per call from Python — argument checks, the array in, the GIL
released and retaken, the numpy result out — against the same forward in a C++ loop
(Machine._time_forward: no Python in between); and the pieces alone: a bare call into the
module (sdnc.num_threads()) and an array in (sdnc.Tensor(x), shared bytes). Interleaved rounds,
medians, 1 thread.

    PYTHONPATH=build/release/python .venv/python/bin/python bench/python_overhead.py
"""
import statistics
import sys
import time

import numpy as np

import sdnc

ROUNDS, N = 11, 5000
sdnc.set_num_threads(1)
m = sdnc.transformer(input_size=4, output_size=4, d_model=8, nhead=2, num_layers=1, dim_feedforward=16)
x = np.ones((1, 1, 4), np.float32)


def per_call(fn):
    start = time.perf_counter()
    for _ in range(N):
        fn()
    return (time.perf_counter() - start) / N * 1e6


cases = {
    "bare call: sdnc.num_threads()": lambda: per_call(sdnc.num_threads),
    "array in: sdnc.Tensor(x)": lambda: per_call(lambda: sdnc.Tensor(x)),
}
for form in ("parallel", "recurrent"):
    cases[f"forward {form}, Python"] = (lambda f: lambda: per_call(lambda: m.forward(x, f)))(form)
    cases[f"forward {form}, C++ loop"] = (lambda f: lambda: m._m._time_forward(x, f, N) * 1e6)(form)
times = {name: [] for name in cases}
for _ in range(ROUNDS):
    for name, run in cases.items():
        times[name].append(run())
print(f"sdnc {sdnc.__version__}, python {sys.version.split()[0]}, 1 thread, {ROUNDS} rounds x {N} calls, medians")
for name in cases:
    print(f"{name:<34}{statistics.median(times[name]):>9.2f} us/call")
for form in ("parallel", "recurrent"):
    py, cpp = statistics.median(times[f"forward {form}, Python"]), statistics.median(times[f"forward {form}, C++ loop"])
    print(f"forward {form}: Python - C++ = {py - cpp:.2f} us per call ({py / cpp:.3f}x)")
