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


# --- GGUF (io/gguf.h's layout; little-endian) -------------------------------------------------
GGUF_TYPES = {"u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"), "i16": (3, "<h"), "u32": (4, "<I"),
              "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?"), "str": (8, None), "arr": (9, None),
              "u64": (10, "<Q"), "i64": (11, "<q"), "f64": (12, "<d")}
GGML = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 8, "BF16": 30}
GGML_BLOCK = {"F32": (1, 4), "F16": (1, 2), "BF16": (1, 2), "Q4_0": (32, 18), "Q4_1": (32, 20), "Q8_0": (32, 34)}


def gguf_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, v):
    """kind: a GGUF_TYPES name, or ("arr", element kind) with v a list."""
    if isinstance(kind, tuple):
        ek = kind[1]
        et = GGUF_TYPES[ek[0] if isinstance(ek, tuple) else ek][0]
        return struct.pack("<IQ", et, len(v)) + b"".join(gguf_value(ek, e) for e in v)
    if kind == "str":
        return gguf_str(v)
    return struct.pack(GGUF_TYPES[kind][1], v)


def gguf_bytes(kvs, tensors, alignment=32):
    """kvs: [(key, kind, value)]; tensors: [(name, ne (ggml order), type name, raw bytes or None)]."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, kind, v in kvs:
        t = GGUF_TYPES[kind[0] if isinstance(kind, tuple) else kind][0]
        out += gguf_str(key) + struct.pack("<I", t) + gguf_value(kind, v)
    data, offsets = b"", []
    for name, ne, ty, raw in tensors:
        n = int(np.prod(ne))
        el, by = GGML_BLOCK[ty]
        raw = raw if raw is not None else bytes((7 * i + 3) % 251 for i in range(n // el * by))
        data += bytes((-len(data)) % alignment)
        offsets.append(len(data))
        data += raw
    for (name, ne, ty, _), off in zip(tensors, offsets):
        out += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", GGML[ty], off)
    out += bytes((-len(out)) % alignment)
    return out + data


def f32(a):
    return np.asarray(a, np.float32).tobytes()


def f16_blocks(rows, cols, kind, r):
    """Valid quantised blocks of a [rows, cols] matrix: small finite fp16 scales, random quants."""
    el, by = GGML_BLOCK[kind]
    out = b""
    for _ in range(rows * cols // el):
        scales = np.array([0.01, 0.001][: 1 if kind != "Q4_1" else 2], np.float16).tobytes()
        out += scales + r.integers(0, 256, by - len(scales), dtype=np.uint8).tobytes()
    return out


def byte_alphabet():
    """GPT-2's byte → printable character map (tokenizers/bpe.cpp)."""
    out, k = [], 0
    for b in range(256):
        printable = 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or b >= 0xAE
        out.append(chr(b) if printable else chr(0x100 + k))
        k += 0 if printable else 1
    return out


def llama_gguf(r, D, heads, kv_heads, ffn, tokens, merges, types, quant, extra=()):
    """A one-layer Llama GGUF that models/llama.h loads: metadata, BPE tokenizer, every tensor."""
    W = D // heads
    V = len(tokens)
    kvs = [("general.architecture", "str", "llama"), ("general.name", "str", "tiny"),
           ("llama.block_count", "u32", 1), ("llama.context_length", "u32", 16),
           ("llama.embedding_length", "u32", D), ("llama.feed_forward_length", "u32", ffn),
           ("llama.attention.head_count", "u32", heads), ("llama.attention.head_count_kv", "u32", kv_heads),
           ("llama.rope.freq_base", "f32", 10000.0), ("llama.rope.dimension_count", "u32", W),
           ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5), ("llama.vocab_size", "u32", V),
           ("tokenizer.ggml.model", "str", "gpt2"),
           ("tokenizer.ggml.tokens", ("arr", "str"), tokens), ("tokenizer.ggml.merges", ("arr", "str"), merges),
           ("tokenizer.ggml.token_type", ("arr", "i32"), types)] + list(extra)

    def mat(name, rows, cols):
        if quant is None:
            return (name, [cols, rows], "F32", f32(r.standard_normal((rows, cols)) * 0.3))
        kind = quant[0] if name.startswith("token_embd") else quant[len(name) % len(quant)]
        return (name, [cols, rows], kind, f16_blocks(rows, cols, kind, r))

    vec = lambda name: (name, [D], "F32", f32(1 + 0.1 * r.standard_normal(D)))
    tensors = [mat("token_embd.weight", V, D), vec("output_norm.weight"), vec("blk.0.attn_norm.weight"),
               vec("blk.0.ffn_norm.weight"), mat("blk.0.attn_q.weight", heads * W, D),
               mat("blk.0.attn_k.weight", kv_heads * W, D), mat("blk.0.attn_v.weight", kv_heads * W, D),
               mat("blk.0.attn_output.weight", D, heads * W), mat("blk.0.ffn_gate.weight", ffn, D),
               mat("blk.0.ffn_up.weight", ffn, D), mat("blk.0.ffn_down.weight", D, ffn)]
    return gguf_bytes(kvs, tensors)


def gguf_seeds(r):
    # A tiny F32 Llama whose tokenizer lacks most bytes (unknown token 0), SmolLM2's pre-tokeniser.
    tokens = ["<unk>", "<|im_start|>", "<|im_end|>", "a", "b", "ab", "\u0120", "\u0120ab", "1", "2"]
    put("gguf", "llama_f32_unk", llama_gguf(
        r, 4, 2, 1, 8, tokens, ["a b", "\u0120 ab"], [2, 3, 3, 1, 1, 1, 1, 1, 1, 1], None,
        [("tokenizer.ggml.pre", "str", "smollm"), ("tokenizer.ggml.unknown_token_id", "u32", 0),
         ("tokenizer.ggml.bos_token_id", "u32", 1), ("tokenizer.ggml.eos_token_id", "u32", 2),
         ("tokenizer.ggml.add_bos_token", "bool", True)]))
    # Every byte in the vocabulary, merges, GPT-2 pre-tokeniser, quantised weights (D = 32).
    alphabet = byte_alphabet()
    merges = ["\u0120 t", "h e", "\u0120t he", "i n", "\u0120 a", "e r", "1 2"]
    tokens = alphabet + ["\u0120t", "he", "\u0120the", "in", "\u0120a", "er", "12", "<|endoftext|>"]
    types = [1] * (len(tokens) - 1) + [3]
    put("gguf", "llama_quant_bytes", llama_gguf(
        r, 32, 4, 2, 32, tokens, merges, types, ["Q4_0", "Q4_1", "Q8_0"],
        [("tokenizer.ggml.pre", "str", "gpt2"), ("tokenizer.ggml.eos_token_id", "u32", len(tokens) - 1)]))
    # Every metadata value type (arrays of each, nested, empty), custom alignment, every tensor type.
    kvs = [("general.alignment", "u32", 64), ("k.u8", "u8", 200), ("k.i8", "i8", -5), ("k.u16", "u16", 60000),
           ("k.i16", "i16", -30000), ("k.u32", "u32", 4000000000), ("k.i32", "i32", -2000000000),
           ("k.f32", "f32", 1.5), ("k.bool", "bool", True), ("k.str", "str", "na\u00efve \u2713"),
           ("k.u64", "u64", 2 ** 63 + 5), ("k.i64", "i64", -2 ** 62), ("k.f64", "f64", -2.25),
           ("k.arr_u8", ("arr", "u8"), [1, 2, 3]), ("k.arr_f64", ("arr", "f64"), [0.5, 1e300]),
           ("k.arr_str", ("arr", "str"), ["", "x", "\u00e9t\u00e9"]), ("k.arr_empty", ("arr", "i32"), []),
           ("k.arr_bool", ("arr", "bool"), [True, False]),
           ("k.nested", ("arr", ("arr", "i16")), [[1, -2], [], [3]])]
    tensors = [("t.f32", [3], "F32", f32([1, -2, 3.5])), ("t.f16", [2, 2], "F16", np.array([1, -0.5, 65504, 6e-8], np.float16).tobytes()),
               ("t.bf16", [2, 1, 1], "BF16", b"\x80\x3f\x00\xc0"), ("t.q4_0", [32, 2], "Q4_0", None),
               ("t.q4_1", [32], "Q4_1", None), ("t.q8_0", [32, 1, 1, 1], "Q8_0", None)]
    put("gguf", "every_type", gguf_bytes(kvs, tensors, alignment=64))
    put("gguf", "empty", gguf_bytes([], []))


WORDPIECE_VOCAB = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz0123456789")
                   + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
                   + list(".,!?'\"-()[]:;") + ["hello", "world", "un", "##aff", "##able", "##ing", "the", "cafe",
                                                "\u4e2d", "\u56fd", "\u00e9", "\uac00", "naive"])


def wordpiece_seeds():
    """FILE \\0 TEXT: a tokenizer.json (first byte '{') or a vocab.txt, then the text to encode."""
    text = "Hello, World! unaffable caf\u00e9 na\u00efve [MASK] \u4e2d\u56fd\u4eba\t\u00c9t\u00e9 x\u0301 \u200b\U0001F600"
    tj = {"version": "1.0", "added_tokens": [{"id": i, "content": t, "special": True} for i, t in enumerate(WORDPIECE_VOCAB[:5])],
          "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                         "strip_accents": None, "lowercase": True},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                    "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(WORDPIECE_VOCAB)}}}
    put("wordpiece", "tokenizer_json", json.dumps(tj, ensure_ascii=False).encode() + b"\0" + text.encode())
    cased = dict(tj, normalizer={"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": False,
                                 "strip_accents": False, "lowercase": False})
    put("wordpiece", "tokenizer_json_cased", json.dumps(cased).encode() + b"\0" + text.encode())
    put("wordpiece", "no_normalizer", json.dumps(dict(tj, normalizer=None)).encode() + b"\0" + b"[CLS] hello")
    put("wordpiece", "vocab_txt", "\n".join(WORDPIECE_VOCAB).encode() + b"\n\0" + text.encode())
    put("wordpiece", "vocab_txt_crlf", "\r\n".join(WORDPIECE_VOCAB).encode() + b"\0" + b"the hello?")
    # tokenizer_text: any bytes as text (the encoders come from the seeds above and of gguf)
    put("tokenizer_text", "mixed", text.encode())
    put("tokenizer_text", "specials", "<|im_start|>user\nhi 123 <|endoftext|>[SEP]  \n\n x".encode())
    put("tokenizer_text", "contractions", "I'm can't we've they'll she'd  \t\u00a0 it's 3.14".encode())
    put("tokenizer_text", "bad_utf8", b"ok \xc3\x28 \xe2\x82 \xf0\x90\x80")


BABI_STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary?\tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel?\thallway\t4
1 Mary got the milk there.
2 John took the football there.
3 What is Mary carrying?\tmilk\t1
4 Mary picked up the apple.
5 What is Mary carrying?\tmilk,apple\t1 4
"""


def babi_seeds():
    put("babi", "qa1_qa8", BABI_STORY)
    put("babi", "one_line", "1 The kitchen is north of the garden.\n")
    put("babi", "no_final_newline", "1 Bill is in the park.\n2 Is Bill in the park?\tyes\t1")
    put("babi", "crlf", BABI_STORY.replace("\n", "\r\n"))


def bert_seeds(r):
    """A one-layer BERT folder that models/bert.h loads: config.json \\0 1_Pooling/config.json \\0 modules.json
    \\0 sentence_bert_config.json \\0 model.safetensors (fuzz/targets/bert_config.cpp)."""
    c = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute", "num_hidden_layers": 1,
         "hidden_size": 4, "num_attention_heads": 2, "intermediate_size": 8, "vocab_size": 6,
         "max_position_embeddings": 5, "type_vocab_size": 2, "layer_norm_eps": 1e-12}
    D, F = 4, 8
    shapes = {"embeddings.word_embeddings.weight": (6, D), "embeddings.position_embeddings.weight": (5, D),
              "embeddings.token_type_embeddings.weight": (2, D), "embeddings.LayerNorm.weight": (D,),
              "embeddings.LayerNorm.bias": (D,)}
    p = "encoder.layer.0."
    for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
        shapes[p + n + ".weight"], shapes[p + n + ".bias"] = (D, D), (D,)
    for n in ("attention.output.LayerNorm", "output.LayerNorm"):
        shapes[p + n + ".weight"], shapes[p + n + ".bias"] = (D,), (D,)
    shapes[p + "intermediate.dense.weight"], shapes[p + "intermediate.dense.bias"] = (F, D), (F,)
    shapes[p + "output.dense.weight"], shapes[p + "output.dense.bias"] = (D, F), (D,)
    tensors = {k: (0.5 * r.standard_normal(v)).astype(np.float32) for k, v in shapes.items()}
    pooling = {"word_embedding_dimension": D, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    parts = [json.dumps(c), json.dumps(pooling), json.dumps(modules), json.dumps({"max_seq_length": 4})]
    put("bert_config", "tiny", "\0".join(parts).encode() + b"\0" + safetensors_bytes(tensors))
    prefixed = {"bert." + k: v for k, v in tensors.items()}
    put("bert_config", "prefixed", json.dumps(dict(c, layer_norm_eps=1e-5)).encode() + b"\0\0\0\0" + safetensors_bytes(prefixed))


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
    gguf_seeds(r)
    wordpiece_seeds()
    babi_seeds()
    bert_seeds(r)
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
