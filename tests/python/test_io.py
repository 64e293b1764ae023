"""Files from Python: safetensors both ways against an independent numpy reader/writer
(tests/golden/safetensors_np.py), a GGUF file written here byte by byte, heatmap PNGs."""
import os
import struct
import sys
import zlib

import numpy as np
import pytest

import sdnc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden"))
import safetensors_np  # noqa: E402


def sample():
    rng = np.random.default_rng(3)
    return {"a": rng.standard_normal((2, 3)).astype(np.float32), "b": rng.standard_normal(4),
            "ids": np.arange(6, dtype=np.int64).reshape(3, 2), "s": np.float32(1.5).reshape(())}


def test_safetensors_both_ways(tmp_path):
    path = tmp_path / "x.safetensors"
    sdnc.save_safetensors(path, sample(), {"format": "pt"})
    got, meta = safetensors_np.load(path)
    assert meta == {"format": "pt"} and set(got) == set(sample())
    for k, v in sample().items():
        assert got[k].dtype == v.dtype
        np.testing.assert_array_equal(got[k], v)
    safetensors_np.save(tmp_path / "y.safetensors", sample())
    back = sdnc.load(tmp_path / "y.safetensors")
    for k, v in sample().items():
        np.testing.assert_array_equal(back[k], v)


def test_bad_safetensors_raises(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(sdnc.Error, match=r"\[safetensors\] .*bad.safetensors"):
        sdnc.load(path)
    with pytest.raises(sdnc.Error, match=r"tensor 'x'.*dtype float16 is not supported"):
        sdnc.save_safetensors(tmp_path / "h.safetensors", {"x": np.zeros(2, np.float16)})
    assert not (tmp_path / "h.safetensors").exists()


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, weight):
    """GGUF v3, one F32 tensor and two metadata values, as the format's spec lays it out."""
    rows, cols = weight.shape
    out = b"GGUF" + struct.pack("<IQQ", 3, 1, 2)
    out += gguf_string("general.name") + struct.pack("<I", 8) + gguf_string("tiny")
    out += gguf_string("tiny.width") + struct.pack("<IQ", 10, cols)  # UINT64
    out += gguf_string("w") + struct.pack("<I", 2) + struct.pack("<QQ", cols, rows) + struct.pack("<IQ", 0, 0)
    out += b"\0" * ((32 - len(out) % 32) % 32)
    path.write_bytes(out + weight.astype("<f4").tobytes())


def test_gguf(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    write_gguf(tmp_path / "t.gguf", w)
    tensors = sdnc.load(tmp_path / "t.gguf")
    np.testing.assert_array_equal(tensors["w"], w)  # ne = [4, 3] → row-major [3, 4]
    _, meta = sdnc.load_gguf(tmp_path / "t.gguf")
    assert meta == {"general.name": "tiny", "tiny.width": 4}
    (tmp_path / "cut.gguf").write_bytes((tmp_path / "t.gguf").read_bytes()[:40])
    with pytest.raises(sdnc.Error, match=r"\[gguf\] .*cut.gguf"):
        sdnc.load(tmp_path / "cut.gguf")


def test_heatmap_png(tmp_path):
    path = tmp_path / "w.png"
    sdnc.save_heatmap(path, np.eye(4), "identity", x_label="slot", y_label="step", vmin=0, vmax=1)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 4 and height > 4
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]  # the IHDR chunk's CRC
    with pytest.raises(sdnc.Error, match=r"\[heatmap\]"):
        sdnc.save_heatmap(tmp_path / "v.png", np.zeros(3))
    assert not (tmp_path / "v.png").exists()
