"""sdnc.train: the per-step callback sees every step and can stop training (a checkpoint that
resumes), an exception in it propagates, Ctrl-C stops cleanly; generate() as an iterator equals
`sdnc generate` on the trained checkpoint."""
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

import sdnc

TEXT = "the quick brown fox jumps over the lazy dog. " * 200


@pytest.fixture
def config(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    return dict(model="machine", task="char_lm", corpus=str(corpus), controller="stateless", write="append",
                similarity="dot", read_modes="content", key_value="separate", memory_slots=4, max_length=16,
                steps=12, d_model=16, d_ffn=32, read_heads=2, word_size=8, batch_size=4, lr=3e-3, threads=1,
                log_every=1, out_dir=str(tmp_path / "run"))


def logged_losses(out_dir):
    with open(os.path.join(out_dir, "metrics.jsonl")) as f:
        return {r["step"]: r["loss"] for r in map(json.loads, f) if "loss" in r}


def test_callback_sees_each_step_and_stops_training(config):
    seen = []

    def callback(info):
        seen.append(info)
        return info.step < 5  # False at step 5: stop

    summary = sdnc.train(config, callback=callback)
    assert [i.step for i in seen] == [1, 2, 3, 4, 5]
    assert summary["stopped"] and summary["last_step"] == 5
    logged = logged_losses(config["out_dir"])  # the trainer's own log, one line per step
    for info in seen:
        assert info.loss == pytest.approx(logged[info.step], rel=1e-12)
        assert info.lr == pytest.approx(config["lr"]) and np.isfinite(info.grad_norm)
    # the checkpoint written at the stop resumes from step 5
    resumed = sdnc.train(config, resume=True)
    assert resumed["first_step"] == 5 and resumed["last_step"] == config["steps"] and not resumed["stopped"]


def test_callback_exception_propagates(config):
    def callback(info):
        if info.step == 2:
            raise ZeroDivisionError("boom at step 2")

    with pytest.raises(ZeroDivisionError, match="boom at step 2"):
        sdnc.train(config, callback=callback)
    assert max(logged_losses(config["out_dir"])) == 2


def test_ctrl_c_interrupts_training_cleanly(config):
    def callback(info):
        if info.step == 3:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        sdnc.train(config, callback=callback)
    assert signal.getsignal(signal.SIGINT) is handler  # Python's handler is back
    assert max(logged_losses(config["out_dir"])) == 3  # stopped at the next step boundary
    resumed = sdnc.train(dict(config, steps=4), resume=True)  # and the checkpoint is there
    assert resumed["first_step"] == 3


def test_bad_train_config_raises(config):
    with pytest.raises(sdnc.Error, match=r"unknown key 'stpes'"):
        sdnc.train(dict(config, stpes=3))
    with pytest.raises(sdnc.Error, match=r"'lr'"):
        sdnc.train(dict(config, lr="fast"))


def test_generate_iterator_equals_cli(config, cli):
    sdnc.train(config)
    m = sdnc.load(config["out_dir"])
    assert isinstance(m, sdnc.Machine)
    tokens = m.generate("the ", 24)
    assert iter(tokens) is tokens  # an iterator: tokens come one at a time
    text = bytes(list(tokens)).decode("latin-1")
    out = subprocess.run([cli, "generate", "--checkpoint", config["out_dir"], "--prompt", "the ", "--tokens", "24",
                          "--temperature", "0"], check=True, capture_output=True).stdout.decode("latin-1")
    assert out.rstrip("\n") == "the " + text
    # Sampled: the CLI's sampler and seed, so the same tokens.
    sampled = bytes(list(m.generate("the ", 24, temperature=0.8, top_k=20, seed=5))).decode("latin-1")
    out = subprocess.run([cli, "generate", "--checkpoint", config["out_dir"], "--prompt", "the ", "--tokens", "24",
                          "--temperature", "0.8", "--top-k", "20", "--seed", "5"],
                         check=True, capture_output=True).stdout.decode("latin-1")
    assert out.rstrip("\n") == "the " + sampled
    with pytest.raises(sdnc.Error, match=r"temperature must be >= 0"):
        next(m.generate("the ", 3, temperature=-1))
