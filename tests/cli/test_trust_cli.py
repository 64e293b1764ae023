#!/usr/bin/python3
"""Trust (issue 15), end to end through the real binary: model configs reject typos, bad
weights and mismatched folders are refused by name, and the one CLI convention (docs/cli.md).

  /usr/bin/python3 tests/cli/test_trust_cli.py --sdnc build/release/sdnc --golden DIR [-k NAME] [--keep]

Each check here failed on the code before issue 15 (the typo'd config ran, NaN weights ran,
an LSTM checkpoint in a DNC folder was evaluated, usage errors exited 104-109, ...).
"""
import argparse
import json
import os
import resource
import shutil
import struct
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import safetensors_np  # noqa: E402
from harness import Suite, check  # noqa: E402

S = Suite("cli_trust")
GOLDEN = None
TRAINED = {}  # model -> a tiny training output folder (made once)


def one_error_line(rc, se, *words, code=None):
    check(rc not in (0, None) and rc > 0, f"exit code {rc}, expected a non-zero exit without a signal")
    if code is not None:
        check(rc == code, f"exit code {rc}, expected {code}: {se.strip()[:300]}")
    lines = [l for l in se.strip().splitlines() if l]
    check(len(lines) == 1 and lines[0].startswith("sdnc: ["), f"expected one 'sdnc: [' line, got: {se.strip()[:600]}")
    for w in words:
        check(w in lines[0], f"message {lines[0]!r} does not name {w!r}")
    return lines[0]


def copy_case(name):
    d = S.fresh_dir(name + "_copy")
    shutil.rmtree(d)
    shutil.copytree(os.path.join(GOLDEN, name), d)
    return d


def edit_config(d, **changes):
    p = os.path.join(d, "config.json")
    with open(p) as f:
        c = json.load(f)
    for k, v in changes.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    with open(p, "w") as f:
        json.dump(c, f)


def run_model(d, inputs):
    inp = os.path.join(S.work, "in.safetensors")
    safetensors_np.save(inp, inputs)
    out = os.path.join(S.work, "out.safetensors")
    if os.path.exists(out):
        os.remove(out)
    rc, so, se = S.sdnc("run", "--model", d, "--input", inp, "--output", out)
    return rc, so, se, out


def tokens_of(name):
    io = safetensors_np.load(os.path.join(GOLDEN, "gpt2" if name == "gpt2_hf_names" else name, "io.safetensors"))
    return io[0] if isinstance(io, tuple) else io


def golden_inputs(name):
    t = tokens_of(name)
    return {k[len("input."):]: v for k, v in t.items() if k.startswith("input.")}


def trained(model):
    """A one-step training run of `model` on copy (cached); its folder holds model/ too."""
    if model not in TRAINED:
        out = os.path.join(S.work, "trained_" + model)
        flags = ["--model", model, "--task", "copy", "--steps", 2, "--num-bits", 3, "--max-length", 2,
                 "--eval-batches", 1, "--batch-size", 2, "--hidden-size", 8, "--memory-size", 4, "--word-size", 4,
                 "--num-read-heads", 1, "--d-model", 8, "--num-heads", 2, "--d-ffn", 8, "--num-layers", 1]
        rc, so, se = S.sdnc("train", "--out", out, "--threads", 1, "--quiet", "--overwrite", *flags)
        check(rc == 0, f"train {model}: exit {rc}: {se[-800:]}")
        TRAINED[model] = out
    return TRAINED[model]


# ---- 1. model configs reject unknown keys, name missing ones ----------------------------------

@S.case("encoder config typo norm_frist is refused with the nearest name")
def _():
    d = copy_case("encoder_model")
    edit_config(d, norm_first=None, norm_frist=True)
    rc, so, se, out = run_model(d, golden_inputs("encoder_model"))
    one_error_line(rc, se, "config.json", "unknown key 'norm_frist'", "did you mean 'norm_first'")
    check(not os.path.exists(out), "an output file was written")


@S.case("typos refused in gpt2 / encoder_decoder configs")
def _():
    for name, typo, near in (("gpt2", "n_emdb", "n_embd"), ("encoder_decoder_pre", "num_decoder_layer",
                                                             "num_decoder_layers")):
        d = copy_case(name)
        edit_config(d, **{typo: 3})
        rc, so, se, _ = run_model(d, golden_inputs(name))
        one_error_line(rc, se, f"unknown key '{typo}'", f"did you mean '{near}'")


@S.case("typos refused in dnc / lstm / sequence sdnc configs (model/ of a training run)")
def _():
    for model, typo, near in (("dnc", "memroy_size", "memory_size"), ("lstm", "hiden_size", "hidden_size"),
                              ("sdnc", "nheads", "nhead")):
        src = os.path.join(trained(model), "model")
        d = S.fresh_dir(model + "_model")
        shutil.rmtree(d)
        shutil.copytree(src, d)
        edit_config(d, **{typo: 4})
        x = np.zeros((1, 3, 5), np.float32)  # copy with 3 bits: 3 + 2 flags
        rc, so, se, _ = run_model(d, {"inputs": x})
        one_error_line(rc, se, f"unknown key '{typo}'", f"did you mean '{near}'")
        edit_config(d, **{typo: None, "input_size": None})
        rc, so, se, _ = run_model(d, {"inputs": x})
        one_error_line(rc, se, "input_size")


@S.case("HF GPT-2 keys: harmless ones accepted, arithmetic-changing ones refused")
def _():
    d = copy_case("gpt2_hf_names")
    edit_config(d, transformers_version="4.30.0", torch_dtype="float32", tie_word_embeddings=True,
                reorder_and_upcast_attn=False, pad_token_id=0)
    rc, so, se, _ = run_model(d, golden_inputs("gpt2_hf_names"))
    check(rc == 0, f"harmless HF keys refused: {se.strip()}")
    edit_config(d, scale_attn_weights=False)
    rc, so, se, _ = run_model(d, golden_inputs("gpt2_hf_names"))
    one_error_line(rc, se, "scale_attn_weights")


# ---- weights and folders -----------------------------------------------------------------------

@S.case("non-finite weights are refused naming the tensor")
def _():
    for bad in (np.nan, np.inf):
        d = copy_case("gpt2")
        p = os.path.join(d, "model.safetensors")
        t, meta = safetensors_np.load(p)
        w = t["h.1.mlp.c_fc.weight"].copy()
        w.flat[5] = bad
        t["h.1.mlp.c_fc.weight"] = w
        safetensors_np.save(p, t, meta)
        rc, so, se, out = run_model(d, golden_inputs("gpt2"))
        one_error_line(rc, se, "h.1.mlp.c_fc.weight", "non-finite")


@S.case("an untied lm_head is refused, not silently dropped")
def _():
    d = copy_case("gpt2_hf_names")
    p = os.path.join(d, "model.safetensors")
    t, meta = safetensors_np.load(p)
    t["lm_head.weight"] = t["lm_head.weight"] + np.float32(0.01)
    safetensors_np.save(p, t, meta)
    rc, so, se, _ = run_model(d, golden_inputs("gpt2_hf_names"))
    one_error_line(rc, se, "lm_head.weight")


@S.case("eval on a DNC folder holding an LSTM checkpoint is refused")
def _():
    dnc, lstm = trained("dnc"), trained("lstm")
    d = S.fresh_dir("mixed")
    shutil.rmtree(d)
    shutil.copytree(dnc, d)
    shutil.copy(os.path.join(lstm, "checkpoint.safetensors"), os.path.join(d, "checkpoint.safetensors"))
    rc, so, se = S.sdnc("eval", "--checkpoint", d)
    one_error_line(rc, se, "model/config.json", "dnc", "lstm")
    rc, so, se = S.sdnc("eval", "--checkpoint", dnc, "--batches", 1)
    check(rc == 0, f"eval of the untouched folder failed: {se.strip()}")


@S.case("JSON number overflow (lr: 1e400) names the file")
def _():
    p = os.path.join(S.work, "overflow.json")
    with open(p, "w") as f:
        f.write('{"model": "lstm", "lr": 1e400}')
    rc, so, se = S.sdnc("train", "--config", p, "--out", os.path.join(S.work, "never"))
    one_error_line(rc, se, "overflow.json", "1e400")
    check("json.exception" not in se, f"raw exception text: {se}")


@S.case("out of memory loading an input names the file")
def _():
    if os.environ.get("ASAN_OPTIONS") is not None:
        return "skipped under ASan (an address-space limit breaks its shadow memory)"
    p = os.path.join(S.work, "huge.safetensors")  # a sparse 8 GiB file: F32 [2^31]
    n = 1 << 31
    h = json.dumps({"tokens": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.truncate(8 + len(h) + 4 * n)
    cap = 2 << 30

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    import subprocess
    pr = subprocess.run([S.binary, "run", "--model", os.path.join(GOLDEN, "gpt2"), "--input", p, "--output",
                         os.path.join(S.work, "huge_out.safetensors")], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, preexec_fn=limit, timeout=120)
    os.remove(p)
    one_error_line(pr.returncode, pr.stderr.decode(errors="replace"), "huge.safetensors", "memory")


# ---- the CLI convention -------------------------------------------------------------------------

@S.case("unknown subcommands get 'did you mean' and exit 2")
def _():
    rc, so, se = S.sdnc("evl", "--checkpoint", "x")
    one_error_line(rc, se, "'evl'", "did you mean 'eval'", code=2)
    rc, so, se = S.sdnc("frobnicate")
    one_error_line(rc, se, "'frobnicate'", code=2)


@S.case("unknown flags get 'did you mean' (one edit from a flag of that subcommand) and exit 2")
def _():
    for args, flag, near in ((("train", "--stepz", 10), "--stepz", "--steps"),
                             (("train", "--max_lenght=5"), "--max_lenght", "--max_length"),
                             (("eval", "--checkpoint", "x", "--lenghts", 3), "--lenghts", "--lengths")):
        rc, so, se = S.sdnc(*args)
        one_error_line(rc, se, flag, f"did you mean '{near}'", code=2)
    rc, so, se = S.sdnc("train", "--zzzzzz", 1)  # nothing near: named, no suggestion
    line = one_error_line(rc, se, "--zzzzzz", code=2)
    check("did you mean" not in line, f"a suggestion for a flag with no near name: {line!r}")


@S.case("usage errors exit 2 with one line naming the flag; numeric flags range-checked")
def _():
    ck = trained("lstm")
    cases = [
        (("eval", "--checkpoint", ck, "--batches", -1), "--batches"),
        (("eval", "--checkpoint", ck, "--lengths", "4,0"), "--lengths"),
        (("trace", "--checkpoint", ck, "--length", 0), "--length"),
        (("trace", "--checkpoint", ck, "--seed", -1), "--seed"),
        (("verify", "--seed", -1), "--seed"),
        (("demo", "--steps", 0), "--steps"),
        (("generate", "--checkpoint", ck, "--top-k", -1), "--top-k"),
        (("generate", "--model", "m.gguf", "--activations", "int4"), "--activations"),
        (("generate", "--checkpoint", ck, "--activations", "int8"), "--activations"),
        (("generate", "--checkpoint", ck, "--weights", "int4"), "--weights"),
        (("generate", "--checkpoint", ck, "--weights", "bf16"), "--weights"),
        (("generate", "--model", "m.gguf", "--weights", "int8"), "--weights"),
        (("compare", "--seconds", 0), "--seconds"),
        (("compare", "--task", "sort"), "--task"),
        (("run", "--model", "m", "--input", "i", "--output", "o", "--form", "sideways"), "--form"),
        (("train", "--lr"), "--lr"),
        (("train", "--bogus", 1), "--bogus"),
        (("eval",), "--checkpoint"),
        (("eval", "--checkpoint", ck, "--threads", -2), "--threads"),
    ]
    for args, flag in cases:
        rc, so, se = S.sdnc(*args)
        line = one_error_line(rc, se, code=2)
        check(flag in line, f"sdnc {' '.join(map(str, args))}: {line!r} does not name {flag}")
        check("1.79769e+308" not in line and "179769313486231570814527" not in line, f"unreadable range: {line}")


@S.case("train --help shows each key's type, default and choices")
def _():
    rc, so, se = S.sdnc("train", "--help")
    check(rc == 0, f"exit {rc}")
    for words in (("--batch-size", "INT", "default 16", "1..65536"),
                  ("--task", "default copy", "one of copy, repeat_copy"),
                  ("--lr", "NUMBER"), ("--eval-lengths", "--lengths")):
        line = next((l for l in so.splitlines() if words[0] in l), None)
        check(line is not None, f"no line for {words[0]} in train --help")
        block = so[so.index(line):so.index(line) + 400]
        for w in words[1:]:
            check(w in block, f"train --help: {words[0]} lacks {w!r}: {block[:200]!r}")


def saved_train_config(out):
    t, meta = safetensors_np.load(os.path.join(out, "checkpoint.safetensors"))
    return json.loads(meta["train_config"])


@S.case("kebab-case flags, snake_case aliases and --out / --lengths give the same run")
def _():
    a, b = os.path.join(S.work, "kebab"), os.path.join(S.work, "snake")
    common = ["--model", "lstm", "--task", "copy", "--steps", 1, "--threads", 1, "--quiet"]
    rc, so, se = S.sdnc("train", "--out", a, "--max-length", 3, "--eval-batches", 1, "--lengths", "2,3",
                        "--hidden-size", 8, *common)
    check(rc == 0, f"kebab: {se}")
    rc, so, se = S.sdnc("train", "--out_dir", b, "--max_length", 3, "--eval_batches", 1, "--eval_lengths", "2,3",
                        "--hidden_size", 8, *common)
    check(rc == 0, f"snake: {se}")
    ca, cb = saved_train_config(a), saved_train_config(b)
    ca.pop("out_dir"), cb.pop("out_dir")
    check(ca == cb, f"configs differ: {ca} vs {cb}")
    check(ca["max_length"] == 3 and ca["eval_lengths"] == [2, 3] and ca["hidden_size"] == 8, f"{ca}")
    for flags in (("--lengths", "2"), ("--eval-lengths", "2"), ("--eval_lengths", "2")):
        rc, so, se = S.sdnc("eval", "--checkpoint", a, "--batches", 1, *flags)
        check(rc == 0 and json.loads(so.splitlines()[0])["length"] == 2, f"eval {flags}: {se}")


# ---- verify's rows can fail ---------------------------------------------------------------------

def verify_rows(*flags):
    rc, so, se = S.sdnc("verify", "--threads", 1, *flags)
    rows = [l for l in so.splitlines() if l.endswith(" ok") or l.endswith(" FAIL")]
    return rc, rows, se


@S.case("every verify row fails when its property is broken (and only passes otherwise)")
def _():
    rc, rows, se = verify_rows()
    check(rc == 0 and len(rows) == 7 and all(r.endswith(" ok") for r in rows), f"clean run: rc {rc} {rows} {se}")
    for n in range(1, 8):
        rc, rows, se = verify_rows("--break-row", n)
        check(rc == 1, f"--break-row {n}: exit {rc}, expected 1")
        check(len(rows) == 7 and rows[n - 1].endswith(" FAIL"), f"--break-row {n}: row {n} did not fail: {rows}")


def main():
    global GOLDEN
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--golden", required=True, help="folder written by tests/golden/gen_models.py")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    S.binary, GOLDEN = os.path.abspath(args.sdnc), os.path.abspath(args.golden)
    S.work = tempfile.mkdtemp(prefix="sdnc_cli_trust_")
    try:
        return S.run(args.k)
    finally:
        if args.keep:
            print(f"[cli_trust] scratch folder kept: {S.work}")
        else:
            shutil.rmtree(S.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
