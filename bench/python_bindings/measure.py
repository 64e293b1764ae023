"""Per-call overhead of the two bindings of tiny_op.h, interleaved in one run: the median over
rounds of the best-of-5 time per call (timeit), in nanoseconds, and the pybind11/nanobind ratio."""
import statistics
import sys
import timeit

import numpy as np

sys.path.insert(0, sys.argv[1])
import tiny_nanobind  # noqa: E402
import tiny_pybind11  # noqa: E402

x = np.arange(4, dtype=np.float32)
assert tiny_nanobind.sum(x) == tiny_pybind11.sum(x) == 6.0
N, ROUNDS = 200_000, 5
results = {}
for op, call in [("add(1.0, 2.0)", "m.add(1.0, 2.0)"), ("sum(float32[4])", "m.sum(x)")]:
    for name, mod in [("nanobind", tiny_nanobind), ("pybind11", tiny_pybind11)]:
        results[(op, name)] = []
    for _ in range(ROUNDS):
        for name, mod in [("nanobind", tiny_nanobind), ("pybind11", tiny_pybind11)]:
            t = min(timeit.repeat(call, globals={"m": mod, "x": x}, number=N, repeat=5)) / N
            results[(op, name)].append(t * 1e9)
print(f"{'op':<18}{'nanobind ns':>14}{'pybind11 ns':>14}{'ratio':>8}")
for op in ["add(1.0, 2.0)", "sum(float32[4])"]:
    nb_ns = statistics.median(results[(op, "nanobind")])
    pb_ns = statistics.median(results[(op, "pybind11")])
    print(f"{op:<18}{nb_ns:>14.1f}{pb_ns:>14.1f}{pb_ns / nb_ns:>8.2f}")
