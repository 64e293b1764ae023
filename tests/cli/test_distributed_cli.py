#!/usr/bin/python3
"""Data-parallel training on MPI end to end, through the real binary and mpirun (issue 14).

  /usr/bin/python3 tests/cli/test_distributed_cli.py --sdnc build/release/sdnc [--mpirun mpirun] [--light] [-k NAME]

--light (the sanitizer build, where every launch is several times slower): the F32 comparison
with the DNC preset only.

Checks
  * F32: `mpirun -np 2 sdnc train --distributed mpi` with global batch B ends at the parameters of
    `sdnc train` with batch B (one process) — the DNC preset, a stateless machine hybrid, the LSTM
    — within F32_TOLERANCE (the derivation is in docs/distributed.md); the double-precision check
    (≤ 1e-12) of every model kind is tests/dist/test_data_parallel.cpp;
  * rank 0 alone writes: one metrics.jsonl whose lines carry ranks = 2 and the allreduce time,
    one progress stream;
  * --resume: 2 ranks stopped at step 3 and resumed end bit for bit where 2 uninterrupted ranks
    end; a 2-rank checkpoint resumed by one process ends within F32_TOLERANCE of it;
  * a rank killed (SIGKILL) mid-run: the job exits non-zero, stderr says what happened, and the
    last checkpoint is intact (CRC) and resumes to the end;
  * `mpirun -np 2 sdnc study`: a 2-run micro-study spread over the ranks (one run each) holds
    each run once, with the steps, parameters, held-out accuracies and final loss of the same
    study in one process; rank 0 alone writes the table and pages; a study folder with one
    run missing resumes under 2 ranks, the kept run untouched; `--distributed nccl` is a usage
    error and `--distributed none` under mpirun is refused before any folder is written;
  * bad input, each one 'sdnc: [' line (the MPI launcher may add its own lines after it) and a
    non-zero exit: --distributed with an unknown value (usage error, exit 2), batch_size < ranks
    (no output folder written), --distributed none under a 2-process launcher, ranks that would
    resume different checkpoints.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import safetensors_np  # noqa: E402
from harness import Suite, check  # noqa: E402
from test_crash_safety import verify_checkpoint  # noqa: E402
from test_study_cli import read_lines, tiny_grid, write_grid  # noqa: E402

S = Suite("cli_distributed")
MPIRUN = ["mpirun"]
LIGHT = False
# F32 parameters of P = 2 and P = 1 after STEPS AdamW steps (lr 3e-3); see docs/distributed.md.
F32_TOLERANCE = 1e-5
STEPS = 6
SMALL = ["--batch_size", 6, "--min_length", 1, "--max_length", 3, "--num_bits", 4, "--hidden_size", 12,
         "--memory_size", 6, "--word_size", 4, "--num_read_heads", 2, "--read_heads", 2, "--d_model", 16,
         "--d_ffn", 24, "--num_layers", 1, "--num_heads", 2, "--lr", 3e-3, "--seed", 3, "--threads", 1,
         "--log_every", 1, "--eval_batches", 1, "--steps", STEPS]
# Models without an attention key bias: its exact gradient is zero, so AdamW turns its rounding
# noise into steps of ~lr whose sign the reduction order decides (tests/dist/test_data_parallel.cpp
# checks those models entry by entry, with their gradients).
MODELS = {
    "dnc": ["--model", "dnc", "--task", "copy"],
    "machine_hybrid": ["--model", "machine", "--controller", "stateless", "--memory_slots", 6, "--task", "copy"],
    "lstm_associative_recall": ["--model", "lstm", "--task", "associative_recall", "--min_length", 2],
}


def train_cmd(out, *flags):
    """sdnc train with SMALL's flags, those in `flags` winning (each flag given once)."""
    opts, plain, i = {}, [], 0
    items = [*map(str, SMALL), *map(str, flags)]
    while i < len(items):
        if items[i] in ("--resume", "--quiet", "--overwrite"):
            plain.append(items[i])
            i += 1
        else:
            opts[items[i]] = items[i + 1]
            i += 2
    return ["train", "--out", out, *plain, *[x for kv in opts.items() for x in kv]]


def run(cmd, ranks=None, env=None):
    """sdnc with these arguments; under `mpirun -np ranks` when ranks is given."""
    full = [S.binary, *map(str, cmd)]
    if ranks is not None:
        full = [*MPIRUN, "-np", str(ranks), *full]
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def ok(result, what):
    rc, so, se = result
    check(rc == 0, f"{what}: exit {rc}: {se[-1500:]}")
    return so


def weights(out):
    return safetensors_np.load(os.path.join(out, "model", "model.safetensors"))[0]


def max_difference(a, b):
    check(a.keys() == b.keys(), "different parameter names")
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in a)


def first_sdnc_line(se):
    lines = [line for line in se.splitlines() if line.startswith("sdnc: [")]
    check(lines, f"no 'sdnc: [' line in: {se[:800]}")
    return lines[0]


@S.case("F32: 2 ranks reach the parameters of one process on the same global batch")
def f32_equivalence():
    diffs = []
    for name, flags in list(MODELS.items())[:1 if LIGHT else None]:
        one, two = S.fresh_dir(name + "_p1"), S.fresh_dir(name + "_p2")
        ok(run(train_cmd(one, *flags, "--distributed", "none", "--quiet")), f"{name} P=1")
        ok(run(train_cmd(two, *flags, "--distributed", "mpi", "--quiet"), ranks=2), f"{name} P=2")
        d = max_difference(weights(one), weights(two))
        check(d <= F32_TOLERANCE, f"{name}: max |Δ| {d:.3g} > {F32_TOLERANCE}")
        check(d > 0, f"{name}: bitwise equal — was the run really split over 2 ranks?")
        diffs.append(f"{name} {d:.2g}")
    return "max |Δ|: " + ", ".join(diffs)


@S.case("rank 0 alone writes the metrics and prints; lines carry ranks and the allreduce time")
def rank0_writes():
    out = S.fresh_dir("rank0")
    so = ok(run(train_cmd(out, *MODELS["dnc"], "--distributed", "mpi"), ranks=2), "P=2")
    check(so.count("[train] dnc on copy") == 1, f"the header line printed {so.count('[train] dnc on copy')} times")
    rows = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    steps = [r["step"] for r in rows if "loss" in r]
    check(steps == list(range(1, STEPS + 1)), f"logged steps {steps}: two writers?")
    check(all(r.get("ranks") == 2 and r.get("allreduce_ms", -1) >= 0 and r.get("wait_ms", -1) >= 0
              for r in rows if "loss" in r), "a log line without ranks = 2, allreduce_ms and wait_ms")
    check(sorted(os.listdir(out)) == ["checkpoint.safetensors", "metrics.jsonl", "model"],
          f"unexpected files: {os.listdir(out)}")
    return f"mean allreduce {np.mean([r['allreduce_ms'] for r in rows if 'loss' in r]):.3f} ms/step"


@S.case("--resume: 2 ranks stopped and resumed = 2 ranks uninterrupted; 1 process resumes a 2-rank checkpoint")
def resume():
    whole, part, single = S.fresh_dir("whole"), S.fresh_dir("part"), S.fresh_dir("single")
    flags = [*MODELS["dnc"], "--quiet", "--checkpoint_every", 2]
    ok(run(train_cmd(whole, *flags), ranks=2), "uninterrupted")
    ok(run(train_cmd(part, *flags, "--stop_at_step", 3), ranks=2), "stopped")
    shutil.copytree(part, single, dirs_exist_ok=True)
    ok(run(train_cmd(part, *flags, "--resume", "--stop_at_step", 0), ranks=2), "resumed")
    a, b = weights(whole), weights(part)
    check(max_difference(a, b) == 0, f"resumed 2-rank run differs by {max_difference(a, b):.3g}")
    ok(run(train_cmd(single, *flags, "--resume", "--stop_at_step", 0, "--distributed", "none")), "resumed in one process")
    d = max_difference(a, weights(single))
    check(d <= F32_TOLERANCE, f"one process resuming a 2-rank checkpoint: max |Δ| {d:.3g}")
    return f"bitwise; P=1 resume max |Δ| {d:.2g}"


@S.case("a rank killed mid-run: non-zero exit, a message, the last checkpoint intact and resumable")
def killed_rank():
    out = S.fresh_dir("killed")
    flags = [*MODELS["dnc"], "--quiet", "--checkpoint_every", 2]
    rc, so, se = run(train_cmd(out, *flags), ranks=2, env={"SDNC_FAULT_KILL_RANK": "1@5"})
    check(rc != 0, f"exit {rc} after a rank was killed")
    check("signal 9" in se or "Killed" in se or "sdnc: [distributed]" in se, f"no message about the dead rank: {se[:800]}")
    step = verify_checkpoint(os.path.join(out, "checkpoint.safetensors"))
    check(step == 4, f"the checkpoint holds step {step}, expected 4 (the last before the kill)")
    ok(run(train_cmd(out, *flags, "--resume"), ranks=2), "resumed after the kill")
    check(verify_checkpoint(os.path.join(out, "checkpoint.safetensors")) == STEPS, "the resumed run did not finish")
    return f"exit {rc}; checkpoint at step 4, resumed to {STEPS}"


def run_summary(study, line):
    """What must not depend on the rank that ran it: steps, parameters, accuracies, final loss."""
    final_loss = [m["loss"] for m in read_lines(os.path.join(study, line["loss_curve"])) if "loss" in m][-1]
    return line["steps"], line["params"], line["accuracy"], final_loss


@S.case("mpirun -np 2 sdnc study: one run per rank, each once, equal to one process; resume under 2 ranks")
def study_over_ranks():
    d = S.fresh_dir("study")
    grid = write_grid(d, tiny_grid(steps=20))
    one, two = os.path.join(d, "one"), os.path.join(d, "two")
    study = ["study", "--grid", grid, "--jobs", 1, "--threads", 1]
    ok(run([*study, "--out", one, "--distributed", "none"]), "one process")
    so = ok(run([*study, "--out", two], ranks=2), "2 ranks")
    for rank in (0, 1):
        check(f"[study rank {rank}/2] {two}: 2 runs" in so and "(this rank: 1)" in so,
              f"rank {rank} did not take one run: {so}")
    check(so.count("table ") == 1, f"the closing line (rank 0's pages) printed {so.count('table ')} times: {so}")
    single = {r["id"]: r for r in read_lines(os.path.join(one, "results.jsonl"))}
    spread = read_lines(os.path.join(two, "results.jsonl"))
    ids = sorted(r["id"] for r in spread)
    check(ids == sorted(single) == ["dnc-copy-s0", "transformer-copy-s0"], f"ids {ids}, one process {sorted(single)}")
    for r in spread:
        a, b = run_summary(two, r), run_summary(one, single[r["id"]])
        check(a == b, f"{r['id']}: 2 ranks {a}, one process {b}")
    table = open(os.path.join(two, "table.md")).read()
    check("| transformer |" in table and "| dnc |" in table, f"table.md lacks a run: {table}")
    check(os.path.exists(os.path.join(two, "index.html")), "no index.html")
    # Resume: the one-process folder loses its second line (a run killed mid-way), 2 ranks finish it.
    lines = open(os.path.join(one, "results.jsonl")).read().splitlines(keepends=True)
    with open(os.path.join(one, "results.jsonl"), "w") as f:
        f.write(lines[0])
    kept = json.loads(lines[0])
    stamp = os.stat(os.path.join(one, kept["loss_curve"])).st_mtime_ns
    so = ok(run([*study, "--out", one], ranks=2), "resume on 2 ranks")
    check("1 finished earlier, kept; 1 to run" in so, f"resume did not keep the finished run: {so}")
    again = read_lines(os.path.join(one, "results.jsonl"))
    check(len(again) == 2 and again[0] == kept, "the kept line changed, or a line is missing")
    check(os.stat(os.path.join(one, kept["loss_curve"])).st_mtime_ns == stamp, f"{kept['id']} was retrained")
    redone = again[1]
    check(run_summary(one, redone) == run_summary(two, next(r for r in spread if r["id"] == redone["id"])),
          f"{redone['id']} redone on 2 ranks differs")
    # bad input: an unknown --distributed (usage error), none under a 2-process launcher (no folder)
    rc, _, se = run(["study", "--distributed", "nccl"])
    check(rc == 2 and first_sdnc_line(se).startswith("sdnc: [cli]") and "--distributed" in se,
          f"study --distributed nccl: exit {rc}: {se[:400]}")
    never = os.path.join(d, "never")
    rc, _, se = run([*study, "--out", never, "--distributed", "none"], ranks=2)
    line = first_sdnc_line(se)
    check(rc != 0 and "--distributed none" in line, f"study: none under mpirun: exit {rc}: {line}")
    check(not os.path.exists(never), "a study folder was written for a refused start")
    return "2 runs, one per rank, equal to one process; resumed 1 of 2; 2 refusals"


@S.case("bad input: unknown --distributed, batch_size < ranks, none under mpirun, ranks on other checkpoints")
def bad_input():
    out = os.path.join(S.work, "never")
    rc, _, se = run(train_cmd(out, *MODELS["dnc"], "--distributed", "nccl"))
    check(rc == 2 and first_sdnc_line(se).startswith("sdnc: [cli]") and "--distributed" in se,
          f"--distributed nccl: exit {rc}: {se[:400]}")
    rc, _, se = run(train_cmd(out, *MODELS["dnc"], "--batch_size", 1, "--distributed", "mpi"), ranks=2)
    line = first_sdnc_line(se)
    check(rc != 0 and "[distributed]" in line and "batch_size 1" in line, f"batch_size 1 on 2 ranks: exit {rc}: {line}")
    check(not os.path.exists(out), "an output folder was written for a refused run")
    rc, _, se = run(train_cmd(out, *MODELS["dnc"], "--distributed", "none"), ranks=2)
    line = first_sdnc_line(se)
    check(rc != 0 and "--distributed none" in line, f"none under mpirun: exit {rc}: {line}")
    check(not os.path.exists(out), "an output folder was written for a refused run")
    # Two ranks told to resume two different checkpoints (as if out_dir were not shared).
    a, b = S.fresh_dir("ck_a"), S.fresh_dir("ck_b")
    ok(run(train_cmd(a, *MODELS["dnc"], "--quiet", "--stop_at_step", 2)), "checkpoint a")
    ok(run(train_cmd(b, *MODELS["dnc"], "--quiet", "--stop_at_step", 3)), "checkpoint b")
    cmd = [*MPIRUN, "-np", "1", S.binary, *map(str, train_cmd(a, *MODELS["dnc"], "--resume", "--quiet")), ":",
           "-np", "1", S.binary, *map(str, train_cmd(b, *MODELS["dnc"], "--resume", "--quiet"))]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    se = p.stderr.decode(errors="replace")
    line = first_sdnc_line(se)
    check(p.returncode != 0 and "[distributed] rank 1" in line and "every rank sees" in line,
          f"different checkpoints: exit {p.returncode}: {line}")
    return "4 refusals"


def main():
    global MPIRUN, LIGHT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--light", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    LIGHT = args.light
    if not shutil.which(args.mpirun):
        print(f"[cli_distributed] SKIPPED: {args.mpirun} not found (scripts/setup.sh installs Open MPI)")
        return 77
    # Two ranks on however few cores; root (CI in a container) only when told.
    MPIRUN = [args.mpirun, "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    S.binary = os.path.abspath(args.sdnc)
    S.work = tempfile.mkdtemp(prefix="sdnc_dist_")
    try:
        return S.run(args.k)
    finally:
        if args.keep:
            print(f"[cli_distributed] scratch folder kept: {S.work}")
        else:
            shutil.rmtree(S.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
