"""PyTorch twins of ops/cumprod (cumprod inclusive/exclusive, prod)."""
import torch


def cumprod(x, p):
    axis = p["axis"]
    y = torch.cumprod(x[0], axis)
    if p.get("exclusive", False):
        n = x[0].shape[axis]
        ones = torch.ones_like(x[0].narrow(axis, 0, 1))
        y = torch.cat([ones, y.narrow(axis, 0, n - 1)], dim=axis)
    return [y]


OPS = {
    "cumprod": cumprod,
    "prod": lambda x, p: [torch.prod(x[0], p["axis"], keepdim=p.get("keepdim", False))],
}
