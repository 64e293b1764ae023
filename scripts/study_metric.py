#!/usr/bin/python3
"""Any final metric of a finished `sdnc study`, mean ± sample std over seeds, as a Markdown table.

  /usr/bin/python3 scripts/study_metric.py runs/study/NAME METRIC [--task TASK]

METRIC is a key of the runs' final evaluations (results.jsonl "evals", e.g. bits_per_char,
seq_accuracy, token_accuracy); one row per machine (in results order), one column per
evaluated length, "n" the seeds counted. table.md shows the study's headline accuracy; this
shows the others. A line without "evals" (written before it existed) is read from its run's
metrics.jsonl (the last evaluation record per length).
"""
import argparse
import json
import math
import os
import sys


def mean_std(values):
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, s


def final_evals(metrics_path):
    """length → the last evaluation record's metrics in a run's metrics.jsonl."""
    evals = {}
    with open(metrics_path) as f:
        for line in f:
            m = json.loads(line)
            if "eval_length" in m:
                evals[str(m["eval_length"])] = m["eval"]
    return evals


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study")
    ap.add_argument("metric")
    ap.add_argument("--task", default=None)
    a = ap.parse_args()
    path = os.path.join(a.study, "results.jsonl")
    if not os.path.exists(path):
        print(f"study_metric: {path}: no such file", file=sys.stderr)
        return 1
    table, lengths = {}, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            if a.task and r["task"] != a.task:
                continue
            if "evals" not in r:
                r["evals"] = final_evals(os.path.join(a.study, r["loss_curve"]))
            lengths[r["task"]] = r["lengths"]
            for L in r["lengths"]:
                m = r["evals"][str(L)]
                if a.metric not in m:
                    print(f"study_metric: {path}:{n}: run {r['id']} has no metric '{a.metric}' "
                          f"(it has: {', '.join(sorted(m))})", file=sys.stderr)
                    return 1
                table.setdefault((r["task"], r["machine"]), {}).setdefault(L, []).append(m[a.metric])
    for task, ls in lengths.items():
        print(f"### {task} ({a.metric})\n")
        print("| machine | n | " + " | ".join(f"@{L}" for L in ls) + " |")
        print("|---|---:|" + "---:|" * len(ls))
        for (t, machine), per_length in table.items():
            if t != task:
                continue
            cells = []
            for L in ls:
                m, s = mean_std(per_length[L])
                cells.append(f"{m:.3f} ± {s:.3f}" if len(per_length[L]) > 1 else f"{m:.3f}")
            print(f"| {machine} | {len(per_length[ls[0]])} | " + " | ".join(cells) + " |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
