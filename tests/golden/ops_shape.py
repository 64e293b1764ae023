"""PyTorch twins of ops/shape."""
import torch
import torch.nn.functional as F


def _slice(x, p):
    t = x[0]
    index = [slice(None)] * t.dim()
    index[p["axis"]] = slice(p["start"], p["end"])  # Python slicing: negatives and clamping
    return [t[tuple(index)]]


OPS = {
    "reshape": lambda x, p: [x[0].reshape(p["shape"])],
    "transpose": lambda x, p: [x[0].transpose(p["d0"], p["d1"])],
    "permute": lambda x, p: [x[0].permute(p["dims"])],
    "slice": _slice,
    "concat": lambda x, p: [torch.cat(x, dim=p["axis"])],
    "split": lambda x, p: list(torch.split(x[0], p["sizes"], dim=p["axis"])),
    "index_select": lambda x, p: [torch.index_select(x[0], p["axis"], x[1])],
    "gather": lambda x, p: [torch.gather(x[0], p["axis"], x[1])],
    "embedding": lambda x, p: [F.embedding(x[1], x[0])],
}
