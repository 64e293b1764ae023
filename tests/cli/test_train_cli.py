#!/usr/bin/python3
"""End-to-end tests of `sdnc train`, `eval` and `generate`, through the real binary.

  /usr/bin/python3 tests/cli/test_train_cli.py --sdnc build/release/sdnc [-k NAME] [--keep]

Checks
  * a seeded tiny training run per model/task whose loss falls below a stated threshold
    (absolute, or a stated fraction of the first logged loss for the slow learners);
  * --resume continues the same loss curve bit for bit (metrics.jsonl and the final weights)
    for AdamW with warm-up + cosine and for TF1 RMSProp;
  * Ctrl-C writes a checkpoint, exits 130, and --resume continues from it;
  * held-out accuracy (`sdnc eval`) over three seeds against measured thresholds that an
    untrained model misses; `sdnc compare`'s table equals `sdnc eval` on its checkpoints;
  * `sdnc eval` reproduces the run's final held-out metrics; `sdnc generate` is deterministic
    for a seed and greedy decoding picks the argmax of `sdnc run`'s logits;
  * bad input (unknown key, wrong type, out-of-range value, missing corpus, a checkpoint from
    another model, a corrupt checkpoint, resume with a changed key): one "sdnc: [" line naming
    the key or file, a non-zero exit, and the previous checkpoint left byte-for-byte intact.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import safetensors_np  # noqa: E402
from harness import Suite, check, expect_error  # noqa: E402

S = Suite("cli_train")
CORPUS = None  # a small repetitive text written once


def train(out, *flags, expect_ok=True):
    rc, so, se = S.sdnc("train", "--out_dir", out, "--threads", 1, "--quiet", *flags)
    if expect_ok:
        check(rc == 0, f"sdnc train {' '.join(map(str, flags))} exited {rc}: {se.strip()[-2000:]}")
    return rc, so, se


def metrics(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def losses(out):
    return [(r["step"], r["loss"]) for r in metrics(out) if "loss" in r]


def final_eval(out):
    return {r["eval_length"]: r["eval"] for r in metrics(out) if "eval" in r}


# ---- learning -----------------------------------------------------------------------------

LEARNING = [
    # name, flags, threshold on the last logged loss: ("abs", x) or ("frac", x of the first)
    ("dnc_copy", ["--model", "dnc", "--task", "copy", "--num_bits", 4, "--max_length", 3, "--steps", 300,
                  "--lr", 3e-3], ("frac", 0.6)),
    ("dnc_repeat_copy_tf1", ["--model", "dnc", "--task", "repeat_copy", "--optimizer", "rmsprop_tf1", "--lr", 1e-3,
                             "--steps", 200], ("frac", 0.88)),
    ("lstm_copy", ["--model", "lstm", "--task", "copy", "--num_bits", 4, "--max_length", 3, "--steps", 300,
                   "--lr", 3e-3], ("frac", 0.6)),
    ("sdnc_copy", ["--model", "sdnc", "--task", "copy", "--num_bits", 4, "--max_length", 4, "--steps", 300,
                   "--d_model", 32, "--d_ffn", 64, "--lr", 3e-3], ("abs", 1.0)),
    ("sdnc_associative_recall", ["--model", "sdnc", "--task", "associative_recall", "--num_bits", 4,
                                 "--item_length", 1, "--max_length", 3, "--steps", 200, "--d_model", 32,
                                 "--d_ffn", 64, "--lr", 3e-3], ("frac", 0.6)),
    ("sdnc_char_lm", ["--model", "sdnc", "--task", "char_lm", "--max_length", 32, "--steps", 150, "--d_model", 32,
                      "--d_ffn", 64, "--lr", 3e-3], ("abs", 1.0)),
    ("encoder_decoder_reverse", ["--model", "encoder_decoder", "--task", "reverse", "--num_symbols", 6,
                                 "--max_length", 4, "--steps", 200, "--d_model", 32, "--d_ffn", 64, "--num_layers", 1,
                                 "--lr", 3e-3], ("abs", 0.5)),
    ("encoder_decoder_sort", ["--model", "encoder_decoder", "--task", "sort", "--num_symbols", 6, "--max_length", 4,
                              "--steps", 150, "--d_model", 32, "--d_ffn", 64, "--num_layers", 1, "--lr", 3e-3],
     ("frac", 0.5)),
    ("lstm_char_lm", ["--model", "lstm", "--task", "char_lm", "--max_length", 32, "--steps", 150, "--hidden_size", 64,
                      "--lr", 1e-2], ("frac", 0.6)),
    ("encoder_decoder_addition", ["--model", "encoder_decoder", "--task", "addition", "--max_length", 2,
                                  "--steps", 200, "--d_model", 32, "--d_ffn", 64, "--num_layers", 1, "--lr", 3e-3],
     ("frac", 0.7)),
]


def learning_case(name, flags, threshold):
    @S.case(f"learns {name}")
    def run():
        out = S.fresh_dir(name)
        extra = ["--corpus", CORPUS] if "char_lm" in flags else []
        train(out, "--seed", 1, "--log_every", 25, "--eval_batches", 2, *flags, *extra)
        curve = losses(out)
        first, last = curve[0][1], curve[-1][1]
        kind, x = threshold
        limit = x if kind == "abs" else x * first
        check(np.isfinite(last) and last < limit,
              f"last logged loss {last:.4f} is not below {limit:.4f} ({kind} {x}; first {first:.4f})")
        check(os.path.isfile(os.path.join(out, "model", "model.safetensors")), "no model/ export")
        return f"loss {first:.3f} -> {last:.3f} (< {limit:.3f})"


for _n, _f, _t in LEARNING:
    learning_case(_n, _f, _t)


# Held-out accuracy (`sdnc eval` on fresh sequences, not the training loss) over three seeds.
# Thresholds from measured values (seeds 1-3, 1 thread) with a stated margin, and an untrained
# model (1 step) must miss them, so the threshold separates learning from not learning:
#   sdnc copy L4 400 steps      seq_accuracy 1.00/1.00/1.00, untrained 0.00   -> >= 0.90
#     (at 300 steps seed 2 reached only 0.49 on an AVX2 EPYC, where oneDNN's kernels round
#     differently from the AVX-512 machine the first numbers came from; at 400 steps all three
#     reach 1.00 on the EPYC)
#   enc-dec reverse 200 steps   token_accuracy 0.95/0.90/0.94, untrained 0.12 -> >= 0.80
#   dnc copy L3 300 steps       bit_errors 2.88/2.48/3.00, untrained 6.18     -> <= 4.0
HELD_OUT = [
    ("sdnc_copy", ["--model", "sdnc", "--task", "copy", "--num-bits", 4, "--max-length", 4, "--steps", 400,
                   "--d-model", 32, "--d-ffn", 64, "--lr", 3e-3], 4, "seq_accuracy", ">=", 0.90),
    ("encoder_decoder_reverse", ["--model", "encoder_decoder", "--task", "reverse", "--num-symbols", 6,
                                 "--max-length", 4, "--steps", 200, "--d-model", 32, "--d-ffn", 64,
                                 "--num-layers", 1, "--lr", 3e-3], 4, "token_accuracy", ">=", 0.80),
    ("dnc_copy", ["--model", "dnc", "--task", "copy", "--num-bits", 4, "--max-length", 3, "--steps", 300,
                  "--lr", 3e-3], 3, "bit_errors", "<=", 4.0),
]


def held_out_case(name, flags, length, metric, op, limit):
    @S.case(f"held-out {metric} over seeds 1-3: {name}")
    def run():
        if os.environ.get("ASAN_OPTIONS") is not None:  # the learning cases above run there already
            return "skipped under ASan (accuracy, not memory safety; 3 seeds x 300 steps)"

        def score(seed, steps=None):
            out = S.fresh_dir(f"heldout_{name}_{seed}_{steps}")
            f = list(flags)
            if steps is not None:
                f[f.index("--steps") + 1] = steps
            train(out, "--seed", seed, "--eval-batches", 8, "--lengths", length, *f)
            rc, so, se = S.sdnc("eval", "--checkpoint", out)
            check(rc == 0, f"eval: {se}")
            return json.loads(so.strip().splitlines()[0])[metric]
        ok = (lambda v: v >= limit) if op == ">=" else (lambda v: v <= limit)
        got = [score(seed) for seed in (1, 2, 3)]
        check(all(ok(v) for v in got), f"{metric} {got} not all {op} {limit}")
        untrained = score(1, steps=1)
        check(not ok(untrained), f"an untrained model already has {metric} {untrained} {op} {limit}")
        return f"{metric} {', '.join(f'{v:.3f}' for v in got)} ({op} {limit}; untrained {untrained:.3f})"


for _c in HELD_OUT:
    held_out_case(*_c)


@S.case("curriculum grows max_length; the default corpus trains")
def curriculum():
    out = S.fresh_dir("curriculum")
    train(out, "--model", "lstm", "--task", "copy", "--steps", 12, "--log_every", 3, "--curriculum_every", 3, "--max_length", 2,
          "--curriculum_threshold", 1e9, "--curriculum_increment", 2, "--curriculum_max_length", 7,
          "--eval_batches", 1, "--checkpoint_every", 5)
    grown = [r["curriculum_max_length"] for r in metrics(out) if "curriculum_max_length" in r]
    check(grown == [4, 6, 7], f"curriculum max lengths {grown}, expected [4, 6, 7]")
    lens = [r["max_length"] for r in metrics(out) if "loss" in r]
    check(lens == [2, 4, 6, 7], f"logged lengths {lens}")
    # The King James text that scripts/setup.sh writes is the default corpus.
    lm = S.fresh_dir("kjv")
    train(lm, "--model", "lstm", "--task", "char_lm", "--steps", 2, "--max_length", 16, "--hidden_size", 8,
          "--eval_batches", 1)
    return f"max_length 2 -> {grown}"


# ---- resume -------------------------------------------------------------------------------

def resume_case(name, flags):
    @S.case(f"resume continues the same loss curve: {name}")
    def run():
        full, part = S.fresh_dir(name + "_full"), S.fresh_dir(name + "_part")
        common = ["--seed", 3, "--log_every", 1, "--eval_batches", 1, *flags]
        train(full, *common, "--steps", 24, "--eval_lengths", "3,4")
        train(part, *common, "--steps", 24, "--stop_at_step", 10)
        check(len(losses(part)) == 10, f"stop_at_step 10 logged {len(losses(part))} steps")
        train(part, "--resume", "--stop_at_step", 0, "--eval_lengths", "3,4")
        a, b = losses(full), losses(part)
        check([s for s, _ in b] == list(range(1, 25)), f"resumed run logged steps {[s for s, _ in b]}")
        if a != b:
            check(False, f"loss curves differ: first difference at {next((x, y) for x, y in zip(a, b) if x != y)}")
        wa, _ = safetensors_np.load(os.path.join(full, "model", "model.safetensors"))
        wb, _ = safetensors_np.load(os.path.join(part, "model", "model.safetensors"))
        check(wa.keys() == wb.keys(), "different parameter names")
        for k in wa:
            check(np.array_equal(wa[k], wb[k]), f"final weights differ in {k}")
        return f"{len(a)} losses and {len(wa)} tensors identical"


resume_case("sdnc_adamw_cosine", ["--model", "sdnc", "--task", "copy", "--max_length", 3, "--d_model", 16,
                                  "--d_ffn", 32, "--warmup_steps", 5, "--lr_schedule", "cosine"])
resume_case("dnc_rmsprop_tf1", ["--model", "dnc", "--task", "repeat_copy", "--optimizer", "rmsprop_tf1",
                                "--hidden_size", 16, "--memory_size", 8, "--word_size", 4, "--num_read_heads", 2])


@S.case("Ctrl-C writes a checkpoint and --resume continues it")
def ctrl_c():
    out = S.fresh_dir("interrupt")
    p = subprocess.Popen([S.binary, "train", "--out_dir", out, "--threads", "1", "--model", "lstm", "--task", "copy",
                          "--steps", "1000000", "--log_every", "1", "--hidden_size", "8"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    metrics_path = os.path.join(out, "metrics.jsonl")
    while time.time() < deadline and not (os.path.exists(metrics_path) and os.path.getsize(metrics_path) > 200):
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    so, se = p.communicate(timeout=120)
    check(p.returncode == 130, f"exit code {p.returncode} after Ctrl-C, expected 130; stderr {se.decode()[-500:]}")
    check(b"interrupted at step" in se, f"no interruption message: {se.decode()[-500:]}")
    step = int(safetensors_np.load(os.path.join(out, "checkpoint.safetensors"))[1]["step"])
    check(step >= 1, f"checkpoint at step {step}")
    train(out, "--resume", "--steps", step + 3, "--eval_batches", 1)
    steps = [s for s, _ in losses(out)]
    check(steps == list(range(1, step + 4)), f"steps after resume: {steps[-6:]}")
    return f"stopped at step {step}, resumed to {step + 3}"


# ---- eval and generate --------------------------------------------------------------------

@S.case("eval reproduces the final held-out metrics of training")
def eval_matches():
    out = S.fresh_dir("eval")
    train(out, "--model", "dnc", "--task", "copy", "--steps", 20, "--eval_lengths", "2,5", "--eval_batches", 2,
          "--max_length", 3)
    rc, so, se = S.sdnc("eval", "--checkpoint", out)
    check(rc == 0, f"eval exited {rc}: {se}")
    rows = [json.loads(l) for l in so.strip().splitlines()]
    want = final_eval(out)
    check([r["length"] for r in rows] == [2, 5], f"lengths {[r['length'] for r in rows]}")
    for r in rows:
        for k, v in want[r["length"]].items():
            check(abs(r[k] - v) <= 1e-12 * max(1.0, abs(v)), f"length {r['length']} {k}: eval {r[k]} vs train {v}")
    rc, so, se = S.sdnc("eval", "--checkpoint", out, "--lengths", "7", "--batches", 1)
    check(rc == 0 and json.loads(so)["length"] == 7, f"--lengths 7: {rc} {so} {se}")
    return "bit_errors at 2/5: " + ", ".join(f"{want[L]['bit_errors']:.2f}" for L in (2, 5))


@S.case("generate is deterministic for a seed and greedy picks the argmax")
def generate():
    out = S.fresh_dir("lm")
    train(out, "--model", "sdnc", "--task", "char_lm", "--corpus", CORPUS, "--max_length", 32, "--steps", 40,
          "--d_model", 32, "--d_ffn", 64, "--eval_batches", 1)
    args = ["generate", "--checkpoint", out, "--prompt", "the quick ", "--tokens", "40"]
    r1, r2 = S.sdnc(*args, "--seed", 5), S.sdnc(*args, "--seed", 5)
    check(r1[0] == 0, f"generate exited {r1[0]}: {r1[2]}")
    check(r1[1] == r2[1], "same seed, different text")
    raw = subprocess.run([S.binary, *args, "--seed", "5"], stdout=subprocess.PIPE).stdout
    check(raw.startswith(b"the quick ") and len(raw) == len("the quick ") + 40 + 1, f"output {raw!r}")
    r3 = S.sdnc("generate", "--checkpoint", out, "--tokens", 5, "--seed", 5, stdin=b"the quick ")
    check(r3[0] == 0 and r3[1].startswith("the quick "), f"prompt from stdin: {r3}")
    # Greedy: the first new byte is the argmax of the parallel form's last logits.
    rg = S.sdnc(*args[:-2], "--tokens", 1, "--temperature", 0)
    check(rg[0] == 0, f"greedy exited {rg[0]}: {rg[2]}")
    inp, res = os.path.join(out, "in.safetensors"), os.path.join(out, "out.safetensors")
    safetensors_np.save(inp, {"tokens": np.frombuffer(b"the quick ", dtype=np.uint8).astype(np.int64)[None, :]})
    rc, _, se = S.sdnc("run", "--model", os.path.join(out, "model"), "--input", inp, "--output", res)
    check(rc == 0, f"sdnc run on the exported model: {se}")
    logits = safetensors_np.load(res)[0]["logits"]
    want = chr(int(np.argmax(logits[0, -1])))
    got = chr(subprocess.run([S.binary, *args[:-2], "--tokens", "1", "--temperature", "0"],
                             stdout=subprocess.PIPE).stdout[-2])
    check(got == want, f"greedy byte {got!r} != argmax of run's logits {want!r}")
    # The decode step's matrices packed to bf16 / int8: the same kind of text, greedily.
    for weights in ("bf16", "int8"):
        rw = subprocess.run([S.binary, *args[:-2], "--tokens", "12", "--temperature", "0", "--weights", weights],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(rw.returncode == 0 and rw.stdout.startswith(b"the quick ") and len(rw.stdout) == len("the quick ") + 13,
              f"--weights {weights}: exit {rw.returncode}, {rw.stdout!r} {rw.stderr!r}")
    return f"sample: {r1[1].strip()[:50]!r}"


@S.case("generate works for the recurrent models (dnc, lstm): greedy = argmax of run at every step")
def generate_recurrent():
    seen = []
    for model in ["dnc", "lstm"]:
        out = S.fresh_dir("lm_" + model)
        train(out, "--model", model, "--task", "char_lm", "--corpus", CORPUS, "--max_length", 16, "--steps", 150,
              "--lr", 0.01, "--eval_batches", 1)
        prompt, n = b"the quick ", 12
        rc = subprocess.run([S.binary, "generate", "--checkpoint", out, "--prompt", prompt.decode(), "--tokens",
                             str(n), "--temperature", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(rc.returncode == 0, f"{model}: generate exited {rc.returncode}: {rc.stderr.decode()}")
        text = rc.stdout[:-1]
        check(text.startswith(prompt) and len(text) == len(prompt) + n, f"{model}: output {rc.stdout!r}")
        # The whole text through `sdnc run` (the model's own forward, one-hot bytes): at every
        # generated position greedy picked the argmax of the logits before it.
        ids = np.frombuffer(text, dtype=np.uint8)
        inp, res = os.path.join(out, "in.safetensors"), os.path.join(out, "out.safetensors")
        safetensors_np.save(inp, {"inputs": np.eye(256, dtype=np.float32)[ids][None, :, :]})
        r, _, se = S.sdnc("run", "--model", os.path.join(out, "model"), "--input", inp, "--output", res)
        check(r == 0, f"{model}: sdnc run exited {r}: {se}")
        logits = safetensors_np.load(res)[0]["outputs"][0]
        want = np.argmax(logits[len(prompt) - 1:-1], axis=-1)
        check(list(want) == list(ids[len(prompt):]), f"{model}: greedy {list(ids[len(prompt):])} != argmax {list(want)}")
        seen.append(f"{model} {text[len(prompt):]!r}")
    return ", ".join(seen)


# ---- trace ------------------------------------------------------------------------------

def png_size(path):
    with open(path, "rb") as f:
        head = f.read(33)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    check(head[12:16] == b"IHDR", f"{path} has no IHDR chunk first")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


TRACE_FIGURES = {
    "dnc": ["io.png", "read_weights.png", "write_weights.png", "usage.png", "link.png", "memory.png"],
    "sdnc": ["io.png", "layers.0.read_weights.png", "layers.1.read_weights.png"],
    "encoder_decoder": ["encoder.layers.0.read_weights.png", "layers.0.read_weights.png",
                        "layers.0.cross_read_weights.png"],
}


@S.case("trace writes valid PNG heatmaps and one HTML page that shows them")
def trace():
    import html.parser

    for model, files in TRACE_FIGURES.items():
        out = S.fresh_dir("trace_" + model)
        task = "reverse" if model == "encoder_decoder" else "copy"
        train(out, "--model", model, "--task", task, "--steps", 3, "--eval_batches", 1, "--max_length", 3,
              "--num_layers", 2 if model == "sdnc" else 1, "--d_model", 16, "--d_ffn", 32)
        pics = os.path.join(out, "pics")
        rc, so, se = S.sdnc("trace", "--checkpoint", out, "--out", pics, "--length", 4)
        check(rc == 0, f"{model}: trace exited {rc}: {se}")
        check(so.strip() == os.path.join(pics, "index.html"), f"{model}: printed {so!r}")
        for f in files:
            w, h = png_size(os.path.join(pics, f))
            check(40 <= w <= 4000 and 40 <= h <= 6000, f"{model}/{f}: odd size {w}x{h}")

        class Page(html.parser.HTMLParser):
            def __init__(self):
                super().__init__()
                self.images, self.open = [], []

            def handle_starttag(self, tag, attrs):
                if tag == "img":
                    self.images.append(dict(attrs).get("src"))
                elif tag not in ("meta", "br", "link"):
                    self.open.append(tag)

            def handle_endtag(self, tag):
                check(self.open and self.open[-1] == tag, f"{model}: unbalanced </{tag}>")
                self.open.pop()

        page = Page()
        with open(os.path.join(pics, "index.html"), encoding="utf-8") as fh:
            text = fh.read()
        page.feed(text)
        check(not page.open, f"{model}: unclosed tags {page.open}")
        check(set(files) <= set(page.images), f"{model}: page shows {page.images}, expected {files}")
        for src in page.images:
            check(os.path.isfile(os.path.join(pics, src)), f"{model}: page links a missing {src}")
    rc, so, se = S.sdnc("trace", "--checkpoint", os.path.join(S.work, "trace_dnc"), "--out", "/proc/forbidden/x")
    expect_error(rc, se, "/proc/forbidden")
    return ", ".join(f"{m}: {len(f)} figures" for m, f in TRACE_FIGURES.items())


# ---- bad input ----------------------------------------------------------------------------

def write_json(path, obj):
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


BAD_CONFIGS = [
    ("unknown key", {"model": "dnc", "batch_sise": 8}, ["batch_sise", "did you mean 'batch_size'"]),
    ("wrong type", {"lr": "fast"}, ["'lr'", "number"]),
    ("out of range", {"batch_size": 0}, ["'batch_size'", "[1, 65536]", "got 0"]),
    ("bad choice", {"model": "transformer"}, ["'model'", "dnc"]),
    ("not an object", [1, 2], ["JSON object"]),
    ("model and task disagree", {"model": "dnc", "task": "reverse"}, ["reverse", "encoder_decoder"]),
    ("lengths", {"min_length": 5, "max_length": 2}, ["min_length"]),
    ("null value", {"lr": None}, ["'lr'"]),
    ("invalid JSON", "{\"lr\": 1e-3,,}", ["invalid JSON"]),
]


@S.case("bad training configs: one message naming the key, nothing written")
def bad_configs():
    for name, cfg, words in BAD_CONFIGS:
        d = S.fresh_dir("badcfg")
        path = write_json(os.path.join(d, "cfg.json"), cfg)
        out = os.path.join(d, "out")
        rc, so, se = S.sdnc("train", "--config", path, "--out_dir", out, "--quiet")
        try:
            expect_error(rc, se, *words)
        except Exception as e:
            raise type(e)(f"{name}: {e}")
        check(not os.path.exists(out), f"{name}: {out} was created")
    rc, so, se = S.sdnc("train", "--lr", "-1", "--out_dir", os.path.join(S.work, "x"), "--quiet")
    expect_error(rc, se, "--lr")
    rc, so, se = S.sdnc("train", "--config", os.path.join(S.work, "missing.json"), "--quiet")
    expect_error(rc, se, "missing.json")
    rc, so, se = S.sdnc("train", "--no_such_flag", "1")
    expect_error(rc, se, "--no_such_flag")
    rc, so, se = S.sdnc("eval", "--checkpoint")
    expect_error(rc, se, "--checkpoint")
    return f"{len(BAD_CONFIGS) + 4} cases"


@S.case("missing corpus file")
def missing_corpus():
    d = S.fresh_dir("nocorpus")
    rc, so, se = S.sdnc("train", "--model", "sdnc", "--task", "char_lm", "--corpus", os.path.join(d, "nope.txt"),
                        "--out_dir", os.path.join(d, "out"), "--quiet")
    expect_error(rc, se, "nope.txt")
    check(not os.path.exists(os.path.join(d, "out")), "output directory created")


def snapshot(out):
    with open(os.path.join(out, "checkpoint.safetensors"), "rb") as f:
        return f.read()


@S.case("bad checkpoints: message names the file, the previous checkpoint is intact")
def bad_checkpoints():
    out = S.fresh_dir("ck")
    train(out, "--model", "dnc", "--task", "copy", "--steps", 3, "--eval_batches", 1, "--max_length", 2,
          "--hidden_size", 8)
    before = snapshot(out)
    rc, so, se = S.sdnc("train", "--out_dir", out, "--resume", "--model", "lstm", "--quiet")
    expect_error(rc, se, "'model'")  # resume with another model
    rc, so, se = S.sdnc("train", "--out_dir", out, "--model", "dnc", "--quiet")
    expect_error(rc, se, "already holds a checkpoint")  # no silent overwrite
    check(snapshot(out) == before, "checkpoint changed by a refused run")
    # A checkpoint from another model: an lstm's tensors under a dnc's config.
    other = S.fresh_dir("ck_lstm")
    train(other, "--model", "lstm", "--task", "copy", "--steps", 2, "--eval_batches", 1, "--max_length", 2)
    mixed = S.fresh_dir("ck_mixed")
    t, meta = safetensors_np.load(os.path.join(other, "checkpoint.safetensors"))
    _, dmeta = safetensors_np.load(os.path.join(out, "checkpoint.safetensors"))
    meta["model_config"], meta["train_config"] = dmeta["model_config"], dmeta["train_config"]
    safetensors_np.save(os.path.join(mixed, "checkpoint.safetensors"), t, metadata=meta)
    rc, so, se = S.sdnc("eval", "--checkpoint", mixed)
    expect_error(rc, se, "checkpoint.safetensors")
    # Corrupt: truncated, and garbage.
    for name, data in (("truncated", before[: len(before) // 2]), ("garbage", b"\x00" * 64)):
        bad = S.fresh_dir("ck_" + name)
        shutil.copy(os.path.join(out, "metrics.jsonl"), bad)
        with open(os.path.join(bad, "checkpoint.safetensors"), "wb") as f:
            f.write(data)
        for cmd in (["eval", "--checkpoint", bad], ["train", "--out_dir", bad, "--resume", "--quiet"]):
            rc, so, se = S.sdnc(*cmd)
            expect_error(rc, se, "checkpoint.safetensors")
        with open(os.path.join(bad, "checkpoint.safetensors"), "rb") as f:
            check(f.read() == data, f"{name} checkpoint was modified")
    rc, so, se = S.sdnc("eval", "--checkpoint", os.path.join(S.work, "nowhere"))
    expect_error(rc, se, "nowhere")
    rc, so, se = S.sdnc("generate", "--checkpoint", out, "--prompt", "x")
    expect_error(rc, se, "char_lm")  # not a language model
    return "resume/another model/truncated/garbage/missing"


@S.case("compare's table holds the numbers eval gives on the same checkpoints")
def compare_matches_eval():
    out = S.fresh_dir("compare")
    rc, so, se = S.sdnc("compare", "--seconds", 1.5, "--max-length", 3, "--threads", 1, "--out", out)
    check(rc == 0, f"compare exited {rc}: {se[-1500:]}")
    rows = [l for l in so.splitlines() if l.startswith("| sDNC") or l.startswith("| DNC") or l.startswith("| Hybrid")]
    check(len(rows) == 3, f"table rows: {rows}")
    for png in ("accuracy.png", "loss.png"):
        with open(os.path.join(out, png), "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG")
    for row, model in zip(rows, ("sdnc", "dnc", "hybrid")):
        cells = [c.strip() for c in row.strip("|").split("|")]
        be3, acc3, be6, acc6 = float(cells[4]), float(cells[5].rstrip("%")), float(cells[6]), float(cells[7].rstrip("%"))
        rc, eo, ee = S.sdnc("eval", "--checkpoint", os.path.join(out, model))
        check(rc == 0, f"eval {model}: {ee}")
        ev = {r["length"]: r for r in map(json.loads, eo.strip().splitlines())}
        check(sorted(ev) == [3, 6], f"eval lengths {sorted(ev)}")
        steps = int(cells[2])
        check(all(r["step"] == steps for r in ev.values()), f"{model}: table steps {steps}, eval {ev}")
        for L, be, acc in ((3, be3, acc3), (6, be6, acc6)):
            check(abs(ev[L]["bit_errors"] - be) <= 0.005 + 1e-9, f"{model} @{L}: table {be} vs eval {ev[L]['bit_errors']}")
            check(abs(100 * ev[L]["seq_accuracy"] - acc) <= 0.05 + 1e-9,
                  f"{model} @{L}: table {acc}% vs eval {100 * ev[L]['seq_accuracy']}%")
    return "table == eval for sDNC, DNC and the hybrid at lengths 3 and 6"


def main():
    global CORPUS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    S.binary = os.path.abspath(args.sdnc)
    S.work = tempfile.mkdtemp(prefix="sdnc_cli_train_")
    CORPUS = os.path.join(S.work, "corpus.txt")
    with open(CORPUS, "w") as f:
        f.write("the quick brown fox jumps over the lazy dog. " * 400)
    try:
        return S.run(args.k)
    finally:
        if args.keep:
            print(f"[cli_train] scratch folder kept: {S.work}")
        else:
            shutil.rmtree(S.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
