#!/usr/bin/env python3
"""The PyTorch peer of bench/dnc_bench.cpp: workloads D1, D2, D3 of ../shared/BENCHMARKS.md
with the same shapes, fp32, eager or (--compile, torch >= 2.0) with the step compiled by
torch.compile, one JSON line per workload ("impl": "torch" or "torch-compile"). A clean batched DNC written plainly from DNC.md section A
(DeepMind's arithmetic): an LSTM controller (nn.LSTMCell, forget bias +1 folded into its
bias, clipping ±20), ONE Linear for the whole interface, then usage, write content (old
memory), allocation (stable descending sort of the float32 nonusage, exclusive cumprod,
unsort), write weights, erase/add, link, precedence, read content (new memory),
forward/backward weights (matmul on the link and its
transposed view), read weights, read words (bmm), and the output Linear on
[o ; r_t], applied once over all steps (it does not feed back).

  D1  training step, DeepMind repeat-copy defaults: LSTM 64, N=16, W=16, R=4, H=1, B=16,
      T=9, X=6 (4 bits + 2 flags), Y=5: forward, sigmoid BCE (mean), backward, AdamW.
  D2  training step: LSTM 256, N=128, W=64, R=4, H=1, B=32, T=100, X=10 (8 bits + 2), Y=9.
  D3  inference with the D2 model, B=1, T=10,000 under torch.no_grad (no per-step states
      kept): steps/s and the process's peak RSS.

  python bench/torch_dnc.py [--threads N] [--workloads D1,D2,D3] [--steps N] [--warmup N]
                            [--d3-steps 10000] [--compile]
--compile wraps DNC.step in torch.compile (the step is the unit: compiling the unrolled
100-step forward would take minutes); the warm-up calls include the compilation, whose time
is reported as compile_s (the first call). The peer as users run it is PyPI's newest torch in
the venv of scripts/setup_peers.sh (bench/run_dnc_bench.sh's default PYTHON).
Set OPENBLAS_NUM_THREADS/OMP_NUM_THREADS to the same N before starting (the run script does).
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_common import emit, timed

EPS = 1e-6
CLIP = 20.0

SHAPES = {  # hidden, N, W, R, H, B, T, X, Y
    "D1": dict(hidden=64, N=16, W=16, R=4, H=1, B=16, T=9, X=6, Y=5),
    "D2": dict(hidden=256, N=128, W=64, R=4, H=1, B=32, T=100, X=10, Y=9),
    "D3": dict(hidden=256, N=128, W=64, R=4, H=1, B=1, T=10000, X=10, Y=9),
}


class DNC(nn.Module):
    def __init__(self, X, Y, hidden, N, W, R, H):
        super().__init__()
        self.N, self.W, self.R, self.H = N, W, R, H
        self.lstm = nn.LSTMCell(X + R * W, hidden)
        with torch.no_grad():  # DeepMind's forget bias 1.0 (gate order i, f, g, o)
            self.lstm.bias_ih[hidden:2 * hidden] += 1.0
        # interface: v, e, free, g_a, g_w, read modes, write keys, write strengths, read keys, read strengths
        self.sizes = [H * W, H * W, R, H, H, R * (1 + 2 * H), H * W, H, R * W, R]
        self.interface = nn.Linear(hidden, sum(self.sizes))
        self.output = nn.Linear(hidden + R * W, Y)
        self.register_buffer("off_diagonal", 1 - torch.eye(N), persistent=False)

    def zero_state(self, B):
        N, W, R, H, h = self.N, self.W, self.R, self.H, self.lstm.hidden_size
        z = torch.zeros
        return dict(M=z(B, N, W), wr=z(B, R, N), ww=z(B, H, N), L=z(B, H, N, N), p=z(B, H, N), u=z(B, N),
                    r=z(B, R, W), h=z(B, h), c=z(B, h))

    @staticmethod
    def cosine(M, keys, strengths):  # M [B,N,W], keys [B,K,W], strengths [B,K] → [B,K,N]
        dot = torch.bmm(keys, M.transpose(1, 2))
        nk = torch.sqrt((keys * keys).sum(-1, keepdim=True) + EPS)
        nm = torch.sqrt((M * M).sum(-1) + EPS).unsqueeze(1)
        sim = dot / (nk * nm + EPS)
        return torch.softmax(sim * F.softplus(strengths).unsqueeze(-1), dim=-1)

    @staticmethod
    def allocation(u):  # u [B, N] → a [B, N]
        u = EPS + (1 - EPS) * u
        nonusage = 1 - u
        sorted_nonusage, phi = torch.sort(nonusage.detach(), dim=-1, descending=True, stable=True)
        sorted_nonusage = nonusage.gather(1, phi)
        prod = torch.cumprod(1 - sorted_nonusage, dim=-1)
        excl = torch.cat([torch.ones_like(prod[:, :1]), prod[:, :-1]], dim=1)
        return torch.zeros_like(u).scatter(1, phi, sorted_nonusage * excl)

    def step(self, x, s):
        B, N, W, R, H = x.shape[0], self.N, self.W, self.R, self.H
        h, c = self.lstm(torch.cat([x, s["r"].reshape(B, R * W)], 1), (s["h"], s["c"]))
        h, c = h.clamp(-CLIP, CLIP), c.clamp(-CLIP, CLIP)
        v, e, free, ga, gw, modes, kw, bw, kr, br = torch.split(self.interface(h), self.sizes, 1)
        v, e, kw, kr = v.view(B, H, W), torch.sigmoid(e).view(B, H, W), kw.view(B, H, W), kr.view(B, R, W)
        free, ga, gw = torch.sigmoid(free), torch.sigmoid(ga), torch.sigmoid(gw)
        modes = torch.softmax(modes.view(B, R, 1 + 2 * H), -1)
        # usage (previous write weights stop-gradient), then free
        written = 1 - torch.prod(1 - s["ww"].detach(), 1)
        u = s["u"] + (1 - s["u"]) * written
        u = u * torch.prod(1 - free.unsqueeze(-1) * s["wr"], 1)
        # write weights: content on the old memory, allocation head by head
        cw = self.cosine(s["M"], kw, bw)
        allocs, ub = [], u
        for k in range(H):
            a = self.allocation(ub)
            allocs.append(a)
            if k + 1 < H:
                ub = ub + (1 - ub) * (ga[:, k:k + 1] * gw[:, k:k + 1]) * a
        alloc = torch.stack(allocs, 1)
        ww = gw.unsqueeze(-1) * (ga.unsqueeze(-1) * alloc + (1 - ga.unsqueeze(-1)) * cw)  # [B,H,N]
        # erase, then add
        keep = torch.prod(1 - ww.unsqueeze(-1) * e.unsqueeze(2), 1)  # [B,N,W]
        M = s["M"] * keep + torch.bmm(ww.transpose(1, 2), v)
        # link (old precedence, zero diagonal), precedence
        wi, wj = ww.unsqueeze(-1), ww.unsqueeze(-2)
        L = (1 - wi - wj) * s["L"] + wi * s["p"].unsqueeze(-2)
        L = L * self.off_diagonal
        p = (1 - ww.sum(-1, keepdim=True)) * s["p"] + ww
        # read weights: content on the new memory, directions on the new link and old read weights
        cr = self.cosine(M, kr, br)
        wr0 = s["wr"].unsqueeze(1)  # [B,1,R,N]; matmul takes the transposed link as a view (no copy)
        fwd = torch.matmul(wr0, L.transpose(2, 3)).transpose(1, 2)  # [B,R,H,N]: f[i] = Σ_j L[i,j]·w[j]
        bwd = torch.matmul(wr0, L).transpose(1, 2)  # b[j] = Σ_i L[i,j]·w[i]
        wr = (modes[..., 2 * H:] * cr + (modes[..., H:2 * H].unsqueeze(-1) * fwd).sum(2)
              + (modes[..., :H].unsqueeze(-1) * bwd).sum(2))
        r = torch.bmm(wr, M)
        return h, dict(M=M, wr=wr, ww=ww, L=L, p=p, u=u, r=r, h=h, c=c)

    def forward(self, inputs):  # [B, T, X] → logits [B, T, Y]
        B, T, _ = inputs.shape
        s = self.zero_state(B)
        feats = []
        for t in range(T):
            o, s = self.step(inputs[:, t], s)
            feats.append(torch.cat([o, s["r"].reshape(B, -1)], 1))
        return self.output(torch.stack(feats, 1)).clamp(-CLIP, CLIP)


def make_model(sh, model_cls=DNC, compile=False):
    torch.manual_seed(1)
    m = model_cls(sh["X"], sh["Y"], sh["hidden"], sh["N"], sh["W"], sh["R"], sh["H"])
    if compile:
        m.step = torch.compile(m.step, dynamic=False)
    return m


def impl_of(a):
    return {"impl": "torch-compile"} if a.compile else {}


def run_train(name, a, model=None, impl_extra=None):
    sh = SHAPES[name]
    model = model or make_model(sh, compile=a.compile)
    impl_extra = {**impl_of(a), **(impl_extra or {})}
    B, T = sh["B"], sh["T"]
    g = torch.Generator().manual_seed(2)
    inputs = torch.randint(0, 2, (B, T, sh["X"]), generator=g).float()
    targets = torch.randint(0, 2, (B, T, sh["Y"]), generator=g).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, foreach=True)
    ph = {"forward": [], "backward": [], "optimizer": []}
    box = {}

    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        box["loss"] = loss.item()
        for k, dt in (("forward", t1 - t0), ("backward", t2 - t1), ("optimizer", t3 - t2)):
            ph[k].append(dt)

    t0 = time.perf_counter()
    step()  # the first call: compilation under --compile
    first = time.perf_counter() - t0
    for k in ph:
        ph[k].clear()
    times = timed(step, a.warmup, a.steps)
    s = statistics.median(times)
    emit({"workload": name, "threads": a.threads, **impl_extra, "compile_s": round(first, 2), "step_ms": round(s * 1e3, 3),
          "step_ms_min": round(min(times) * 1e3, 3), "steps": len(times), "tb_per_s": round(T * B / s, 1),
          "loss": round(box["loss"], 5),
          **{f"{k}_ms": round(statistics.median(v[a.warmup:]) * 1e3, 3) for k, v in ph.items()}})


def run_d3(a):
    sh = dict(SHAPES["D3"], T=a.d3_steps)
    model = make_model(sh, compile=a.compile)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    x = torch.randint(0, 2, (1, sh["T"], sh["X"]), generator=torch.Generator().manual_seed(3)).float()
    with torch.no_grad():
        s = model.zero_state(1)
        for t in range(20):  # warm-up
            model.step(x[:, t], s)
        t0 = time.perf_counter()
        feats = []
        for t in range(sh["T"]):
            o, s = model.step(x[:, t], s)
            feats.append(torch.cat([o, s["r"].reshape(1, -1)], 1))
        y = model.output(torch.stack(feats, 1)).clamp(-CLIP, CLIP)
        dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    emit({"workload": "D3", "threads": a.threads, **impl_of(a), "T": sh["T"], "steps_per_s": round(sh["T"] / dt, 1),
          "ms_per_step": round(dt / sh["T"] * 1e3, 4), "peak_rss_mb": round(rss / 1024, 1),
          "rss_before_mb": round(rss0 / 1024, 1), "checksum": round(float(y.abs().mean()), 6)})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workloads", default="D1,D2,D3")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--d3-steps", type=int, default=10000)
    p.add_argument("--compile", action="store_true", help="torch.compile the step (torch >= 2.0)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for w in a.workloads.split(","):
        if w in ("D1", "D2"):
            run_train(w, a)
        elif w == "D3":
            run_d3(a)


if __name__ == "__main__":
    main()
