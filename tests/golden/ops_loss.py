"""PyTorch twins of ops/loss (see tests/ops/registry_loss.cpp for the inputs and params)."""
import torch
import torch.nn.functional as F


def cross_entropy(x, p):
    logits, targets = x[0], x[1].long().clone()
    ii = p.get("ignore_index", -100)
    flat = targets.reshape(-1)
    for pos in p.get("ignore_at", []):
        flat[pos] = ii
    C = logits.shape[-1]
    lg, tg = logits.reshape(-1, C), flat
    if bool((tg == ii).all()):
        # sdnc's documented deviation: all targets ignored → 0 with a zero gradient (torch: NaN).
        return [(lg * 0).sum()]
    return [F.cross_entropy(lg, tg, ignore_index=ii, reduction="mean")]


def sigmoid_bce_with_logits(x, p):
    logits, targets = x[0], x[1]
    l = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if len(x) > 2:
        m = x[2]
        l = l * m.reshape(tuple(m.shape) + (1,) * (logits.dim() - m.dim()))
    s = l.sum()
    return [s / logits.numel() if p.get("reduction", "mean") == "mean" else s]


OPS = {"cross_entropy": cross_entropy, "sigmoid_bce_with_logits": sigmoid_bce_with_logits}
