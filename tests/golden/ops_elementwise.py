"""PyTorch twins of ops/elementwise and ops/matmul."""
import torch
import torch.nn.functional as F

OPS = {
    "add": lambda x, p: [x[0] + x[1]],
    "sub": lambda x, p: [x[0] - x[1]],
    "mul": lambda x, p: [x[0] * x[1]],
    "div": lambda x, p: [x[0] / x[1]],
    "add_scalar": lambda x, p: [x[0] + p["s"]],
    "mul_scalar": lambda x, p: [x[0] * p["s"]],
    "matmul": lambda x, p: [torch.matmul(x[0], x[1])],
    "bmm": lambda x, p: [torch.bmm(x[0], x[1])],
    "linear": lambda x, p: [F.linear(x[0], x[1], x[2] if len(x) > 2 else None)],
}
