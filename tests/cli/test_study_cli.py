"""`sdnc study` end to end through the built binary:

- micro: a 2-run study (a tiny Transformer and a tiny DNC on copy) writes results.jsonl whose
  accuracies are the final held-out evaluation of each run and equal what `sdnc eval`
  computes again from the checkpoint; table.md shows each run's numbers; the plots are PNGs;
  index.html links every run's trace page, which exists; scripts/study_metric.py prints the
  same accuracies from the runs' final evaluations.
- resume: the study is killed (SIGKILL, whole process group) after its first run finished;
  the same command again keeps that run (its files untouched, its line unchanged) and
  redoes only the other.
- bad grids: each fails before any training with one `sdnc: [...]` line naming the entry,
  exit 1, and no study folder; a bad flag is a usage error (exit 2).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

from harness import Suite, check

suite = Suite("study")


def tiny_grid(steps=30, second="dnc"):
    machines = [{"name": "transformer", "model": "machine", "controller": "stateless", "write": "append",
                 "similarity": "dot", "read_modes": "content", "key_value": "separate", "d_model": 16,
                 "layers": 1, "read_heads": 2, "word_size": 8, "d_ffn": 16}]
    if second == "dnc":
        machines.append({"name": "dnc", "model": "machine", "memory_slots": 6, "hidden_size": 16,
                         "read_heads": 2, "word_size": 8})
    else:  # slower: the recurrent form of a wider stateless machine with links
        machines.append({"name": "links", "model": "machine", "controller": "stateless", "write": "append",
                         "similarity": "dot", "read_modes": "links", "key_value": "separate", "d_model": 64,
                         "layers": 2, "read_heads": 4, "word_size": 16, "d_ffn": 128})
    return {"machines": machines, "tasks": [{"task": "copy", "max_length": 3}], "seeds": 1,
            "budget": {"steps": steps}, "eval_every": 10,
            "settings": {"batch_size": 4, "eval_batches": 2, "log_every": 5}}


def write_grid(d, grid):
    path = os.path.join(d, "grid.json")
    with open(path, "w") as f:
        json.dump(grid, f)
    return path


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@suite.case("micro study: results, table, plots, trace pages; accuracy = sdnc eval")
def micro():
    d = suite.fresh_dir("micro")
    out = os.path.join(d, "study")
    grid = tiny_grid()
    grid["budget"] = {"steps": 1000}  # the task's own budget (30 steps) wins
    grid["tasks"][0]["budget"] = {"steps": 30}
    rc, so, se = suite.sdnc("study", "--grid", write_grid(d, grid), "--out", out)
    check(rc == 0, f"exit {rc}: {se}")
    check("2/2 done" in so and "ETA" in so, f"progress lines missing: {so}")
    lines = read_lines(os.path.join(out, "results.jsonl"))
    check([r["id"] for r in lines] != [] and sorted(r["id"] for r in lines) == ["dnc-copy-s0", "transformer-copy-s0"],
          f"ids {[r['id'] for r in lines]}")
    table = open(os.path.join(out, "table.md")).read()
    for r in lines:
        for key in ("dials", "task", "seed", "params", "steps", "wall_seconds", "loss_curve", "accuracy",
                    "seconds_to_99", "trace"):
            check(key in r, f"{r['id']}: no '{key}'")
        check(r["steps"] == 30 and r["params"] > 0, f"{r['id']}: steps {r['steps']} params {r['params']}")
        check(r["lengths"] == [3, 6, 12], f"lengths {r['lengths']}")
        run_dir = os.path.join(out, "runs", r["id"])
        # the final evaluation records of the run's own metrics
        final = {}
        for m in read_lines(os.path.join(out, r["loss_curve"])):
            if "eval_length" in m:
                final[m["eval_length"]] = m["eval"]["seq_accuracy"]
        # computed again from the checkpoint by `sdnc eval`
        rc, eo, ee = suite.sdnc("eval", "--checkpoint", run_dir, "--lengths", "3,6,12")
        check(rc == 0, f"eval: {ee}")
        again = {j["length"]: j["seq_accuracy"] for j in map(json.loads, eo.split("\n")[:-1])}
        for L in (3, 6, 12):
            got = r["accuracy"][str(L)]
            check(got == final[L] == again[L], f"{r['id']} @{L}: results {got}, metrics {final[L]}, eval {again[L]}")
        mean = f"{100 * r['accuracy']['3']:.1f}"
        check(f"| {r['machine']} | {r['params']} | 30 |" in table and mean in table, f"table lacks {r['id']}: {table}")
        check(os.path.exists(os.path.join(out, r["trace"])), f"no trace page {r['trace']}")
    for png in ("accuracy_copy.png", "loss_copy.png"):
        with open(os.path.join(out, png), "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG")
    html = open(os.path.join(out, "index.html")).read()
    check("runs/dnc-copy-s0/trace/index.html" in html and "accuracy_copy.png" in html, "index.html lacks links")
    # scripts/study_metric.py: any final metric per machine and length, here the table's own
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts",
                          "study_metric.py")
    p = subprocess.run([sys.executable, script, out, "seq_accuracy"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    check(p.returncode == 0, f"study_metric.py: {p.stderr}")
    for r in lines:
        row = f"| {r['machine']} | 1 | " + " | ".join(f"{r['accuracy'][str(L)]:.3f}" for L in (3, 6, 12)) + " |"
        check(row in p.stdout, f"study_metric.py lacks {row!r}: {p.stdout}")


@suite.case("resume: killed after one run, the finished run is kept and not retrained")
def resume():
    d = suite.fresh_dir("resume")
    out = os.path.join(d, "study")
    grid = write_grid(d, tiny_grid(steps=200, second="links"))
    args = [suite.binary, "study", "--grid", grid, "--out", out, "--jobs", "1"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    results = os.path.join(out, "results.jsonl")
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None:
        if os.path.exists(results) and len(read_lines(results)) >= 1:
            break
        time.sleep(0.02)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    first = read_lines(results)
    check(len(first) == 1, f"expected the kill after exactly one run, got {len(first)} lines")
    done_id = first[0]["id"]
    metrics = os.path.join(out, "runs", done_id, "metrics.jsonl")
    stamp = os.stat(metrics).st_mtime_ns
    rc, so, se = suite.sdnc("study", "--grid", grid, "--out", out, "--jobs", "1")
    check(rc == 0, f"rerun exit {rc}: {se}")
    check("1 finished earlier, kept; 1 to run" in so, f"rerun did not keep the finished run: {so}")
    lines = read_lines(results)
    check(len(lines) == 2 and lines[0] == first[0], "the finished run's line changed or lines are missing")
    check(os.stat(metrics).st_mtime_ns == stamp, f"{done_id} was retrained")
    other = [r for r in lines if r["id"] != done_id][0]
    check(other["steps"] == 200, f"the redone run has {other['steps']} steps")
    rc, so, se = suite.sdnc("study", "--grid", grid, "--out", out, "--jobs", "1")
    check(rc == 0 and "2 finished earlier, kept; 0 to run" in so, f"third start: {so} {se}")


BAD = [
    ("unknown dial value", lambda g: g["machines"][0].update(controller="gru"), "machines[0] (\"transformer\")"),
    ("unknown key", lambda g: g["machines"][1].update(contoller="lstm"), "unknown key 'contoller'"),
    ("unknown task", lambda g: g.update(tasks=["cpy"]), "tasks[0]: unknown task 'cpy'"),
    ("zero seeds", lambda g: g.update(seeds=0), "key 'seeds' must be >= 1"),
    ("no seeds", lambda g: g.update(seeds=[]), "key 'seeds' is empty"),
    ("zero steps", lambda g: g.update(budget={"steps": 0}), "budget 'steps' must be a positive integer"),
    ("negative seconds", lambda g: g.update(budget={"seconds": -5}), "budget 'seconds' must be a number > 0"),
    ("a task's zero steps", lambda g: g["tasks"][0].update(budget={"steps": 0}),
     "tasks[0]: budget 'steps' must be a positive integer"),
    ("dials the machine refuses", lambda g: g["machines"][0].update(write="allocate"), "memory_slots"),
]


@suite.case("bad grids fail before training, naming the entry, no folder written")
def bad_grids():
    d = suite.fresh_dir("bad")
    for name, edit, part in BAD:
        g = tiny_grid()
        edit(g)
        out = os.path.join(d, "study_" + name.replace(" ", "_"))
        rc, so, se = suite.sdnc("study", "--grid", write_grid(d, g), "--out", out)
        lines = [x for x in se.splitlines() if x]
        check(rc == 1, f"{name}: exit {rc}")
        check(len(lines) == 1 and lines[0].startswith("sdnc: [") and part in lines[0] and "grid.json" in lines[0],
              f"{name}: message {se!r}")
        check(not os.path.exists(out), f"{name}: {out} was created")
    with open(os.path.join(d, "broken.json"), "w") as f:
        f.write("{\"machines\": [")
    rc, so, se = suite.sdnc("study", "--grid", os.path.join(d, "broken.json"), "--out", os.path.join(d, "x"))
    check(rc == 1 and "broken.json" in se and "invalid JSON" in se, f"broken file: {rc} {se}")
    rc, so, se = suite.sdnc("study", "--jobs", "-1")
    check(rc == 2 and se.startswith("sdnc: [cli]"), f"--jobs -1: {rc} {se}")
    rc, so, se = suite.sdnc("study", "--print-grid")
    check(rc == 0 and len(json.loads(so)["machines"]) == 7, "--print-grid does not print the default grid")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    suite.binary = os.path.abspath(a.sdnc)
    suite.work = os.path.join(os.path.dirname(suite.binary), "test_study_cli")
    os.makedirs(suite.work, exist_ok=True)
    return suite.run(a.only)


if __name__ == "__main__":
    sys.exit(main())
