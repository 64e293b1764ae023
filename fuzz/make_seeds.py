#!/usr/bin/python3
"""Writes the seed corpora of fuzz/corpus/<target>/ (valid inputs, and a few near-misses that
reach deep checks). Run once; the files are committed. Findings are added by hand next to them.

  /usr/bin/python3 fuzz/make_seeds.py [--sdnc build/release/sdnc]   (--sdnc: also real checkpoints)
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors_bytes(tensors, metadata=None, crc=False):
    header, chunks, offset = {}, [], 0
    names = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64",
             np.dtype("int32"): "I32", np.dtype("int16"): "I16", np.dtype("uint8"): "U8",
             np.dtype("float16"): "F16", np.dtype("bool"): "BOOL"}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        raw = a.tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    data = b"".join(chunks)
    meta = dict(metadata or {})
    if crc:
        meta["data_crc32"] = f"{zlib.crc32(data):08x}"
    if meta:
        header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdnc")
    args = ap.parse_args()
    r = np.random.default_rng(0)
    # safetensors
    put("safetensors", "f32_2x3", safetensors_bytes({"a": r.standard_normal((2, 3)).astype(np.float32)}))
    put("safetensors", "mixed", safetensors_bytes({
        "w": r.standard_normal((3, 2)).astype(np.float64), "i": np.arange(4, dtype=np.int64),
        "h": np.ones(3, np.float16), "u": np.arange(5, dtype=np.uint8), "b": np.array([True, False]),
        "s": np.array(7, np.int32), "e": np.zeros((0, 4), np.float32)}, {"format": "pt"}))
    put("safetensors", "empty", safetensors_bytes({}))
    ov = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'
    put("safetensors", "overlap", struct.pack("<Q", len(ov)) + ov + bytes(12))
    # train configs (also the JSON config target)
    configs = {
        "dnc_copy": {"model": "dnc", "task": "copy", "steps": 10, "lr": 1e-3, "batch_size": 4},
        "sdnc_lm": {"model": "sdnc", "task": "char_lm", "d_model": 32, "num_heads": 4, "eval_lengths": [8, 16],
                    "lr_schedule": "cosine", "warmup_steps": 5},
        "ed_reverse": {"model": "encoder_decoder", "task": "reverse", "num_symbols": 6, "max_length": 4,
                       "min_length": 2, "curriculum_threshold": 0.5, "on_nonfinite": "skip"},
        "rmsprop": {"optimizer": "rmsprop_tf1", "task": "repeat_copy", "momentum": 0.9, "grad_clip": 0},
    }
    for name, c in configs.items():
        put("train_config", name + ".json", json.dumps(c))
    put("json_config", "gpt2.json", json.dumps({"n_embd": 768, "n_head": 12, "n_layer": 12, "vocab_size": 50257,
                                                "layer_norm_epsilon": 1e-5, "a": True, "b": "text"}))
    put("json_config", "nulls.json", json.dumps({"n_embd": None, "a": 0.5, "b": -3}))
    # checkpoints: the layout of train/checkpoint.h
    tc = {"model": "lstm", "task": "copy", "seed": 1, "steps": 4}
    mc = {"model": "lstm", "input_size": 8, "output_size": 6, "hidden_size": 4}
    ck = safetensors_bytes({"model.w": r.standard_normal((4, 4)).astype(np.float32),
                            "optimizer.w.exp_avg": np.zeros((4, 4), np.float32),
                            "rng.data": np.array([123, 4], np.int64), "trainer.windows": np.zeros(6)},
                           {"format": "sdnc-train-1", "step": "4", "max_length": "3",
                            "train_config": json.dumps(tc), "model_config": json.dumps(mc)}, crc=True)
    put("checkpoint", "synthetic", ck)
    # char_lm corpora
    put("char_lm_corpus", "english", "the quick brown fox jumps over the lazy dog. " * 40)
    put("char_lm_corpus", "utf8", "Ἐν ἀρχῇ ἦν ὁ λόγος — naïve café ✓\n" * 20)
    put("char_lm_corpus", "tiny", "ab")
    put("char_lm_corpus", "binary", bytes(range(256)) * 3)
    # command lines (NUL-separated arguments)
    for name, argv in {"basic": ["--model", "dnc", "--lr", "3e-4", "--steps", "5"],
                       "lists": ["--eval_lengths", "4,8,16", "--task", "char_lm", "--max_length", "32"],
                       "eq": ["--lr=1e-3", "--resume", "--batch_size", "2"]}.items():
        put("cli_train_flags", name, "\0".join(argv))
    if args.sdnc:  # real checkpoints from small runs
        for model, task in (("lstm", "copy"), ("dnc", "repeat_copy"), ("sdnc", "copy")):
            with tempfile.TemporaryDirectory() as d:
                subprocess.run([args.sdnc, "train", "--out_dir", d, "--model", model, "--task", task, "--steps", "2",
                                "--hidden_size", "4", "--memory_size", "4", "--word_size", "2", "--num_read_heads", "1",
                                "--d_model", "8", "--d_ffn", "8", "--num_layers", "1", "--num_heads", "2",
                                "--eval_batches", "1", "--batch_size", "2", "--quiet", "--threads", "1"], check=True)
                with open(os.path.join(d, "checkpoint.safetensors"), "rb") as f:
                    put("checkpoint", f"real_{model}", f.read())
                with open(os.path.join(d, "model", "model.safetensors"), "rb") as f:
                    put("safetensors", f"real_{model}_model", f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
