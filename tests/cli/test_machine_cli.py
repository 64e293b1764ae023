#!/usr/bin/python3
"""End-to-end tests of the memory machine through the real binary (`sdnc train --model machine`).

  /usr/bin/python3 tests/cli/test_machine_cli.py --sdnc build/release/sdnc [--corners all|some] [-k NAME]

Checks
  * every one of the 32 corners of the five binary dials trains on `copy` (seeded, 300 steps)
    and its training loss falls: the mean of the last two logged losses is below 0.85 of the
    first (`--corners some` runs 8 of them, spread over every dial, for the sanitizer build);
  * bad dials: an unknown dial value names the key and the allowed values, write=allocate
    without memory_slots names memory_slots, a parallel form asked of a corner that has none
    names the reason — each one 'sdnc: [' line, a non-zero exit, and no output folder written;
  * the dnc and sdnc presets train under their old names and their checkpoints load as machines;
  * a bounded-memory Transformer (append, memory_slots = 4) trained on char_lm generates text,
    and its memory stays at 4 slots whatever the generated length;
  * `sdnc trace` of a machine writes the figures the corner has: usage and link only where the
    memory allocates, read modes only where it reads along links.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import Suite, check  # noqa: E402

S = Suite("cli_machine")
DIALS = [("controller", ["stateless", "lstm"]), ("write", ["append", "allocate"]), ("similarity", ["dot", "cosine"]),
         ("read_modes", ["content", "links"]), ("key_value", ["separate", "shared"])]
SMALL = ["--num_bits", 4, "--max_length", 3, "--batch_size", 8, "--d_model", 16, "--d_ffn", 32, "--hidden_size", 16,
         "--word_size", 8, "--read_heads", 2, "--lr", 3e-3, "--threads", 1, "--quiet"]
CORNERS = "all"


def corner_flags(bits):
    flags = []
    for i, (key, values) in enumerate(DIALS):
        flags += ["--" + key, values[(bits >> i) & 1]]
    if (bits >> 1) & 1:
        flags += ["--memory_slots", 8]  # allocate: N slots (append stays unbounded)
    return flags


def train_losses(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    return [r["loss"] for r in rows if "loss" in r and "eval" not in r]


def expect_error(rc, se, *words):
    check(rc not in (0, None) and rc > 0, f"exit code {rc}, expected a non-zero exit")
    lines = [l for l in se.strip().splitlines() if l]
    check(len(lines) == 1 and lines[0].startswith("sdnc: ["), f"expected one 'sdnc: [' line, got: {se.strip()[:600]}")
    for w in words:
        check(w in lines[0], f"message {lines[0]!r} does not name {w!r}")


@S.case("every corner of the five dials trains on copy and its loss falls")
def corners():
    chosen = range(32) if CORNERS == "all" else [0, 31, 1, 30, 6, 25, 10, 21]
    report, slow = [], []
    for bits in chosen:
        out = S.fresh_dir(f"corner{bits}")
        flags = corner_flags(bits)
        rc, so, se = S.sdnc("train", "--model", "machine", "--task", "copy", *flags, *SMALL, "--steps", 300,
                            "--log_every", 50, "--out_dir", out)
        check(rc == 0, f"corner {flags} exited {rc}: {se.strip()[-1500:]}")
        loss = train_losses(out)
        check(len(loss) >= 3, f"corner {flags}: too few logged losses {loss}")
        ratio = (loss[-1] + loss[-2]) / 2 / loss[0]
        report.append(f"{' '.join(map(str, flags[1:10:2]))}: {loss[0]:.2f} -> {loss[-1]:.2f} ({ratio:.2f})")
        if ratio >= 0.85:
            slow.append(report[-1])
    print("[cli_machine] " + "\n[cli_machine] ".join(report))
    check(not slow, f"loss did not fall below 0.85 of the first: {slow}")
    return f"{len(report)} corners"


@S.case("bad dials are refused with the key and the allowed values, writing nothing")
def bad_dials():
    base = ["train", "--model", "machine", "--task", "copy", "--steps", 2, "--quiet", "--threads", 1]
    cases = [
        (["--write", "erase", "--memory_slots", 4], ["write", "append", "allocate"]),
        (["--controller", "gru", "--memory_slots", 4], ["controller", "stateless", "lstm"]),
        (["--similarity", "l2", "--memory_slots", 4], ["similarity", "dot", "cosine"]),
        (["--read_modes", "all", "--memory_slots", 4], ["read_modes", "content", "links"]),
        (["--key_value", "tied", "--memory_slots", 4], ["key_value", "separate", "shared"]),
        ([], ["memory_slots", "allocate"]),  # the default corner allocates: N is required
        (["--write", "append", "--write_heads", 2], ["write_heads"]),
        (["--controller", "lstm", "--positions", "rope", "--memory_slots", 4], ["positions"]),
    ]
    for flags, words in cases:
        out = os.path.join(S.work, "never")
        rc, so, se = S.sdnc(*base, *flags, "--out_dir", out)
        expect_error(rc, se, *words)
        check(not os.path.exists(out), f"{flags}: {out} was written")
    # the parallel form of a corner that has none
    out = S.fresh_dir("lstm_append")
    rc, so, se = S.sdnc(*base, "--controller", "lstm", "--write", "append", "--out_dir", out)
    check(rc == 0, f"training exited {rc}: {se}")
    inp = os.path.join(S.work, "in.safetensors")
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
    import numpy as np
    import safetensors_np
    with open(os.path.join(out, "model", "config.json")) as f:
        width = json.load(f)["input_size"]
    safetensors_np.save(inp, {"inputs": np.zeros((1, 4, width), np.float32)})
    res = os.path.join(S.work, "out.safetensors")
    rc, so, se = S.sdnc("run", "--model", os.path.join(out, "model"), "--input", inp, "--output", res, "--form",
                        "parallel")
    expect_error(rc, se, "no parallel form", "recurrent")
    check(not os.path.exists(res), "an output file was written")
    rc, so, se = S.sdnc("run", "--model", os.path.join(out, "model"), "--input", inp, "--output", res, "--form",
                        "recurrent")
    check(rc == 0 and os.path.exists(res), f"the recurrent form failed: {se}")
    return f"{len(cases) + 1} bad dials"


@S.case("the dnc and sdnc presets keep their names and load as machines")
def presets():
    for model in ["dnc", "sdnc"]:
        out = S.fresh_dir("preset_" + model)
        rc, so, se = S.sdnc("train", "--model", model, "--task", "copy", "--steps", 5, "--quiet", "--threads", 1,
                            "--out_dir", out)
        check(rc == 0, f"{model} exited {rc}: {se}")
        with open(os.path.join(out, "model", "config.json")) as f:
            cfg = json.load(f)
        check(cfg["model_type"] == model, f"{model} preset saved as {cfg['model_type']}")
        rc, so, se = S.sdnc("eval", "--checkpoint", out)
        check(rc == 0, f"eval of the {model} preset exited {rc}: {se}")
    return "dnc, sdnc"


@S.case("a bounded-memory Transformer generates in constant memory")
def bounded_generate():
    corpus = os.path.join(S.work, "corpus.txt")
    with open(corpus, "w") as f:
        f.write("the quick brown fox jumps over the lazy dog. " * 200)
    out = S.fresh_dir("bounded_lm")
    rc, so, se = S.sdnc("train", "--model", "machine", "--task", "char_lm", "--corpus", corpus, "--controller",
                        "stateless", "--write", "append", "--similarity", "dot", "--read_modes", "content",
                        "--key_value", "separate", "--memory_slots", 4, "--max_length", 16, "--steps", 30,
                        "--d_model", 16, "--d_ffn", 32, "--read_heads", 2, "--word_size", 8, "--batch_size", 4,
                        "--quiet", "--threads", 1, "--out_dir", out)
    check(rc == 0, f"training exited {rc}: {se.strip()[-1500:]}")
    slots = []
    for n in (10, 60):
        rc, so, se = S.sdnc("generate", "--checkpoint", out, "--prompt", "the ", "--tokens", n, "--temperature", 0,
                            raw_stdout=True)
        check(rc == 0, f"generate exited {rc}: {se}")
        # bytes, not characters: a barely trained model may emit bytes that are not UTF-8
        check(so.startswith(b"the ") and len(so) == 4 + n + 1, f"unexpected output {so!r} ({len(so)} bytes)")
        m = re.search(r"(\d+) slots per layer", se)
        check(m is not None, f"no memory line in {se!r}")
        slots.append(int(m.group(1)))
    check(slots == [4, 4], f"memory slots grew: {slots}")
    return "slots " + str(slots)


@S.case("the trace page shows the parts each corner has")
def trace_parts():
    for bits in [0, 31, 8, 2]:
        flags = corner_flags(bits)
        out = S.fresh_dir(f"trace{bits}")
        rc, so, se = S.sdnc("train", "--model", "machine", "--task", "copy", *flags, *SMALL, "--steps", 2,
                            "--out_dir", out)
        check(rc == 0, f"{flags}: {se}")
        rc, so, se = S.sdnc("trace", "--checkpoint", out)
        check(rc == 0, f"trace {flags} exited {rc}: {se}")
        tdir = os.path.join(out, "trace")
        files = set(os.listdir(tdir))
        allocate, links = (bits >> 1) & 1, (bits >> 3) & 1
        check("layers.0.read_weights.png" in files, f"{flags}: no read weights in {sorted(files)}")
        check(("layers.0.usage.png" in files) == bool(allocate), f"{flags}: usage figure {sorted(files)}")
        check(("layers.0.link.png" in files) == bool(allocate and links), f"{flags}: link figure {sorted(files)}")
        check(("layers.0.read_modes.png" in files) == bool(links), f"{flags}: read modes figure {sorted(files)}")
        with open(os.path.join(tdir, "index.html")) as f:
            html = f.read()
        for png in files:
            if png.endswith(".png"):
                check(png in html, f"{png} is not linked from index.html")
    return "4 corners"


def main():
    global CORNERS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--corners", default="all", choices=["all", "some"])
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    CORNERS = args.corners
    S.binary = os.path.abspath(args.sdnc)
    S.work = tempfile.mkdtemp(prefix="sdnc_cli_machine_")
    try:
        return S.run(args.k)
    finally:
        if args.keep:
            print(f"[cli_machine] scratch folder kept: {S.work}")
        else:
            shutil.rmtree(S.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
