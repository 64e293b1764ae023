#!/usr/bin/python3
"""Crash safety of `sdnc train`, through the real binary.

  /usr/bin/python3 tests/cli/test_crash_safety.py --sdnc build/release/sdnc [--kills N] [--seed S] [-k NAME]

Checks
  * SIGKILL at random moments (inside steps and inside checkpoint writes: a checkpoint every
    step or two), then --resume, N times (the suite: 5; scripts/crash_test.sh: 20): the final
    weights and the whole logged curve (loss, lr, grad norm, max_length per step) equal an
    uninterrupted run's bit for bit; after every kill the checkpoint on disk is absent (killed
    before the first) or complete: its CRC-32, recomputed here with Python's zlib, matches, its
    step is a checkpoint step, never behind the one before;
  * --resume with other log_every, eval_every and thread count trains the same weights and the
    same curriculum as one uninterrupted run;
  * a full disk (SDNC_FAULT_DISK_BYTES, the writer fails with ENOSPC) in the second checkpoint:
    one "sdnc: [write]" line naming ENOSPC, a non-zero exit, the first checkpoint intact;
  * a NaN loss or gradient (SDNC_FAULT_NONFINITE): stops with a message naming the step, the
    last good checkpoint left byte for byte; with on_nonfinite "skip" the step is skipped,
    logged, and training finishes with finite weights.
"""
import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import safetensors_np  # noqa: E402
from harness import Suite, check  # noqa: E402

S = Suite("crash_safety")
ARGS = None
# A small, fast run; a checkpoint every CK steps so that kills land inside writes too.
CK = 2
RUN = {"--model": "lstm", "--task": "copy", "--num_bits": 4, "--max_length": 3, "--hidden_size": 16, "--seed": 5,
       "--log_every": 1, "--eval_batches": 1, "--checkpoint_every": CK, "--threads": 1}


def command(out, *flags):
    """sdnc train with RUN's flags, those in `flags` winning (each flag given once)."""
    opts, plain, i = dict(RUN), [], 0
    while i < len(flags):
        f = str(flags[i])
        if f in ("--resume", "--quiet", "--overwrite"):
            plain.append(f)
            i += 1
        else:
            opts[f] = flags[i + 1]
            i += 2
    cmd = [S.binary, "train", "--out_dir", out, "--quiet", *plain]
    for k, v in opts.items():
        cmd += [k, str(v)]
    return cmd
STEPS = 120


def metrics(out):
    rows = []
    with open(os.path.join(out, "metrics.jsonl")) as f:
        for line in f:
            rows.append(json.loads(line))
    return rows


def curve(out):
    return [(r["step"], r["loss"], r["lr"], r["grad_norm"], r["max_length"]) for r in metrics(out) if "loss" in r]


def weights(out):
    return safetensors_np.load(os.path.join(out, "model", "model.safetensors"))[0]


def same_weights(a, b):
    check(a.keys() == b.keys(), "different parameter names")
    for k in a:
        check(np.array_equal(a[k], b[k]), f"final weights differ in {k}")


def verify_checkpoint(path):
    """The file is one complete checkpoint: header, tensors tiling the data, CRC-32 (zlib)."""
    with open(path, "rb") as f:
        raw = f.read()
    check(len(raw) >= 8, f"{path}: {len(raw)} bytes")
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    ends = sorted(v["data_offsets"] for k, v in header.items() if k != "__metadata__")
    check(ends[0][0] == 0 and ends[-1][1] == len(data) and all(a[1] == b[0] for a, b in zip(ends, ends[1:])),
          f"{path}: tensors do not tile the {len(data)} data bytes")
    meta = header["__metadata__"]
    check(f"{zlib.crc32(data):08x}" == meta["data_crc32"], f"{path}: CRC-32 mismatch: a torn checkpoint")
    return int(meta["step"])


def train(out, *flags, env=None):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(command(out, *flags), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=600)
    return p.returncode, p.stderr.decode(errors="replace")


def reference():
    out = os.path.join(S.work, "reference")
    if not os.path.exists(out):
        rc, se = train(out, "--steps", STEPS)
        check(rc == 0, f"reference run exited {rc}: {se[-1000:]}")
    return out


def expect_one_line(rc, se, *words):
    check(rc not in (0, None) and rc > 0, f"exit code {rc}, expected a non-zero exit without a signal")
    lines = [l for l in se.strip().splitlines() if l]
    check(len(lines) == 1 and lines[0].startswith("sdnc: ["), f"expected one 'sdnc: [' line, got: {se.strip()[:600]}")
    for w in words:
        check(w in lines[0], f"message {lines[0]!r} does not name {w!r}")
    return lines[0]


@S.case("SIGKILL at random points, resumed each time: same weights and curve as one run")
def kill_resume():
    ref = reference()
    # How long start-up (to the first checkpoint) and a step take, to spread the kills over the
    # steps and checkpoint writes rather than over start-up.
    t0 = time.time()
    rc, se = train(os.path.join(S.work, "probe_short"), "--steps", CK)
    startup = time.time() - t0
    check(rc == 0, f"probe run exited {rc}: {se[-500:]}")
    t0 = time.time()
    rc, se = train(os.path.join(S.work, "probe"), "--steps", STEPS)
    per_step = max(1e-4, (time.time() - t0 - startup) / (STEPS - CK))
    check(rc == 0, f"probe run exited {rc}: {se[-500:]}")
    rng = random.Random(ARGS.seed)
    out = os.path.join(S.work, "killed")
    kills, last_step, attempts, in_write, tmps_seen = 0, 0, 0, 0, set()
    steps_seen = []
    while True:
        attempts += 1
        check(attempts < ARGS.kills * 4 + 20, "the killed run never finished")
        resume = os.path.exists(os.path.join(out, "checkpoint.safetensors"))
        cmd = command(out, "--steps", STEPS, *(["--resume"] if resume else []))
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if kills < ARGS.kills:
            # Uniform over the run's expected remaining time (startup included).
            # The kills aim at steps spread evenly over the run, each with a random offset of up
            # to a few steps (so some land inside a checkpoint write, some inside a step).
            target = (kills + 1) * STEPS / (ARGS.kills + 1)
            delay = 0.8 * startup + per_step * max(0.0, target - last_step + rng.uniform(-CK, 2 * CK))
            try:
                p.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills += 1
        so, se = p.communicate()
        if p.returncode == 0 and kills < ARGS.kills:
            # Finished before the kill (the machine ran faster than the probe): start over.
            shutil.rmtree(out)
            last_step = 0
            continue
        if p.returncode == 0:
            break
        check(p.returncode == -signal.SIGKILL, f"exit {p.returncode}: {se.decode()[-800:]}")
        # A temporary file left behind: this kill landed inside a write.
        tmps = {os.path.join(d, f) for d in (out, os.path.join(out, "model")) if os.path.isdir(d)
                for f in os.listdir(d) if ".tmp." in f}
        in_write += bool(tmps - tmps_seen)
        tmps_seen |= tmps
        ck = os.path.join(out, "checkpoint.safetensors")
        if os.path.exists(ck):
            step = verify_checkpoint(ck)
            check(step % CK == 0 or step == STEPS, f"checkpoint at step {step}, not a checkpoint step")
            check(step >= last_step, f"checkpoint went back from step {last_step} to {step}")
            last_step = step
        steps_seen.append(last_step)
    check(kills == ARGS.kills, f"{kills} kills landed, wanted {ARGS.kills}")
    a, b = curve(ref), curve(out)
    check([s for s, *_ in b] == list(range(1, STEPS + 1)), f"logged steps {[s for s, *_ in b][:10]}...")
    if a != b:
        check(False, f"curves differ: first difference {next((x, y) for x, y in zip(a, b) if x != y)}")
    same_weights(weights(ref), weights(out))
    verify_checkpoint(os.path.join(out, "checkpoint.safetensors"))
    left = [f for f in os.listdir(out) if ".tmp." in f]
    check(not left, f"temporary files left after the last resume: {left}")
    return (f"{kills} kills ({in_write} inside a file write; checkpoints at steps {steps_seen}); "
            f"{len(a)} logged steps and weights identical")


@S.case("--resume with other log_every, eval_every and threads: same training")
def resume_other_cadence():
    common = ["--curriculum_threshold", 1e9, "--curriculum_every", 4, "--curriculum_max_length", 9]
    full = os.path.join(S.work, "cadence_full")
    rc, se = train(full, "--steps", 30, *common)
    check(rc == 0, se[-500:])
    part = os.path.join(S.work, "cadence_part")
    rc, se = train(part, "--steps", 30, "--stop_at_step", 13, *common, "--log_every", 5)
    check(rc == 0, se[-500:])
    rc, se = train(part, "--resume", "--stop_at_step", 0, "--log_every", 3, "--eval_every", 7, "--threads", 2)
    check(rc == 0, se[-500:])
    same_weights(weights(full), weights(part))
    grow = lambda out: [(r["step"], r["curriculum_max_length"]) for r in metrics(out) if "curriculum_max_length" in r]
    check(grow(full) == grow(part), f"curriculum {grow(full)} vs {grow(part)}")
    check(grow(full) == [(4, 4), (8, 5), (12, 6), (16, 7), (20, 8), (24, 9)], f"curriculum {grow(full)}")
    final = lambda out: {r["eval_length"]: r["eval"] for r in metrics(out) if "eval" in r and r["step"] == 30}
    check(final(full) == final(part), f"final evals {final(full)} vs {final(part)}")
    return f"curriculum {grow(full)}"


@S.case("a full disk in a checkpoint: one message, the previous checkpoint intact")
def full_disk():
    probe = os.path.join(S.work, "size_probe")
    rc, se = train(probe, "--steps", CK)
    check(rc == 0, se[-500:])
    per_save = sum(os.path.getsize(os.path.join(probe, f)) for f in
                   ("checkpoint.safetensors", "model/model.safetensors", "model/config.json"))
    out = os.path.join(S.work, "full_disk")
    # Room for the first checkpoint and half of the second.
    rc, se = train(out, "--steps", 10, env={"SDNC_FAULT_DISK_BYTES": str(per_save + per_save // 2)})
    expect_one_line(rc, se, "[write]", "ENOSPC", "checkpoint.safetensors")
    check(verify_checkpoint(os.path.join(out, "checkpoint.safetensors")) == CK, "the first checkpoint is not intact")
    left = [f for f in os.listdir(out) if ".tmp." in f]
    check(not left, f"temporary files left: {left}")
    rc, se = train(out, "--resume", "--steps", 10)
    check(rc == 0, f"resume after the full disk: {se[-500:]}")
    return f"{per_save} bytes per save; refused at step {2 * CK}"


@S.case("a NaN loss or gradient stops at its step and keeps the last checkpoint; skip skips it")
def nonfinite():
    for what in ("loss", "grad"):
        out = os.path.join(S.work, "nan_" + what)
        rc, se = train(out, "--steps", 12, env={"SDNC_FAULT_NONFINITE": f"{what}@7"})
        msg = expect_one_line(rc, se, "step 7", "nan")
        check(("loss" if what == "loss" else "gradient") in msg, msg)
        check(verify_checkpoint(os.path.join(out, "checkpoint.safetensors")) == 6, f"{what}: checkpoint not at step 6")
    ref = reference()
    out = os.path.join(S.work, "nan_skip")
    rc, se = train(out, "--steps", 12, "--on_nonfinite", "skip", env={"SDNC_FAULT_NONFINITE": "grad@7"})
    check(rc == 0, f"skip run exited {rc}: {se[-500:]}")
    skipped = [r for r in metrics(out) if "skipped" in r]
    check(len(skipped) == 1 and skipped[0]["step"] == 7, f"skipped records {skipped}")
    c = curve(out)
    check([s for s, *_ in c] == [s for s in range(1, 13) if s != 7], f"logged steps {[s for s, *_ in c]}")
    # Until the skipped step the run is the reference; after it every value is finite.
    check(c[:6] == curve(ref)[:6], "steps 1..6 differ from the reference run")
    check(all(np.isfinite(v).all() for v in weights(out).values()), "non-finite weights after a skipped step")
    return "stop at step 7 (loss, grad); skip logged once"


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-k", default="")
    ARGS = ap.parse_args()
    S.binary = os.path.abspath(ARGS.sdnc)
    S.work = tempfile.mkdtemp(prefix="sdnc_crash_")
    try:
        return S.run(ARGS.k)
    finally:
        if ARGS.keep:
            print(f"[crash_safety] scratch folder kept: {S.work}")
        else:
            shutil.rmtree(S.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
