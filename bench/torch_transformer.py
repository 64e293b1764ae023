#!/usr/bin/env python3
"""The PyTorch peer of bench/transformer_bench.cpp: workloads T1, T2, T3 of
../shared/BENCHMARKS.md with the same shapes, fp32, eager or (--compile, torch >= 2.0)
torch.compile'd, one JSON line per workload ("impl": "torch" or "torch-compile").

  T1  GPT training step: hand-written GPT-2 blocks (pre-LN, tanh-GELU, learned positions,
      tied embeddings; attention as baddbmm(mask, q, kᵀ) → softmax → bmm, which is how
      nn.MultiheadAttention computes it in torch 1.13 minus its extra reshapes; --attn mha
      uses nn.MultiheadAttention instead, --attn sdpa F.scaled_dot_product_attention(is_causal)
      on the same fused QKV; --attn auto, the default, times a short run of each
      available one eagerly and keeps the fastest, reporting which in "attn"), V=256, D=256, H=4, FFN 1024, L=4, B=16, T=256:
      forward, cross_entropy, backward, AdamW (foreach). tokens/s = B·T / step.
  T2  generation with a KV cache: the T1 model (512 positions), B=1; the cache is
      preallocated [B, H, 512, Dh] per layer and written in place, so no prefix is ever
      recomputed; prefill 256 tokens in one call (causal), then 256 greedy tokens one at a time.
  T3  encoder-decoder training step: nn.Transformer (post-LN, ReLU, dropout 0, batch_first)
      D=256, H=4, 3+3 layers, FFN 1024, with src/tgt token embeddings ·sqrt(D), learned
      positions and a Linear generator; B=16, src 128, tgt 128, V=256. target tokens/s.

  python bench/torch_transformer.py [--threads N] [--workloads T1,T2,T3] [--steps N] [--warmup N]
                                    [--attn auto|manual|mha|sdpa] [--compile]
--compile: T1/T3 run torch.compile(model) (the warm-up includes compilation; compile_s is the
first step), T2 compiles the decode call with dynamic shapes (the cache view grows).
The peer as users run it is PyPI's newest torch in the venv of scripts/setup_peers.sh
(bench/run_transformer_bench.sh's default PYTHON).
Set OPENBLAS_NUM_THREADS/OMP_NUM_THREADS to the same N before starting (the run script does).
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_common import emit, timed

V, D, H, FF, L, T, B = 256, 256, 4, 1024, 4, 256, 16
DH = D // H


class Block(nn.Module):
    """One GPT-2 block (pre-LN)."""

    def __init__(self, attn_impl):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D)
        self.attn_impl = attn_impl
        if attn_impl == "mha":
            self.mha = nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True)
        else:
            self.c_attn = nn.Linear(D, 3 * D)
            self.c_proj = nn.Linear(D, D)
        self.ln_2 = nn.LayerNorm(D)
        self.c_fc = nn.Linear(D, FF)
        self.mlp_proj = nn.Linear(FF, D)

    def attention(self, a, mask):
        b, t, _ = a.shape
        if self.attn_impl == "mha":
            return self.mha(a, a, a, attn_mask=mask, need_weights=False)[0]
        qkv = self.c_attn(a).view(b, t, 3, H, DH).permute(2, 0, 3, 1, 4)  # [3, B, H, T, Dh]
        if self.attn_impl == "sdpa":
            y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)  # [B, H, T, Dh]
            return self.c_proj(y.transpose(1, 2).reshape(b, t, D))
        q, k, v = (x.reshape(b * H, t, DH) for x in qkv)
        att = torch.baddbmm(mask, q, k.transpose(1, 2), alpha=1.0 / math.sqrt(DH))  # scale + mask fused
        y = torch.bmm(torch.softmax(att, dim=-1), v)
        return self.c_proj(y.view(b, H, t, DH).transpose(1, 2).reshape(b, t, D))

    def mlp(self, a):
        return self.mlp_proj(F.gelu(self.c_fc(a), approximate="tanh"))

    def forward(self, x, mask):
        x = x + self.attention(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, positions, attn_impl="manual"):
        super().__init__()
        self.wte = nn.Embedding(V, D)
        self.wpe = nn.Embedding(positions, D)
        self.h = nn.ModuleList(Block(attn_impl) for _ in range(L))
        self.ln_f = nn.LayerNorm(D)
        for name, p in self.named_parameters():  # GPT-2 init
            if "ln_" in name:
                nn.init.constant_(p, 0.0 if name.endswith("bias") else 1.0)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens):
        t = tokens.shape[1]
        mask = torch.full((t, t), float("-inf")).triu_(1)
        x = self.wte(tokens) + self.wpe(torch.arange(t))
        for blk in self.h:
            x = blk(x, mask)
        return F.linear(self.ln_f(x), self.wte.weight)  # tied embeddings

    def decode(self, tokens, pos, cache):
        """tokens [1, n] at positions pos..pos+n-1; cache: per layer (k, v) [1, H, P, Dh]."""
        b, n = tokens.shape
        x = self.wte(tokens) + self.wpe(torch.arange(pos, pos + n))
        end = pos + n
        mask = torch.full((n, end), float("-inf")).triu_(pos + 1) if n > 1 else None
        scale = 1.0 / math.sqrt(DH)
        for blk, (kc, vc) in zip(self.h, cache):
            a = blk.ln_1(x)
            q, k, v = blk.c_attn(a).view(b, n, 3, H, DH).permute(2, 0, 3, 1, 4)
            kc[:, :, pos:end] = k
            vc[:, :, pos:end] = v
            att = torch.matmul(q, kc[:, :, :end].transpose(-1, -2)) * scale
            if mask is not None:
                att = att + mask
            y = torch.matmul(torch.softmax(att, dim=-1), vc[:, :, :end])
            x = x + blk.c_proj(y.transpose(1, 2).reshape(b, n, D))
            x = x + blk.mlp(blk.ln_2(x))
        return F.linear(self.ln_f(x), self.wte.weight)


class Seq2Seq(nn.Module):
    def __init__(self, positions):
        super().__init__()
        self.src_embed = nn.Embedding(V, D)
        self.tgt_embed = nn.Embedding(V, D)
        self.pos_embed = nn.Embedding(positions, D)
        self.transformer = nn.Transformer(D, H, 3, 3, FF, dropout=0.0, activation="relu", batch_first=True)
        self.generator = nn.Linear(D, V)

    def embed(self, table, tokens):
        return table(tokens) * math.sqrt(D) + self.pos_embed(torch.arange(tokens.shape[1]))

    def forward(self, src, tgt):
        t = tgt.shape[1]
        mask = torch.full((t, t), float("-inf")).triu_(1)
        y = self.transformer(self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt), tgt_mask=mask)
        return self.generator(y)


def compiled(model, a):
    return torch.compile(model) if a.compile else model


def impl_of(a):
    return {"impl": "torch-compile"} if a.compile else {}


def first_step(step, state):
    """Runs one unmeasured step (compilation under --compile); returns its time."""
    t0 = time.perf_counter()
    step()
    dt = time.perf_counter() - t0
    for k in ("forward", "backward", "optimizer"):
        state[k].clear()
    return dt


def pick_attention(a):
    """--attn auto: the fastest of manual / mha / sdpa on a short eager T1 run (under --compile the
    winner is then compiled: compiling three candidates would take minutes on this machine)."""
    if a.attn != "auto":
        return a.attn, {}
    trials = {}
    for impl in ("manual", "mha", "sdpa"):
        if impl == "sdpa" and not hasattr(F, "scaled_dot_product_attention"):
            continue
        torch.manual_seed(1)
        model = GPT(T, impl)
        step, state = train_step_fn(model, (torch.randint(0, V, (B, T)),), torch.randint(0, V, (B, T)))
        first_step(step, state)
        trials[impl] = statistics.median(timed(step, 1, 2))
    best = min(trials, key=trials.get)
    return best, {"attn_trial_ms": {k: round(v * 1e3, 1) for k, v in trials.items()}}


def train_step_fn(model, inputs, targets):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, foreach=True)
    state = {"forward": [], "backward": [], "optimizer": []}

    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model(*inputs)
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        state["loss"] = loss.item()
        for k, dt in (("forward", t1 - t0), ("backward", t2 - t1), ("optimizer", t3 - t2)):
            state[k].append(dt)
    return step, state


def phases(state, warmup):
    return {f"{k}_ms": round(statistics.median(state[k][warmup:]) * 1e3, 2) for k in ("forward", "backward", "optimizer")}


def run_t1(a):
    attn, trial = pick_attention(a)
    torch.manual_seed(1)
    model = GPT(T, attn)
    tokens, targets = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
    step, state = train_step_fn(compiled(model, a), (tokens,), targets)
    first = first_step(step, state)
    times = timed(step, a.warmup, a.steps)
    s = statistics.median(times)
    n_mm = sum(p.numel() for p in model.parameters()) - model.wpe.weight.numel()
    flops = 6.0 * n_mm * B * T + 12.0 * L * T * D * B * T
    emit({"workload": "T1", "threads": a.threads, **impl_of(a), "attn": attn, **trial, "compile_s": round(first, 2),
          "tokens_per_s": round(B * T / s, 1),
          "step_ms": round(s * 1e3, 2), "step_ms_min": round(min(times) * 1e3, 2), "steps": len(times),
          "flops_per_step": flops, "gflops": round(flops / s * 1e-9, 2), "loss": round(state["loss"], 4), **phases(state, a.warmup)})


def run_t2(a):
    prefill, new = 256, 256
    torch.manual_seed(2)
    model = GPT(prefill + new, "manual").eval()
    prompt = torch.randint(0, V, (1, prefill))
    decode = torch.compile(model.decode, dynamic=True) if a.compile else model.decode
    # Eager decodes under inference_mode (its fastest); the compiled decode under no_grad:
    # inductor cannot write the cache (a slice assignment) inside inference_mode
    # ("Cannot set version_counter for inference tensor", torch 2.15).
    no_autograd = torch.no_grad if a.compile else torch.inference_mode
    pre, dec = [], []
    for i in range(a.warmup + a.steps):
        cache = [(torch.zeros(1, H, prefill + new, DH), torch.zeros(1, H, prefill + new, DH)) for _ in range(L)]
        t0 = time.perf_counter()
        with no_autograd():
            logits = decode(prompt, 0, cache)
        tp = time.perf_counter() - t0
        nxt = int(logits[0, -1].argmax())
        t0 = time.perf_counter()
        with no_autograd():
            for k in range(new):
                logits = decode(torch.tensor([[nxt]]), prefill + k, cache)
                nxt = int(logits[0, -1].argmax())
        td = time.perf_counter() - t0
        if i >= a.warmup:
            pre.append(tp)
            dec.append(td)
    tp, td = statistics.median(pre), statistics.median(dec)
    emit({"workload": "T2", "threads": a.threads, **impl_of(a), "prefill_tokens_per_s": round(prefill / tp, 1),
          "decode_tokens_per_s": round(new / td, 1), "prefill_ms": round(tp * 1e3, 2),
          "decode_ms": round(td * 1e3, 2), "repeats": len(pre)})


def run_t3(a):
    S, TT = 128, 128
    torch.manual_seed(3)
    model = Seq2Seq(max(S, TT))
    src, tgt, targets = (torch.randint(0, V, (B, n)) for n in (S, TT, TT))
    step, state = train_step_fn(compiled(model, a), (src, tgt), targets)
    first = first_step(step, state)
    times = timed(step, a.warmup, a.steps)
    s = statistics.median(times)
    emit({"workload": "T3", "threads": a.threads, **impl_of(a), "compile_s": round(first, 2), "tokens_per_s": round(B * TT / s, 1), "step_ms": round(s * 1e3, 2),
          "step_ms_min": round(min(times) * 1e3, 2), "steps": len(times),
          "params": sum(p.numel() for p in model.parameters()), "loss": round(state["loss"], 4),
          **phases(state, a.warmup)})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workloads", default="T1,T2,T3")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--attn", choices=["auto", "manual", "mha", "sdpa"], default="auto")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (torch >= 2.0)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    want = a.workloads.split(",")
    for w, fn in (("T1", run_t1), ("T2", run_t2), ("T3", run_t3)):
        if w in want:
            fn(a)


if __name__ == "__main__":
    main()
