"""The peers of R1/R2 (docs/real_models.md), one measurement per run, one JSON line each, in the
format bench/run_real_bench.sh reads (the sdnc side is build/release/bench/real_bench):

  real_peers.py llama-cpp   --model FILE.gguf --prompt TEXT --tokens 128 --threads N
      llama-cpp-python on the same GGUF (Q4_1, its own kernels), greedy: prefill = the prompt
      evaluated as one batch, decode = `tokens` greedy tokens, each timed without sampling
      overhead beyond argmax.
  real_peers.py transformers --model FILE.gguf --prompt TEXT --tokens 128 --threads "1 2"
      transformers loading the GGUF dequantised to fp32 (its GGUF loader; gguf's dequantiser
      where the installed transformers lacks Q4_1), greedy with its KV cache; one load, then
      a measurement at each thread count.
  real_peers.py st --model DIR --sentences FILE --batch B --threads N
      sentence-transformers' encode over the file's lines in batches of B → sentences/s
      (best of 3 passes after one warm-up pass).
Model loading is not timed. Threads: torch.set_num_threads and, where torch calls OpenBLAS,
openblas_set_num_threads (limit_openblas) / llama.cpp's n_threads.
"""
import argparse
import json
import os
import pathlib
import sys
import time


def emit(d):
    print(json.dumps(d), flush=True)


def limit_openblas(threads):
    """torch.set_num_threads does not reach the OpenBLAS that Debian's torch 1.13 calls for its
    GEMMs (built with BLAS_INFO=generic): its own pool then takes every core, so a "1 thread"
    peer ran its products on 2 (up to 1.8x faster when the other core was idle). Sets the
    loaded OpenBLAS's count; returns whether one was loaded (PyPI's torch uses MKL instead)."""
    import ctypes
    for line in open("/proc/self/maps"):
        path = line.split()[-1]
        if "libopenblas" in path:
            ctypes.CDLL(path).openblas_set_num_threads(threads)
            return True
    return False


def llama_cpp(a):
    import llama_cpp
    import numpy as np
    llm = llama_cpp.Llama(model_path=a.model, n_ctx=512, n_threads=a.threads, n_threads_batch=a.threads,
                          n_batch=512, verbose=False, logits_all=False)
    ids = llm.tokenize(a.prompt.encode(), add_bos=False, special=False)
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(ids)
    prefill = time.perf_counter() - t0
    out, vocab = [], llm.n_vocab()
    # The last position's logits from the context (0.3.36's `scores` stays zero without logits_all).
    last = lambda: np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(vocab,))  # noqa: E731
    t0 = time.perf_counter()
    for _ in range(a.tokens):
        nxt = int(last().argmax())
        out.append(nxt)
        llm.eval([nxt])
    decode = time.perf_counter() - t0
    emit({"impl": "llama.cpp", "version": llama_cpp.__version__, "workload": "R1", "threads": a.threads,
          "prompt_tokens": len(ids), "tokens": a.tokens, "prefill_tok_s": len(ids) / prefill,
          "decode_tok_s": a.tokens / decode, "first_tokens": out[:16]})


def transformers_peer(a):
    import torch
    import transformers
    path = pathlib.Path(a.model)
    try:
        m = transformers.AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                              torch_dtype=torch.float32)
    except Exception as e:  # noqa: BLE001 — say which loader failed, then stop
        print(f"real_peers: transformers {transformers.__version__} cannot load {path.name}: {e}", file=sys.stderr)
        sys.exit(3)
    m.eval()
    tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    ids = tok(a.prompt, add_special_tokens=False, return_tensors="pt").input_ids
    for threads in a.thread_list:  # one load (minutes on the shared machine) for every count
        torch.set_num_threads(threads)
        limit_openblas(threads)
        transformers_run(a, m, ids, threads)


def transformers_run(a, m, ids, threads):
    import torch
    import transformers
    with torch.inference_mode():
        t0 = time.perf_counter()
        o = m(ids, use_cache=True)
        prefill = time.perf_counter() - t0
        past, out = o.past_key_values, []
        nxt = o.logits[0, -1].argmax()
        t0 = time.perf_counter()
        for _ in range(a.tokens):
            out.append(int(nxt))
            o = m(nxt.view(1, 1), past_key_values=past, use_cache=True)
            past, nxt = o.past_key_values, o.logits[0, -1].argmax()
        decode = time.perf_counter() - t0
    emit({"impl": "transformers", "version": transformers.__version__, "torch": torch.__version__, "workload": "R1",
          "threads": threads, "prompt_tokens": int(ids.shape[1]), "tokens": a.tokens,
          "prefill_tok_s": ids.shape[1] / prefill, "decode_tok_s": a.tokens / decode, "first_tokens": out[:16]})


def sentence_transformers_peer(a):
    import torch
    import sentence_transformers
    torch.set_num_threads(a.threads)
    limit_openblas(a.threads)
    m = sentence_transformers.SentenceTransformer(a.model, device="cpu")
    lines = pathlib.Path(a.sentences).read_text().splitlines()
    m.encode(lines, batch_size=a.batch)
    best = 1e30
    for _ in range(3):
        t0 = time.perf_counter()
        m.encode(lines, batch_size=a.batch)
        best = min(best, time.perf_counter() - t0)
    emit({"impl": "sentence-transformers", "version": sentence_transformers.__version__, "torch": torch.__version__,
          "workload": "R2", "threads": a.threads, "batch": a.batch, "sentences": len(lines),
          "sentences_s": len(lines) / best})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["llama-cpp", "transformers", "st"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", default="The capital of France is")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", default="1", help="a count, or for transformers a list ('1 2': one load)")
    ap.add_argument("--sentences", default="bench/real_sentences.txt")
    ap.add_argument("--batch", type=int, default=1)
    a = ap.parse_args()
    a.thread_list = [int(t) for t in a.threads.split()]
    a.threads = a.thread_list[0]
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    {"llama-cpp": llama_cpp, "transformers": transformers_peer, "st": sentence_transformers_peer}[a.peer](a)


if __name__ == "__main__":
    main()
