"""A plain-PyTorch DNC written from /work/shared/DNC.md section A (DeepMind's reference
arithmetic), used as the oracle for sdnc's DNC. Computes in whatever dtype its parameters
have (float64 for the golden files). Shapes: B batch, N slots, W word, R reads, H writes,
h controller size, X input, Y output.

Parameter names are sdnc's checkpoint names (docs/dnc.md); Linear layout [out, in];
LSTM gate order i, f, g, o (PyTorch), forget bias 1.0 added at run time.
"""
import numpy as np
import torch
import torch.nn.functional as F

EPS = 1e-6
ACCESS_LINEARS = ["write_vectors", "erase_vectors", "free_gate", "allocation_gate", "write_gate", "read_mode",
                  "write_keys", "write_strengths", "read_keys", "read_strengths"]


def access_sizes(cfg):
    W, R, H = cfg["word_size"], cfg["num_read_heads"], cfg["num_write_heads"]
    return {"write_vectors": H * W, "erase_vectors": H * W, "free_gate": R, "allocation_gate": H, "write_gate": H,
            "read_mode": R * (1 + 2 * H), "write_keys": H * W, "write_strengths": H, "read_keys": R * W,
            "read_strengths": R}


def init_params(cfg, g, dtype=torch.float64):
    """Random parameters (float32-representable), with non-zero biases so every gradient is exercised."""
    X, Y, h = cfg["input_size"], cfg["output_size"], cfg["hidden_size"]
    RW = cfg["num_read_heads"] * cfg["word_size"]
    lstm = cfg.get("controller", "lstm") == "lstm"
    gates = 4 * h if lstm else h

    def rnd(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).float().to(dtype)

    p = {"controller.weight_ih": rnd(gates, X + RW, std=1 / np.sqrt(X + RW + h)),
         "controller.bias": rnd(gates, std=0.3)}
    if lstm:
        p["controller.weight_hh"] = rnd(gates, h, std=1 / np.sqrt(X + RW + h))
    for name, out in access_sizes(cfg).items():
        p[f"access.{name}.weight"] = rnd(out, h, std=1.5 / np.sqrt(h))
        p[f"access.{name}.bias"] = rnd(out, std=0.3)
    p["output.weight"] = rnd(Y, h + RW, std=1 / np.sqrt(h + RW))
    p["output.bias"] = rnd(Y, std=0.3)
    return p


def strength(x, kind):
    return F.softplus(x) if kind == "softplus" else 1 + F.softplus(x)


def cosine_weights(memory, keys, strengths, kind):
    """memory [B,N,W], keys [B,K,W], strengths [B,K] -> [B,K,N] (A.3)."""
    dot = keys @ memory.transpose(1, 2)
    mnorm = torch.sqrt((memory * memory).sum(-1) + EPS)      # [B,N]
    knorm = torch.sqrt((keys * keys).sum(-1) + EPS)          # [B,K]
    sim = dot / (knorm[:, :, None] * mnorm[:, None, :] + EPS)
    return torch.softmax(sim * strength(strengths, kind)[:, :, None], -1)


def update_usage(prev_usage, prev_write, free_gate, prev_read):
    """A.4, with stop-gradient of the previous write weights."""
    w = prev_write.detach()
    written = 1 - torch.prod(1 - w, 1)
    u = prev_usage + (1 - prev_usage) * written
    psi = torch.prod(1 - free_gate[:, :, None] * prev_read, 1)
    return u * psi


def sort_keys_fp32(usage):
    """DeepMind's sort key 1 - (eps + (1 - eps) u), each operation in float32."""
    u = usage.detach().float()
    return 1 - (EPS + (1 - EPS) * u)


def allocation_order(usage):
    """Descending, stable (ties -> lower slot index), on float32 keys. [B,N] -> int64 [B,N]."""
    keys = sort_keys_fp32(usage).numpy()
    return torch.from_numpy(np.argsort(-keys, axis=1, kind="stable").astype(np.int64))


def allocation(usage):
    """A.5 for one head: usage [B,N] -> [B,N]."""
    u = EPS + (1 - EPS) * usage
    nonusage = 1 - u
    phi = allocation_order(usage)
    sorted_nonusage = torch.gather(nonusage, 1, phi)
    sorted_usage = 1 - sorted_nonusage
    ones = torch.ones_like(sorted_usage[:, :1])
    excl = torch.cumprod(torch.cat([ones, sorted_usage[:, :-1]], 1), 1)
    sorted_alloc = sorted_nonusage * excl
    inverse = torch.argsort(phi, 1)
    return torch.gather(sorted_alloc, 1, inverse)


def write_allocation(usage, write_gates):
    out = []
    for h in range(write_gates.shape[1]):
        a = allocation(usage)
        out.append(a)
        usage = usage + (1 - usage) * write_gates[:, h:h + 1] * a
    return torch.stack(out, 1)


def erase_and_write(memory, ww, erase, values):
    keep = torch.prod(1 - ww[:, :, :, None] * erase[:, :, None, :], 1)
    return memory * keep + ww.transpose(1, 2) @ values


def update_link(prev_link, prev_prec, ww):
    N = ww.shape[-1]
    wi, wj = ww[..., :, None], ww[..., None, :]
    link = (1 - wi - wj) * prev_link + wi * prev_prec[..., None, :]
    return link * (1 - torch.eye(N, dtype=link.dtype))


def update_precedence(prev_prec, ww):
    return (1 - ww.sum(-1, keepdim=True)) * prev_prec + ww


def directional(link, prev_read, forward):
    """link [B,H,N,N], prev_read [B,R,N] -> [B,R,H,N]."""
    L = link if forward else link.transpose(-1, -2)
    return torch.einsum("bhij,brj->brhi", L, prev_read)


def dnc_forward(cfg, p, inputs):
    """inputs [B,T,X] -> logits [B,T,Y], dict of per-step states stacked over T."""
    B, T, X = inputs.shape
    N, W, R, H, h = (cfg["memory_size"], cfg["word_size"], cfg["num_read_heads"], cfg["num_write_heads"],
                     cfg["hidden_size"])
    clip = cfg.get("clip_value", 20.0) or 0.0
    kind = cfg.get("strength", "softplus")
    lstm = cfg.get("controller", "lstm") == "lstm"
    dt = inputs.dtype

    def c(x):
        return torch.clamp(x, -clip, clip) if clip > 0 else x

    def lin(name, x):
        return x @ p[name + ".weight"].t() + p[name + ".bias"]

    M = torch.zeros(B, N, W, dtype=dt)
    rw = torch.zeros(B, R, N, dtype=dt)
    ww = torch.zeros(B, H, N, dtype=dt)
    L = torch.zeros(B, H, N, N, dtype=dt)
    prec = torch.zeros(B, H, N, dtype=dt)
    usage = torch.zeros(B, N, dtype=dt)
    reads = torch.zeros(B, R, W, dtype=dt)
    hs = torch.zeros(B, h, dtype=dt)
    cs = torch.zeros(B, h, dtype=dt)
    ys = []
    trace = {k: [] for k in ["usage", "write_weights", "read_weights", "read_words", "memory", "link", "precedence"]}
    for t in range(T):
        chi = torch.cat([inputs[:, t], reads.reshape(B, R * W)], 1)
        if lstm:
            gates = chi @ p["controller.weight_ih"].t() + hs @ p["controller.weight_hh"].t() + p["controller.bias"]
            i, f, g, o = gates.split(h, 1)
            cn = torch.sigmoid(f + 1.0) * cs + torch.sigmoid(i) * torch.tanh(g)
            hn = torch.sigmoid(o) * torch.tanh(cn)
            out = c(hn)
            hs, cs = c(hn), c(cn)
        else:
            out = c(torch.tanh(chi @ p["controller.weight_ih"].t() + p["controller.bias"]))
        # interface
        a = "access."
        wvec = lin(a + "write_vectors", out).reshape(B, H, W)
        erase = torch.sigmoid(lin(a + "erase_vectors", out)).reshape(B, H, W)
        free = torch.sigmoid(lin(a + "free_gate", out))
        ga = torch.sigmoid(lin(a + "allocation_gate", out))
        gw = torch.sigmoid(lin(a + "write_gate", out))
        modes = torch.softmax(lin(a + "read_mode", out).reshape(B, R, 1 + 2 * H), -1)
        wkeys = lin(a + "write_keys", out).reshape(B, H, W)
        wstr = lin(a + "write_strengths", out)
        rkeys = lin(a + "read_keys", out).reshape(B, R, W)
        rstr = lin(a + "read_strengths", out)
        # write
        usage = update_usage(usage, ww, free, rw)
        wc = cosine_weights(M, wkeys, wstr, kind)
        alloc = write_allocation(usage, ga * gw)
        ww = gw[:, :, None] * (ga[:, :, None] * alloc + (1 - ga[:, :, None]) * wc)
        M = erase_and_write(M, ww, erase, wvec)
        prev_prec = prec
        L = update_link(L, prev_prec, ww)
        prec = update_precedence(prev_prec, ww)
        # read
        rc = cosine_weights(M, rkeys, rstr, kind)
        fw = directional(L, rw, True)
        bw = directional(L, rw, False)
        rw = (modes[:, :, 2 * H:2 * H + 1] * rc + (modes[:, :, H:2 * H, None] * fw).sum(2)
              + (modes[:, :, :H, None] * bw).sum(2))
        reads = rw @ M
        y = c(torch.cat([out, reads.reshape(B, R * W)], 1) @ p["output.weight"].t() + p["output.bias"])
        ys.append(y)
        for k, v in [("usage", usage), ("write_weights", ww), ("read_weights", rw), ("read_words", reads),
                     ("memory", M), ("link", L), ("precedence", prec)]:
            trace[k].append(v)
    return torch.stack(ys, 1), {k: torch.stack(v, 1) for k, v in trace.items()}
