"""PyTorch twins of ops/unary."""
import torch
import torch.nn.functional as F


def _gelu(x, p):
    return [F.gelu(x[0], approximate=p.get("approximate", "none"))]


OPS = {
    "neg": lambda x, p: [torch.neg(x[0])],
    "exp": lambda x, p: [torch.exp(x[0])],
    "log": lambda x, p: [torch.log(x[0])],
    "sqrt": lambda x, p: [torch.sqrt(x[0])],
    "tanh": lambda x, p: [torch.tanh(x[0])],
    "sigmoid": lambda x, p: [torch.sigmoid(x[0])],
    # sdnc's softplus is exact everywhere (max(x,0) + log1p(e^-|x|)); F.softplus's default
    # threshold 20 replaces it by x above 20 (off by up to 2e-9). In float64,
    # log1p(exp(x)) is exact up to 40, and above 37 softplus(x) == x to the last bit, so
    # threshold 40 makes the twin exact as well.
    "softplus": lambda x, p: [F.softplus(x[0], beta=1, threshold=40)],
    "relu": lambda x, p: [torch.relu(x[0])],
    "gelu": _gelu,
    "clamp": lambda x, p: [torch.clamp(x[0], min=p["lo"], max=p["hi"])],
}
