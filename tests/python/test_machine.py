"""sdnc.Machine: the Transformer preset against a PyTorch module loaded from the same state_dict,
both forms and step() against each other, the binding against `sdnc run` on one checkpoint,
traces, save/load, and bad arguments."""
import json
import os
import subprocess

import numpy as np
import pytest

import sdnc

SIZES = dict(input_size=6, output_size=5, d_model=16, nhead=4, num_layers=2, dim_feedforward=32)
TOL = 2e-5  # float32 through two layers


def inputs(B=2, T=7, X=6, seed=1):
    return np.random.default_rng(seed).standard_normal((B, T, X)).astype(np.float32)


def test_transformer_equals_pytorch_from_its_state_dict():
    torch = pytest.importorskip("torch")
    from torch_sdnc import TorchSdnc
    torch.manual_seed(0)
    ref = TorchSdnc(**SIZES).eval()
    m = sdnc.transformer(**SIZES, seed=123)  # other weights until the state_dict is loaded
    m.load_state_dict(ref.state_dict())
    x = inputs()
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    for form in ("parallel", "recurrent"):
        got = m.forward(x, form=form)
        assert got.shape == want.shape
        assert np.max(np.abs(got - want)) < TOL, form
    # and the state_dict comes back with the same names and values
    back = m.state_dict()
    assert set(back) == set(ref.state_dict())
    for name, value in ref.state_dict().items():
        np.testing.assert_array_equal(back[name], value.numpy())


def test_step_by_step_equals_forward():
    m = sdnc.transformer(**SIZES)
    x = inputs()
    state = m.initial_state(batch=2)
    steps = np.stack([m.step(x[:, t], state) for t in range(x.shape[1])], axis=1)
    assert state.position == x.shape[1] and state.slots == x.shape[1]
    assert np.max(np.abs(steps - m.forward(x, "parallel"))) < TOL


def test_token_input_takes_ids_in_both_forms_and_step():
    # input_vocab: token ids (int64) in, through the input embedding; the forms and step() agree
    m = sdnc.Machine(dict(controller="stateless", write="append", similarity="dot", read_modes="content",
                          key_value="separate", input_vocab=11, output_size=11, d_model=16, d_ffn=32,
                          read_heads=2, word_size=8, positions="rope"))
    ids = np.random.default_rng(3).integers(0, 11, size=(2, 6)).astype(np.int64)
    par, rec = m.forward(ids, "parallel"), m.forward(ids, "recurrent")
    assert par.shape == (2, 6, 11)
    assert np.max(np.abs(par - rec)) < TOL
    state = m.initial_state(batch=2)
    steps = np.stack([m.step(ids[:, t].copy(), state) for t in range(6)], axis=1)
    assert np.max(np.abs(steps - par)) < TOL
    with pytest.raises(sdnc.Error, match="token ids, int64"):
        m.forward(ids.astype(np.float32), "parallel")
    with pytest.raises(sdnc.Error, match="outside the vocabulary"):
        m.forward(np.full((1, 3), 11, dtype=np.int64), "parallel")


@pytest.mark.parametrize("config", [
    dict(controller="lstm", write="allocate", memory_slots=8),  # the DNC corner
    dict(controller="stateless", write="append", similarity="dot", read_modes="links", key_value="separate",
         d_model=16, d_ffn=32, read_heads=2, word_size=8),       # induction-head hybrid
])
def test_hybrid_runs_and_traces(config):
    m = sdnc.Machine(dict(input_size=6, output_size=5, **config))
    x = inputs(T=4)
    y = m.forward(x)  # the recurrent form where there is no parallel one
    tr = m.trace(x, form="recurrent")
    np.testing.assert_allclose(y, m.forward(x, "recurrent"), atol=1e-6)
    w = tr["layers.0.read_weights"]
    assert w.shape[:2] == (2, 4)
    # read weightings are distributions over slots (links: at most 1)
    assert np.all(w >= -1e-6) and np.all(w.sum(-1) <= 1 + 1e-5)
    if config["controller"] == "lstm":
        assert "layers.0.usage" in tr and "layers.0.link" in tr


def test_parallel_trace_rows_are_causal_distributions():
    m = sdnc.transformer(**SIZES)
    tr = m.trace(inputs(T=5), form="parallel")
    w = tr["layers.1.read_weights"]  # [B, T, R, n]
    assert w.shape == (2, 5, 4, 5)
    np.testing.assert_allclose(w.sum(-1), 1, atol=1e-5)
    assert np.all(np.triu(w.transpose(0, 2, 1, 3), k=1) == 0)  # step t reads slots 0..t only
    np.testing.assert_allclose(w, m.trace(inputs(T=5), form="recurrent")["layers.1.read_weights"], atol=1e-5)
    assert m.trace() is not None  # the last trace again, without running


def test_dnc_preset_and_no_parallel_form():
    m = sdnc.dnc(input_size=6, output_size=5, memory_size=8)
    assert not m.has_parallel_form
    with pytest.raises(sdnc.Error, match=r"\[machine\] .*has no parallel form: .*recurrent"):
        m.forward(inputs(), form="parallel")
    assert m.forward(inputs(), form="recurrent").shape == (2, 7, 5)


def test_forward_equals_cli_run_on_the_same_checkpoint(cli, tmp_path):
    m = sdnc.transformer(**SIZES, seed=5)
    m.save(tmp_path / "ckpt")
    loaded = sdnc.load(tmp_path / "ckpt")
    assert isinstance(loaded, sdnc.Machine)
    x = inputs()
    sdnc.save_safetensors(tmp_path / "in.safetensors", {"inputs": x})
    for form in ("parallel", "recurrent"):
        out = tmp_path / f"out_{form}.safetensors"
        subprocess.run([cli, "run", "--model", str(tmp_path / "ckpt"), "--input", str(tmp_path / "in.safetensors"),
                        "--output", str(out), "--form", form], check=True, capture_output=True)
        want = sdnc.load(out)["outputs"]
        np.testing.assert_array_equal(loaded.forward(x, form=form), want)
        np.testing.assert_array_equal(m.forward(x, form=form), want)


def test_load_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(sdnc.Error, match=r"\[load\] .*nothing: no such file"):
        sdnc.load(tmp_path / "nothing")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(sdnc.Error, match=r"not a checkpoint folder, .safetensors or .gguf file"):
        sdnc.load(tmp_path / "notes.txt")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text(json.dumps({"model_type": "machine", "input_size": 2,
                                                               "output_size": 2, "controller": "stateless",
                                                               "write": "append"}))
    with pytest.raises(sdnc.Error, match=r"model.safetensors"):
        sdnc.load(tmp_path / "bad")


def test_bad_arguments_raise_with_the_message():
    m = sdnc.transformer(**SIZES)
    with pytest.raises(sdnc.Error, match=r"\[Machine.forward\] x must be float32 .*got int64"):
        m.forward(np.zeros((2, 3, 6), np.int64))
    with pytest.raises(sdnc.Error, match=r"\[Machine.forward\] x must be float32 .*got float64"):
        m.forward(np.zeros((2, 3, 6)))
    with pytest.raises(sdnc.Error, match=r"\[Machine.forward\] x must have shape \[B, T, X\] with X = input_size = 6, "
                                         r"got \[3, 6\]"):
        m.forward(np.zeros((3, 6), np.float32))
    with pytest.raises(sdnc.Error, match=r"X = input_size = 6, got \[2, 3, 4\]"):
        m.forward(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(sdnc.Error, match=r"form must be 'parallel' or 'recurrent', got 'sideways'"):
        m.forward(inputs(), form="sideways")
    with pytest.raises(sdnc.Error, match=r"unknown key 'controler'.*did you mean 'controller'"):
        sdnc.Machine(input_size=2, output_size=2, controler="lstm")
    with pytest.raises(sdnc.Error, match=r"\[Machine.step\] x must have shape \[B, X\]"):
        m.step(inputs(), m.initial_state(2))
    with pytest.raises(sdnc.Error, match=r"\[Machine.step\] x has B = 1 sequences, the state 2"):
        m.step(np.zeros((1, 6), np.float32), m.initial_state(2))
    with pytest.raises(sdnc.Error, match=r"the state belongs to another machine"):
        m.step(np.zeros((2, 6), np.float32), sdnc.transformer(**SIZES).initial_state(2))
    with pytest.raises(sdnc.Error, match=r"missing tensor 'input.weight'"):
        m.load_state_dict({})
    with pytest.raises(sdnc.Error, match=r"nothing recorded yet"):
        sdnc.transformer(**SIZES).trace()


def test_gil_is_released_during_forward():
    """Another Python thread runs while a forward computes: with a 10 s switch interval the
    interpreter never takes the GIL from the main thread by force, so the counter can only tick
    during the call if the binding released it."""
    import sys
    import threading
    import time
    m = sdnc.transformer(**SIZES)
    x = inputs(B=4, T=256)
    ticks, done = [0], threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0)  # lets the GIL go each time round

    old = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    counter = threading.Thread(target=count)
    try:
        counter.start()
        before = ticks[0]
        for _ in range(3):
            m.forward(x, "recurrent")
        during = ticks[0] - before
    finally:
        done.set()
        counter.join()
        sys.setswitchinterval(old)
    assert during > 0
