"""Shared by the PyTorch peers (torch_transformer.py, torch_dnc.py): timing and one JSON line
per result, in the format the runners (run_*_bench.sh) read."""
import json
import time

import torch


def timed(fn, warmup, steps):
    """Calls fn warmup + steps times; returns the wall times of the last `steps` calls."""
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
    return times


def emit(d):
    print(json.dumps({"impl": "torch", "torch": torch.__version__, **d}), flush=True)
