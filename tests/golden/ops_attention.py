"""PyTorch twin of ops/attention (torch 1.13 has no scaled_dot_product_attention)."""
import math

import torch


def attention(x, p):
    q, k, v = x[0], x[1], x[2]
    T, S = q.shape[2], k.shape[2]
    scale = p.get("scale", 0.0) or 1.0 / math.sqrt(q.shape[-1])
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    hidden = torch.zeros(q.shape[0], 1, T, S, dtype=torch.bool)
    if p.get("causal", False):
        t = torch.arange(T).unsqueeze(1)
        j = torch.arange(S).unsqueeze(0)
        hidden = hidden | (j > t + (S - T))
    if len(x) > 3:
        hidden = hidden | (x[3] != 0).reshape(q.shape[0], 1, 1, S)
    scores = scores.masked_fill(hidden, float("-inf"))
    return [torch.matmul(torch.softmax(scores, dim=-1), v)]


OPS = {"attention": attention}
