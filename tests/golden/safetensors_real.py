"""Writes safetensors files with the real PyPI `safetensors` library (not our safetensors_np):
its numpy API and its torch API, every dtype sdnc reads, metadata, zero-size and 0-dim tensors,
and a big-endian numpy array. Beside each file: NAME.json with what each tensor must read as
(dtype name, shape, values as float64 — exact for every dtype here) and the metadata.

  python (with safetensors) tests/golden/safetensors_real.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import safetensors
import safetensors.numpy as stn


def expected(tensors, meta):
    return {"tensors": {k: {"dtype": d, "shape": list(a.shape), "values": [float(x) for x in a.reshape(-1)]}
                        for k, (d, a) in tensors.items()},
            "metadata": meta or {}}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(5)
    # numpy API: every dtype sdnc reads (I32/I16/U8/BOOL widen to I64, F16 to F32)
    arrays = {
        "f32": ("F32", rng.standard_normal((2, 3)).astype(np.float32)),
        "f64": ("F64", rng.standard_normal((3,)) * 1e300),
        "i64": ("I64", np.array([[-(2 ** 62), 7], [0, 2 ** 40]], np.int64)),
        "i32": ("I32", np.array([-(2 ** 31), 2 ** 31 - 1, 5], np.int32)),
        "i16": ("I16", np.array([-32768, 32767], np.int16)),
        "u8": ("U8", np.array([0, 255, 17], np.uint8)),
        "bool": ("BOOL", np.array([True, False, True])),
        "f16": ("F16", np.array([1.5, -2.0, 65504.0, 6e-8, 0.0], np.float16)),
        "empty": ("F32", np.zeros((2, 0), np.float32)),
        "empty1": ("I64", np.zeros((0,), np.int64)),
        "scalar": ("F32", np.array(3.25, np.float32)),
    }
    meta = {"format": "np", "note": "written by safetensors " + safetensors.__version__}
    stn.save_file({k: a for k, (d, a) in arrays.items()}, os.path.join(out, "numpy.safetensors"), metadata=meta)
    with open(os.path.join(out, "numpy.json"), "w") as f:
        json.dump(expected(arrays, meta), f)

    # big-endian input: the format is little-endian; the library must either refuse it or
    # store the values (not the raw big-endian bytes)
    be = np.array([1.0, -2.5, 1e-3], dtype=">f4")
    try:
        stn.save_file({"be": be}, os.path.join(out, "bigendian.safetensors"))
        with open(os.path.join(out, "bigendian.json"), "w") as f:
            json.dump(expected({"be": ("F32", be.astype("<f4"))}, {}), f)
    except Exception as e:  # noqa: BLE001
        print(f"safetensors refused a big-endian array: {e}")

    # torch API: BF16 only exists here
    import torch
    from safetensors.torch import save_file
    g = torch.Generator().manual_seed(3)
    t = {
        "bf16": ("BF16", torch.randn(4, 3, generator=g).to(torch.bfloat16)),
        "f16": ("F16", torch.randn(5, generator=g).half()),
        "f32": ("F32", torch.randn(2, 2, 2, generator=g)),
        "f64": ("F64", torch.randn(3, generator=g, dtype=torch.float64)),
        "i64": ("I64", torch.tensor([3, -4, 2 ** 50])),
        "i32": ("I32", torch.tensor([1, -1], dtype=torch.int32)),
        "u8": ("U8", torch.tensor([9, 200], dtype=torch.uint8)),
        "bool": ("BOOL", torch.tensor([False, True])),
        "empty": ("F32", torch.zeros(0, 4)),
    }
    meta = {"format": "pt"}
    save_file({k: v for k, (d, v) in t.items()}, os.path.join(out, "torch.safetensors"), metadata=meta)
    as_np = {k: (d, v.double().numpy() if v.is_floating_point() else v.long().numpy()) for k, (d, v) in t.items()}
    with open(os.path.join(out, "torch.json"), "w") as f:
        json.dump(expected(as_np, meta), f)


if __name__ == "__main__":
    main()
