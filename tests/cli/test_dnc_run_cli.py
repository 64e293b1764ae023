#!/usr/bin/python3
"""`sdnc run --trace` on DNC checkpoints written by a PyTorch script (tests/golden/gen_dnc.py:
the plain-PyTorch DNC of dnc_reference.py, float64, weights saved as float32 with sdnc's names).

  /usr/bin/python3 tests/cli/test_dnc_run_cli.py --sdnc build/release/sdnc --golden build/release/golden_dnc

Checks, per golden case, through the real binary:
  * outputs [B, T, Y] equal PyTorch's within 1e-5 (relative to max(1, |ref|));
  * the trace tensors have the documented shapes: usage [B,T,N], write_weights [B,T,H,N],
    read_weights [B,T,R,N], read_words [B,T,R,W], memory [B,T,N,W], link [B,T,H,N,N],
    precedence [B,T,H,N];
  * the quantities that do not depend on which free slot a float32 tie picks equal PyTorch's:
    read words, and usage as a multiset per step (sorted); weightings are in [0, 1] and sum to
    at most 1; every link matrix has a zero diagonal;
  * bad input: integer inputs, a wrong input width, a missing tensor → one "sdnc: [" line.
"""
import argparse
import os
import sys
import tempfile
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import safetensors_np  # noqa: E402
from harness import Suite, check  # noqa: E402

S = Suite("cli_dnc_run")
GOLDEN = None
TOL = 1e-5
CASES = ["dnc_lstm_h1", "dnc_lstm_h2", "dnc_ff_h1", "dnc_lstm_r1_oneplus_noclip", "dnc_ff_h2_clip"]


def err(got, ref):
    check(got.shape == ref.shape, f"shape {list(got.shape)} != {list(ref.shape)}")
    return float(np.max(np.abs(got.astype(np.float64) - ref) / np.maximum(1.0, np.abs(ref)), initial=0.0))


def golden_case(name):
    @S.case(f"run --trace {name} against PyTorch")
    def run():
        model = os.path.join(GOLDEN, name)
        io, _ = safetensors_np.load(os.path.join(model, "io.safetensors"))
        d = S.fresh_dir(name)
        inp, out = os.path.join(d, "in.safetensors"), os.path.join(d, "out.safetensors")
        safetensors_np.save(inp, {"inputs": io["input.inputs"]})
        rc, so, se = S.sdnc("run", "--model", model, "--input", inp, "--output", out, "--trace")
        check(rc == 0 and se == "", f"sdnc run exited {rc}: {se.strip()}")
        t, meta = safetensors_np.load(out)
        check(meta.get("model_type") == "dnc", f"metadata {meta}")
        e_out = err(t["outputs"], io["output"])
        check(e_out <= TOL, f"outputs error {e_out:.3g} > {TOL}")
        B, T, _ = io["input.inputs"].shape
        N, W = io["state.memory"].shape[-2:]
        R, H = io["state.read_weights"].shape[2], io["state.write_weights"].shape[2]
        shapes = {"usage": (B, T, N), "write_weights": (B, T, H, N), "read_weights": (B, T, R, N),
                  "read_words": (B, T, R, W), "memory": (B, T, N, W), "link": (B, T, H, N, N),
                  "precedence": (B, T, H, N)}
        for k, s in shapes.items():
            check(k in t and t[k].shape == s, f"{k}: {t[k].shape if k in t else 'missing'}, expected {s}")
        e_words = err(t["read_words"], io["state.read_words"])
        check(e_words <= TOL, f"read words error {e_words:.3g}")
        e_usage = err(np.sort(t["usage"], axis=-1), np.sort(io["state.usage"], axis=-1))
        check(e_usage <= TOL, f"sorted usage error {e_usage:.3g}")
        for k in ("write_weights", "read_weights", "precedence"):
            w = t[k]
            check(w.min() >= -1e-6 and w.sum(-1).max() <= 1 + 1e-5, f"{k} outside the simplex")
        diag = np.diagonal(t["link"], axis1=-2, axis2=-1)
        check(np.all(diag == 0), "a link matrix has a non-zero diagonal")
        return f"outputs {e_out:.1e}, read words {e_words:.1e}, usage {e_usage:.1e}"


for _c in CASES:
    golden_case(_c)


@S.case("bad DNC inputs: one message, no output")
def bad_inputs():
    model = os.path.join(GOLDEN, CASES[0])
    io, _ = safetensors_np.load(os.path.join(model, "io.safetensors"))
    x = io["input.inputs"]
    d = S.fresh_dir("bad")
    cases = [("integer inputs", {"inputs": x.astype(np.int64)}, "F32"),
             ("wrong width", {"inputs": np.zeros(x.shape[:2] + (x.shape[2] + 1,), np.float32)}, "inputs"),
             ("missing tensor", {"tokens": np.zeros((1, 2), np.int64)}, "'inputs'")]
    for what, tensors, word in cases:
        inp, out = os.path.join(d, "in.safetensors"), os.path.join(d, "out.safetensors")
        safetensors_np.save(inp, tensors)
        rc, so, se = S.sdnc("run", "--model", model, "--input", inp, "--output", out, "--trace")
        lines = se.strip().splitlines()
        check(rc > 0 and len(lines) == 1 and lines[0].startswith("sdnc: ["), f"{what}: rc {rc}, stderr {se!r}")
        check(word in lines[0], f"{what}: {lines[0]!r} does not name {word!r}")
        check(not os.path.exists(out), f"{what}: output written")
    return f"{len(cases)} cases"


def main():
    global GOLDEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    S.binary, GOLDEN = os.path.abspath(args.sdnc), os.path.abspath(args.golden)
    S.work = tempfile.mkdtemp(prefix="sdnc_cli_dnc_")
    try:
        return S.run(args.k)
    finally:
        shutil.rmtree(S.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
