#!/usr/bin/python3
"""End-to-end tests of `sdnc run`, through the real binary.

  /usr/bin/python3 tests/cli/test_run_cli.py --sdnc build/dev/sdnc --golden build/dev/golden_models

--golden is the folder tests/golden/gen_models.py writes (the CTest fixture golden_models).

Checks
  * logits of the golden checkpoints (GPT-2, GPT-2 with Hugging Face names, the encoder, both
    encoder-decoders) in both forms against PyTorch: max |got - ref| / max(1, |ref|) <= 1e-5;
  * a GPT-2 checkpoint written here by PyTorch with a Hugging Face config.json, tokens stored
    as int32 and as int64, against a plain PyTorch GPT-2 forward;
  * --trace: shapes, rows summing to 1, zeros above the diagonal (causal) and on padded keys,
    parallel == recurrent;
  * bad input: non-zero exit without a signal, exactly one line "sdnc: [..." on stderr naming
    the problem, and no output file (nor a leftover temporary) afterwards; an existing output
    file is left as it was.
Prints one line per check and a summary; exits 1 if any check failed.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN_SRC = os.path.join(os.path.dirname(HERE), "golden")
sys.path.insert(0, GOLDEN_SRC)
import safetensors_np  # noqa: E402

LOGIT_TOL = 1e-5  # max |got - ref| / max(1, |ref|)
TRACE_TOL = 1e-5  # parallel vs recurrent read weights, absolute
ROW_TOL = 1e-5    # |sum of a row - 1|

ARGS = None
WORK = None
RESULTS = []  # (name, ok, detail)
CASES = []    # the checks, in the order they run


class CheckFailed(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def case(name):
    """Decorator: runs the function as one named check, records pass/fail."""
    def wrap(fn):
        def run():
            try:
                detail = fn() or ""
                RESULTS.append((name, True, detail))
                print(f"[cli_run] ok    {name}{'  ' + detail if detail else ''}", flush=True)
            except Exception as e:  # noqa: BLE001 - a check failing must not stop the others
                RESULTS.append((name, False, str(e)))
                print(f"[cli_run] FAIL  {name}: {e}", flush=True)
                if not isinstance(e, CheckFailed):
                    traceback.print_exc()
        run.case_name = name
        CASES.append(run)
        return fn
    return wrap


# ---- helpers -----------------------------------------------------------------------------

def fresh_dir(name):
    d = os.path.join(WORK, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def sdnc(*args, timeout=300):
    p = subprocess.run([ARGS.sdnc, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def run_ok(model, inp, out, *extra):
    rc, so, se = sdnc("run", "--model", model, "--input", inp, "--output", out, *extra)
    check(rc == 0, f"sdnc run {' '.join(extra)} exited {rc}: {se.strip()}")
    check(se == "", f"sdnc run wrote to stderr on success: {se.strip()[:2000]}")
    check(os.path.isfile(out), f"no output file {out}")
    check(not leftovers(out), f"temporary files left beside {out}: {leftovers(out)}")
    tensors, meta = safetensors_np.load(out)
    return tensors, meta


def leftovers(path):
    d, base = os.path.split(os.path.abspath(path))
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if ".tmp." in f)


def golden(name):
    return os.path.join(ARGS.golden, name)


def golden_io_path(name):
    return os.path.join(golden("gpt2" if name == "gpt2_hf_names" else name), "io.safetensors")


def golden_io(name):
    # gpt2_hf_names holds the weights of gpt2 under Hugging Face names: same inputs and logits.
    io, _ = safetensors_np.load(golden_io_path(name))
    return io


def write_inputs(path, **tensors):
    safetensors_np.save(path, tensors)
    return path


def scaled_error(got, ref):
    check(got.shape == ref.shape, f"shape {list(got.shape)} != reference {list(ref.shape)}")
    got, ref = got.astype(np.float64), ref.astype(np.float64)
    e = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    return float("inf") if np.isnan(e).any() else float(e.max(initial=0.0))


def copy_model(name, dest_name):
    d = os.path.join(WORK, dest_name)
    if os.path.exists(d):
        shutil.rmtree(d)
    shutil.copytree(golden(name), d)
    if os.path.exists(os.path.join(d, "io.safetensors")):
        os.remove(os.path.join(d, "io.safetensors"))
    return d


def config_of(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        return json.load(f)


# ---- logits against PyTorch ------------------------------------------------------------------

INPUT_NAMES = {"gpt2": ["tokens"], "encoder": ["tokens"], "encoder_decoder": ["src", "tgt"]}


def golden_logits_case(name):
    def fn():
        model = golden(name)
        io = golden_io(name)
        mtype = config_of(model)["model_type"]
        d = fresh_dir("logits_" + name)
        inp = write_inputs(os.path.join(d, "in.safetensors"),
                           **{k: io["input." + k] for k in INPUT_NAMES[mtype]})
        errs = {}
        for form in ("parallel", "recurrent"):
            out = os.path.join(d, f"out_{form}.safetensors")
            t, meta = run_ok(model, inp, out, "--form", form)
            check(sorted(t) == ["logits"], f"{form}: output tensors {sorted(t)}, expected only logits")
            check(meta.get("model_type") == mtype and meta.get("form") == form, f"{form}: metadata {meta}")
            check(t["logits"].dtype == np.float32, f"{form}: logits dtype {t['logits'].dtype}")
            errs[form] = scaled_error(t["logits"], io["output"])
        print(f"[cli_run]       {name}: max logit err parallel {errs['parallel']:.2e}, "
              f"recurrent {errs['recurrent']:.2e} (tol {LOGIT_TOL:.0e})", flush=True)
        for form, e in errs.items():
            check(e <= LOGIT_TOL, f"{form}: max logit err {e:.3e} > {LOGIT_TOL:.0e}")
        return f"err parallel {errs['parallel']:.2e} recurrent {errs['recurrent']:.2e}"
    case(f"logits vs PyTorch: {name}")(fn)


for _name in ("gpt2", "gpt2_hf_names", "encoder_model", "encoder_decoder_post", "encoder_decoder_pre"):
    golden_logits_case(_name)


# ---- a GPT-2 checkpoint written here by PyTorch --------------------------------------------------

def write_own_gpt2(d, n_inner, seed):
    """A small GPT-2 with random weights, Conv1D layout [in, out], a Hugging Face config.json."""
    import torch
    from gen_models import gpt2_forward
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 53, "n_positions": 20,
           "n_ctx": 20, "n_embd": 32, "n_layer": 3, "n_head": 4, "n_inner": n_inner,
           "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1,
           "embd_pdrop": 0.1, "attn_pdrop": 0.1, "initializer_range": 0.02, "summary_type": "cls_index",
           "summary_use_proj": True, "summary_activation": None, "summary_proj_to_labels": True,
           "summary_first_dropout": 0.1, "scale_attn_weights": True, "use_cache": True,
           "bos_token_id": 50, "eos_token_id": 50, "task_specific_params": {"text-generation": {"max_length": 5}},
           "transformers_version": "4.30.0"}
    D, V, P, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_layer"]
    F = n_inner or 4 * D
    g = torch.Generator().manual_seed(seed)
    shapes = {"wte.weight": (V, D), "wpe.weight": (P, D)}
    for l in range(L):
        h = f"h.{l}."
        shapes.update({h + "ln_1.weight": (D,), h + "ln_1.bias": (D,), h + "attn.c_attn.weight": (D, 3 * D),
                       h + "attn.c_attn.bias": (3 * D,), h + "attn.c_proj.weight": (D, D),
                       h + "attn.c_proj.bias": (D,), h + "ln_2.weight": (D,), h + "ln_2.bias": (D,),
                       h + "mlp.c_fc.weight": (D, F), h + "mlp.c_fc.bias": (F,),
                       h + "mlp.c_proj.weight": (F, D), h + "mlp.c_proj.bias": (D,)})
    shapes.update({"ln_f.weight": (D,), "ln_f.bias": (D,)})
    p = {}
    for n, s in shapes.items():
        r = torch.randn(*s, generator=g, dtype=torch.float64)
        if "ln_" in n:
            t = (1 + 0.2 * r) if n.endswith("weight") else 0.2 * r
        elif n in ("wte.weight", "wpe.weight"):
            t = 0.7 * r
        else:
            t = (0.08 if n.endswith("weight") else 0.1) * r
        p[n] = t.float().double()  # the reference computes in float64 from the float32 weights
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    safetensors_np.save(os.path.join(d, "model.safetensors"), {k: v.float().numpy() for k, v in p.items()},
                        {"format": "pt"})
    tokens = torch.randint(0, V, (3, 17), generator=g)
    tokens[0, :3] = torch.tensor([0, V - 1, 0])  # both ends of the vocabulary
    with torch.no_grad():
        ref = gpt2_forward(p, tokens, cfg).numpy()
    return cfg, tokens.numpy(), ref


def own_gpt2_case(label, n_inner, seed):
    def fn():
        d = fresh_dir("own_gpt2_" + label)
        model = os.path.join(d, "model")
        cfg, tokens, ref = write_own_gpt2(model, n_inner, seed)
        errs = []
        for dt in (np.int64, np.int32):
            inp = write_inputs(os.path.join(d, f"in_{np.dtype(dt).name}.safetensors"), tokens=tokens.astype(dt))
            with open(inp, "rb") as f:  # make sure the file really stores that dtype
                (n,) = struct.unpack("<Q", f.read(8))
                stored = json.loads(f.read(n))["tokens"]["dtype"]
            check(stored == {np.int64: "I64", np.int32: "I32"}[dt], f"input stored as {stored}")
            for form in ("parallel", "recurrent"):
                out = os.path.join(d, f"out_{stored}_{form}.safetensors")
                t, _ = run_ok(model, inp, out, "--form", form)
                e = scaled_error(t["logits"], ref)
                print(f"[cli_run]       own GPT-2 ({label}) tokens {stored} {form}: max logit err {e:.2e}", flush=True)
                errs.append(e)
                check(e <= LOGIT_TOL, f"tokens {stored}, {form}: max logit err {e:.3e} > {LOGIT_TOL:.0e}")
        return f"max err {max(errs):.2e} over I64/I32 x parallel/recurrent"
    case(f"own PyTorch GPT-2 checkpoint ({label}), int32 and int64 tokens")(fn)


own_gpt2_case("n_inner null", None, 101)
own_gpt2_case("n_inner 48", 48, 202)


# ---- traces ------------------------------------------------------------------------------------

def check_weights(name, w, allowed):
    """w [B, H, T, S]; allowed [B, T, S] bool: the keys a row may read (causal and not padding).
    Every row with a key to read sums to 1, is non-negative and puts no weight elsewhere; a row
    with no key to read (fully padded) is all zeros. Returns the number of such rows."""
    a = np.broadcast_to(allowed[:, None], w.shape)
    live = np.broadcast_to(allowed.any(axis=-1)[:, None], w.shape[:3])  # [B, H, T]
    rows = w[live]  # [n, S]
    rows_allowed = a[live]
    check(np.isfinite(rows).all(), f"{name}: non-finite weights in a row with keys to read")
    outside = float(np.abs(np.where(rows_allowed, 0.0, rows)).max(initial=0.0))
    check(outside == 0.0, f"{name}: weight {outside:.3e} on a key the row may not read (causal or padding)")
    check((rows >= 0).all(), f"{name}: negative weights")
    worst = float(np.abs(rows.astype(np.float64).sum(axis=-1) - 1.0).max(initial=0.0))
    check(worst <= ROW_TOL, f"{name}: a row sums to 1 +- {worst:.3e}")
    dead = w[~live]  # rows with nothing to read: sdnc reads nothing (all zeros)
    check(np.all(dead == 0), f"{name}: a fully padded row holds non-zero (or NaN) weights")
    return int((~live).sum())


def trace_case(name, inputs=None, label=""):
    """inputs: None for the golden inputs (logits checked against PyTorch), or custom inputs
    (logits checked finite and equal in both forms)."""
    def fn():
        model = golden(name)
        io = golden_io(name)
        cfg = config_of(model)
        mtype = cfg["model_type"]
        d = fresh_dir("trace_" + name + label.replace(" ", "_"))
        used = inputs if inputs is not None else {k: io["input." + k] for k in INPUT_NAMES[mtype]}
        inp = write_inputs(os.path.join(d, "in.safetensors"), **used)
        outs = {}
        for form in ("parallel", "recurrent"):
            t, _ = run_ok(model, inp, os.path.join(d, f"out_{form}.safetensors"), "--form", form, "--trace")
            if inputs is None:
                check(scaled_error(t["logits"], io["output"]) <= LOGIT_TOL, f"{form}: logits with --trace differ")
            else:
                check(np.isfinite(t["logits"]).all(), f"{form}: non-finite logits")
            outs[form] = t
        if inputs is not None:
            e = scaled_error(outs["recurrent"]["logits"], outs["parallel"]["logits"])
            check(e <= LOGIT_TOL, f"logits parallel vs recurrent differ by {e:.3e}")
        pad = cfg.get("pad_token_id", -1)
        expected = {}  # name -> allowed [B, T, S]
        H = cfg.get("n_head", cfg.get("nhead"))
        if mtype == "gpt2":
            B, T = used["tokens"].shape
            causal = np.tril(np.ones((T, T), dtype=bool))
            for l in range(cfg["n_layer"]):
                expected[f"layers.{l}.read_weights"] = np.broadcast_to(causal, (B, T, T))
        elif mtype == "encoder":
            tok = used["tokens"]
            B, T = tok.shape
            keys = np.broadcast_to((tok != pad)[:, None, :], (B, T, T))
            for l in range(cfg["num_encoder_layers"]):
                expected[f"layers.{l}.read_weights"] = keys
        else:
            src, tgt = used["src"], used["tgt"]
            B, S = src.shape
            T = tgt.shape[1]
            src_keys = (src != pad)[:, None, :]
            causal = np.tril(np.ones((T, T), dtype=bool))[None]
            for l in range(cfg["num_encoder_layers"]):
                expected[f"encoder.layers.{l}.read_weights"] = np.broadcast_to(src_keys, (B, S, S))
            for l in range(cfg["num_decoder_layers"]):
                expected[f"layers.{l}.read_weights"] = causal & (tgt != pad)[:, None, :]
                expected[f"layers.{l}.cross_read_weights"] = np.broadcast_to(src_keys, (B, T, S))
        worst, dead = 0.0, 0
        for form, t in outs.items():
            names = sorted(k for k in t if k != "logits")
            check(names == sorted(expected), f"{form}: trace tensors {names}, expected {sorted(expected)}")
            for k, allowed in expected.items():
                want = (allowed.shape[0], H, allowed.shape[1], allowed.shape[2])
                check(t[k].shape == want, f"{form}: {k} has shape {list(t[k].shape)}, expected {list(want)}")
                dead += check_weights(f"{form} {k}", t[k], allowed)
        for k in expected:
            diff = float(np.abs(outs["parallel"][k].astype(np.float64) - outs["recurrent"][k]).max())
            worst = max(worst, diff)
            check(diff <= TRACE_TOL, f"{k}: parallel vs recurrent differ by {diff:.3e}")
        return f"{len(expected)} traces, {dead} fully padded rows, parallel vs recurrent max diff {worst:.2e}"
    case(f"--trace: {name}{label}")(fn)


for _name in ("gpt2", "encoder_model", "encoder_decoder_post", "encoder_decoder_pre"):
    trace_case(_name)
# Whole sequences of padding (pad_token_id 0): rows with nothing to read hold zeros, logits stay finite.
trace_case("encoder_model", {"tokens": np.array([[1, 2, 3, 0], [0, 0, 0, 0]], np.int64)}, " (a fully padded sequence)")
trace_case("encoder_decoder_post", {"src": np.array([[1, 2, 3], [0, 0, 0]], np.int64),
                                    "tgt": np.array([[0, 2], [0, 0]], np.int64)}, " (fully padded src and tgt rows)")


# ---- bad input ----------------------------------------------------------------------------------

def expect_failure(model, inp, keys, *extra, output=None):
    """Runs sdnc run and asserts a clean failure; returns the message."""
    if output is None:
        output = os.path.join(fresh_dir("failure_out"), "out.safetensors")
    rc, so, se = sdnc("run", "--model", model, "--input", inp, "--output", output, *extra)
    check(rc != 0, f"exited 0 (stderr: {se.strip()!r})")
    check(rc > 0, f"killed by signal {-rc}; stderr: {se[-2000:]}")
    check(rc not in (134, 139), f"exit code {rc} (abort / segfault); stderr: {se[-2000:]}")
    lines = se.splitlines()
    check(len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}: {se[-2000:]!r}")
    msg = lines[0]
    check(msg.startswith("sdnc: ["), f"message does not start with 'sdnc: [': {msg!r}")
    for k in keys:
        check(k in msg, f"message does not name {k!r}: {msg!r}")
    check(so == "", f"wrote to stdout: {so[:500]!r}")
    return msg, output


def failure_case(name, keys_fn):
    """keys_fn() -> (model, input, [substrings], extra args); asserts no output afterwards."""
    def fn():
        model, inp, keys, extra = keys_fn()
        msg, output = expect_failure(model, inp, keys, *extra)
        check(not os.path.exists(output), f"output file exists after the failure: {output}")
        check(not leftovers(output), f"temporary files left: {leftovers(output)}")
        return f"-> {msg}"
    case(f"bad input: {name}")(fn)


def gpt2_input(name, **tensors):
    d = fresh_dir("bad_" + name)
    return write_inputs(os.path.join(d, "in.safetensors"), **tensors)


def good_tokens(B=2, T=9, V=37, dtype=np.int64):
    return (np.arange(B * T) % V).reshape(B, T).astype(dtype)


# Inputs (GPT-2 golden model: vocab 37, n_positions 16).
failure_case("missing input tensor", lambda: (
    golden("gpt2"), gpt2_input("missing", ids=good_tokens()), ["'tokens'", "in.safetensors"], []))
failure_case("float tokens", lambda: (
    golden("gpt2"), gpt2_input("float", tokens=good_tokens().astype(np.float32)), ["'tokens'", "F32"], []))
failure_case("float64 tokens", lambda: (
    golden("gpt2"), gpt2_input("float64", tokens=good_tokens().astype(np.float64)), ["'tokens'", "F64"], []))
failure_case("3-D tokens", lambda: (
    golden("gpt2"), gpt2_input("3d", tokens=good_tokens().reshape(1, 2, 9)), ["in.safetensors", "tokens", "[1, 2, 9]"], []))
failure_case("1-D tokens", lambda: (
    golden("gpt2"), gpt2_input("1d", tokens=good_tokens().reshape(18)), ["in.safetensors", "tokens", "[18]"], []))
failure_case("0-D tokens", lambda: (
    golden("gpt2"), gpt2_input("0d", tokens=np.array(3, dtype=np.int64)), ["in.safetensors", "tokens"], []))
failure_case("empty tokens [B, 0]", lambda: (
    golden("gpt2"), gpt2_input("empty", tokens=np.zeros((2, 0), dtype=np.int64)), ["in.safetensors", "empty", "[2, 0]"], []))
failure_case("empty tokens [0, T]", lambda: (
    golden("gpt2"), gpt2_input("empty_batch", tokens=np.zeros((0, 4), dtype=np.int64)), ["in.safetensors", "empty", "[0, 4]"], []))


def token_at(value, b, t, dtype=np.int64, B=2, T=9, V=37):
    x = good_tokens(B, T, V, dtype=dtype)
    x[b, t] = value
    return x


failure_case("token = vocab size", lambda: (
    golden("gpt2"), gpt2_input("vocab", tokens=token_at(37, 1, 4)), ["in.safetensors", "37", "[1, 4]", "vocabulary"], []))
failure_case("token = vocab size (int32 input)", lambda: (
    golden("gpt2"), gpt2_input("vocab32", tokens=token_at(37, 0, 8, np.int32)), ["in.safetensors", "37", "[0, 8]", "vocabulary"], []))
failure_case("negative token", lambda: (
    golden("gpt2"), gpt2_input("negative", tokens=token_at(-1, 0, 2)), ["in.safetensors", "-1", "[0, 2]", "vocabulary"], []))
failure_case("huge token (2^62)", lambda: (
    golden("gpt2"), gpt2_input("huge", tokens=token_at(2 ** 62, 1, 0)), ["in.safetensors", str(2 ** 62), "[1, 0]"], []))
failure_case("sequence longer than n_positions", lambda: (
    golden("gpt2"), gpt2_input("long", tokens=good_tokens(1, 17)), ["in.safetensors", "17", "n_positions 16"], []))
failure_case("sequence longer than n_positions (recurrent)", lambda: (
    golden("gpt2"), gpt2_input("long_rec", tokens=good_tokens(1, 17)), ["in.safetensors", "17", "n_positions 16"],
    ["--form", "recurrent"]))
failure_case("encoder: token = vocab size", lambda: (
    golden("encoder_model"), gpt2_input("enc_vocab", tokens=token_at(9, 1, 1, V=9)), ["in.safetensors", "9", "[1, 1]", "vocabulary"],
    []))
failure_case("encoder: sequence longer than max_positions", lambda: (
    golden("encoder_model"), gpt2_input("enc_long", tokens=good_tokens(2, 13, 9)), ["in.safetensors", "13", "max_positions 12"],
    []))
failure_case("encoder_decoder: src/tgt batch mismatch", lambda: (
    golden("encoder_decoder_post"), gpt2_input("batch", src=good_tokens(2, 6, 11), tgt=good_tokens(3, 5, 11)),
    ["in.safetensors", "src", "tgt", "2", "3"], []))
failure_case("encoder_decoder: missing tgt", lambda: (
    golden("encoder_decoder_post"), gpt2_input("no_tgt", src=good_tokens(2, 6, 11)), ["'tgt'"], []))
failure_case("encoder_decoder: tgt token = vocab size", lambda: (
    golden("encoder_decoder_pre"), gpt2_input("tgt_vocab", src=good_tokens(2, 6, 11), tgt=token_at(11, 1, 3, T=5, V=11)),
    ["in.safetensors", "tgt", "11", "[1, 3]"], ["--form", "recurrent"]))
failure_case("input file does not exist", lambda: (
    golden("gpt2"), os.path.join(WORK, "no_such_input.safetensors"), ["no_such_input.safetensors"], []))


def input_is_directory():
    d = fresh_dir("input_dir")
    return golden("gpt2"), d, [d, "directory"], []


failure_case("input is a directory", input_is_directory)


def input_truncated():
    inp = gpt2_input("in_trunc", tokens=good_tokens())
    size = os.path.getsize(inp)
    with open(inp, "r+b") as f:
        f.truncate(size - 8)
    return golden("gpt2"), inp, ["in.safetensors", "'tokens'"], []


failure_case("input file truncated in the data", input_truncated)


def input_not_safetensors():
    d = fresh_dir("in_garbage")
    p = os.path.join(d, "in.safetensors")
    with open(p, "w") as f:
        f.write("tokens = [1, 2, 3]\n")
    return golden("gpt2"), p, ["in.safetensors"], []


failure_case("input is not safetensors", input_not_safetensors)
failure_case("--form bogus", lambda: (
    golden("gpt2"), gpt2_input("form", tokens=good_tokens()), ["--form", "bogus"], ["--form", "bogus"]))
failure_case("model dir does not exist", lambda: (
    os.path.join(WORK, "no_such_model"), gpt2_input("nomodel", tokens=good_tokens()), ["no_such_model"], []))


# Checkpoints: config.json.
def mutate_config(label, src, mutate):
    def make():
        d = copy_model(src, "bad_model_" + label)
        path = os.path.join(d, "config.json")
        mutate(path)
        io = golden_io(src)
        mtype = config_of(golden(src))["model_type"]
        inp = write_inputs(os.path.join(d, "..", f"in_{label}.safetensors"),
                           **{k: io["input." + k] for k in INPUT_NAMES[mtype]})
        return d, inp
    return make


def edit_json(**changes):
    def mutate(path):
        with open(path) as f:
            cfg = json.load(f)
        cfg.update(changes)
        with open(path, "w") as f:
            json.dump(cfg, f)
    return mutate


def config_case(name, src, mutate, keys):
    make = mutate_config(name.replace(" ", "_").replace(":", ""), src, mutate)

    def fn():
        d, inp = make()
        return d, inp, [k if k != "@config" else os.path.join(d, "config.json") for k in keys], []
    failure_case(name, fn)


config_case("missing config.json", "gpt2", os.remove, ["@config", "cannot open"])
config_case("config.json invalid JSON", "gpt2",
            lambda p: open(p, "w").write('{"model_type": "gpt2", "n_embd": 24,'), ["@config", "invalid JSON"])
config_case("config.json not an object", "gpt2", lambda p: open(p, "w").write("[1, 2]"), ["@config", "object"])
config_case("config.json empty", "gpt2", lambda p: open(p, "w").close(), ["@config", "invalid JSON"])
config_case("config key with the wrong type (n_embd: \"64\")", "gpt2", edit_json(n_embd="64"),
            ["@config", "'n_embd'", '"64"'])
config_case("config key negative (n_head: -3)", "gpt2", edit_json(n_head=-3), ["@config", "'n_head'", "-3"])
config_case("config key float (vocab_size: 37.5)", "gpt2", edit_json(vocab_size=37.5), ["@config", "'vocab_size'"])
config_case("config: n_embd not divisible by n_head", "gpt2", edit_json(n_head=5), ["@config", "n_head 5"])
config_case("config: unknown activation", "gpt2", edit_json(activation_function="swishy"), ["swishy"])
config_case("unknown model_type", "gpt2", edit_json(model_type="bert"), ["@config", "'bert'"])
config_case("model_type missing", "encoder_model",
            lambda p: (lambda c: open(p, "w").write(json.dumps({k: v for k, v in c.items() if k != "model_type"})))(
                json.load(open(p))), ["@config", "model_type"])
config_case("encoder config key with the wrong type (norm_first: 1)", "encoder_model", edit_json(norm_first=1),
            ["@config", "'norm_first'"])
config_case("config.json is a directory", "gpt2", lambda p: (os.remove(p), os.makedirs(p)),
            ["@config", "directory"])
config_case("config size beyond int64 arithmetic (n_embd 2^62)", "gpt2", edit_json(n_embd=2 ** 62, n_head=1),
            ["@config", "'n_embd'", str(2 ** 62)])
config_case("config size above 2^64 (n_embd 2^64)", "gpt2", edit_json(n_embd=2 ** 64, n_head=1),
            ["@config", "'n_embd'"])
config_case("config sizes whose product overflows (vocab_size, n_embd = 2^31 - 1)", "gpt2",
            edit_json(vocab_size=2 ** 31 - 1, n_embd=2 ** 31 - 1, n_head=1), ["@config", "too large"])
config_case("config key null (n_layer: null)", "gpt2", edit_json(n_layer=None), ["@config", "'n_layer'", "null"])
config_case("encoder_decoder config: pad_token_id negative", "encoder_decoder_post", edit_json(pad_token_id=-2),
            ["@config", "'pad_token_id'", "-2"])
config_case("config disagrees with checkpoint (n_layer 3)", "gpt2", edit_json(n_layer=3),
            ["model.safetensors", "h.2."])
config_case("config disagrees with checkpoint (vocab_size 40)", "gpt2", edit_json(vocab_size=40),
            ["model.safetensors", "wte.weight", "[40, 24]"])


# Checkpoints: model.safetensors.
def mutate_weights(label, src, mutate, keys):
    def fn():
        d = copy_model(src, "bad_weights_" + label)
        path = os.path.join(d, "model.safetensors")
        mutate(path)
        io = golden_io(src)
        mtype = config_of(golden(src))["model_type"]
        inp = write_inputs(os.path.join(WORK, f"in_w_{label}.safetensors"),
                           **{k: io["input." + k] for k in INPUT_NAMES[mtype]})
        return d, inp, [k if k != "@weights" else path for k in keys], []
    failure_case(label.replace("_", " "), fn)


def edit_tensors(fn):
    def mutate(path):
        t, meta = safetensors_np.load(path)
        fn(t)
        safetensors_np.save(path, t, meta)
    return mutate


def truncate_to(fraction_or_fn):
    def mutate(path):
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
        new = fraction_or_fn(size, n)
        with open(path, "r+b") as f:
            f.truncate(new)
    return mutate


mutate_weights("checkpoint_missing_a_tensor", "gpt2", edit_tensors(lambda t: t.pop("h.1.mlp.c_fc.bias")),
               ["@weights", "'h.1.mlp.c_fc.bias'", "missing"])
mutate_weights("checkpoint_with_an_extra_tensor", "gpt2", edit_tensors(
    lambda t: t.update({"h.0.extra.weight": np.zeros((3, 3), np.float32)})), ["@weights", "'h.0.extra.weight'"])
mutate_weights("checkpoint_tensor_with_the_wrong_shape", "gpt2", edit_tensors(
    lambda t: t.update({"h.0.attn.c_attn.weight": t["h.0.attn.c_attn.weight"].T.copy()})),
    ["@weights", "'h.0.attn.c_attn.weight'", "[72, 24]", "[24, 72]"])
mutate_weights("checkpoint_tensor_with_an_integer_dtype", "gpt2", edit_tensors(
    lambda t: t.update({"ln_f.bias": np.zeros(24, np.int64)})), ["@weights", "'ln_f.bias'", "I64"])
mutate_weights("hf_checkpoint_missing_a_tensor", "gpt2_hf_names", edit_tensors(
    lambda t: t.pop("transformer.wpe.weight")), ["@weights", "'wpe.weight'"])
mutate_weights("encoder_decoder_checkpoint_missing_a_tensor", "encoder_decoder_post", edit_tensors(
    lambda t: t.pop("transformer.decoder.layers.1.multihead_attn.in_proj_weight")),
    ["@weights", "'transformer.decoder.layers.1.multihead_attn.in_proj_weight'"])
mutate_weights("encoder_checkpoint_wrong_shape", "encoder_model", edit_tensors(
    lambda t: t.update({"head.bias": np.zeros(10, np.float32)})), ["@weights", "'head.bias'", "[10]", "[9]"])
mutate_weights("truncated_model.safetensors_(data_section)", "gpt2",
               truncate_to(lambda size, n: size - 100), ["@weights", "truncated"])
mutate_weights("truncated_model.safetensors_(half_the_data)", "gpt2",
               truncate_to(lambda size, n: 8 + n + (size - 8 - n) // 2), ["@weights", "truncated"])
mutate_weights("truncated_model.safetensors_(header)", "gpt2",
               truncate_to(lambda size, n: 8 + n // 2), ["@weights", "header"])
mutate_weights("truncated_model.safetensors_(length_prefix)", "gpt2", truncate_to(lambda size, n: 5),
               ["@weights", "too short"])
mutate_weights("empty_model.safetensors", "gpt2", truncate_to(lambda size, n: 0), ["@weights"])


def corrupt_header(path):
    with open(path, "r+b") as f:
        f.seek(8)
        f.write(b"#")
    return path


mutate_weights("model.safetensors_header_not_JSON", "gpt2", corrupt_header, ["@weights", "JSON"])
mutate_weights("missing_model.safetensors", "gpt2", os.remove, ["@weights", "cannot open"])


def weights_dir(path):
    os.remove(path)
    os.makedirs(path)


mutate_weights("model.safetensors_is_a_directory", "gpt2", weights_dir, ["@weights", "directory"])


# Output side.
@case("bad output: folder does not exist")
def _():
    out = os.path.join(WORK, "no_such_folder", "out.safetensors")
    msg, _ = expect_failure(golden("gpt2"), gpt2_input("outdir", tokens=good_tokens()), ["out.safetensors"],
                            output=out)
    check(not os.path.exists(os.path.dirname(out)), "the missing folder was created")
    return f"-> {msg}"


@case("bad output: an existing directory")
def _():
    d = fresh_dir("out_is_dir")
    out = os.path.join(d, "out.safetensors")
    os.makedirs(os.path.join(out, "inside"))
    msg, _ = expect_failure(golden("gpt2"), gpt2_input("outisdir", tokens=good_tokens()), ["out.safetensors"],
                            output=out)
    check(os.path.isdir(out) and os.listdir(out) == ["inside"], "the directory was changed")
    check(not leftovers(out), f"temporary files left: {leftovers(out)}")
    return f"-> {msg}"


@case("failed run leaves an existing output file unchanged")
def _():
    d = fresh_dir("keep_output")
    out = os.path.join(d, "out.safetensors")
    content = b"previous results, not to be touched\n" * 10
    with open(out, "wb") as f:
        f.write(content)
    before = os.stat(out)
    done = []
    for label, model, inp, extra in [
            ("token = vocab size", golden("gpt2"), gpt2_input("keep1", tokens=token_at(37, 0, 0)), []),
            ("recurrent, token = vocab size", golden("gpt2"), gpt2_input("keep2", tokens=token_at(37, 1, 8)),
             ["--form", "recurrent", "--trace"]),
            ("missing tensor", golden("gpt2"), gpt2_input("keep3", ids=good_tokens()), []),
            ("bad checkpoint", os.path.join(WORK, "bad_weights_checkpoint_missing_a_tensor"),
             gpt2_input("keep4", tokens=good_tokens()), []),
            ("--form bogus", golden("gpt2"), gpt2_input("keep5", tokens=good_tokens()), ["--form", "bogus"])]:
        if not os.path.isdir(model):  # made by an earlier case; make it here if that one was skipped
            model = copy_model("gpt2", "keep_model")
            edit_tensors(lambda t: t.pop("h.1.mlp.c_fc.bias"))(os.path.join(model, "model.safetensors"))
        msg, _ = expect_failure(model, inp, [], *extra, output=out)
        with open(out, "rb") as f:
            check(f.read() == content, f"{label}: the existing output file was changed")
        check(os.stat(out).st_ino == before.st_ino, f"{label}: the existing output file was replaced")
        check(not leftovers(out), f"{label}: temporary files left: {leftovers(out)}")
        done.append(label)
    return f"unchanged after: {', '.join(done)}"


@case("successful run replaces an existing output file")
def _():
    d = fresh_dir("replace_output")
    out = os.path.join(d, "out.safetensors")
    with open(out, "wb") as f:
        f.write(b"old")
    io = golden_io("gpt2")
    t, _ = run_ok(golden("gpt2"), write_inputs(os.path.join(d, "in.safetensors"), tokens=io["input.tokens"]), out)
    check(scaled_error(t["logits"], io["output"]) <= LOGIT_TOL, "logits differ")


# ---- main ---------------------------------------------------------------------------------------

def main():
    global ARGS, WORK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdnc", required=True, help="the sdnc binary")
    ap.add_argument("--golden", required=True, help="folder written by tests/golden/gen_models.py")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("-k", default="", help="only run checks whose name contains this")
    ARGS = ap.parse_args()
    ARGS.sdnc = os.path.abspath(ARGS.sdnc)
    ARGS.golden = os.path.abspath(ARGS.golden)
    for n in ("gpt2", "gpt2_hf_names", "encoder_model", "encoder_decoder_post", "encoder_decoder_pre"):
        if not os.path.isfile(os.path.join(ARGS.golden, n, "model.safetensors")) or \
                not os.path.isfile(golden_io_path(n)):
            print(f"[cli_run] missing golden case {n} under {ARGS.golden} (run tests/golden/gen_models.py)")
            return 1
    WORK = tempfile.mkdtemp(prefix="sdnc_cli_run_")
    try:
        for run in CASES:
            if ARGS.k in run.case_name:
                run()
    finally:
        if ARGS.keep:
            print(f"[cli_run] scratch folder kept: {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    failed = [r for r in RESULTS if not r[1]]
    print(f"\n[cli_run] {len(RESULTS) - len(failed)} of {len(RESULTS)} checks passed")
    for name, _, detail in failed:
        print(f"[cli_run] FAILED: {name}: {detail}")
    return 1 if failed or not RESULTS else 0


if __name__ == "__main__":
    sys.exit(main())
