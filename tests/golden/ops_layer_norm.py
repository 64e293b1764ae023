"""PyTorch twins of ops/layer_norm (see tests/ops/registry_layer_norm.cpp for the inputs)."""
import torch.nn.functional as F


def layer_norm(x, p):
    affine = p.get("affine", {3: "both", 1: "none"}.get(len(x), "weight"))
    w = x[1] if affine in ("both", "weight") else None
    b = x[2] if affine == "both" else (x[1] if affine == "bias" else None)
    return [F.layer_norm(x[0], x[0].shape[-1:], w, b, p.get("eps", 1e-5))]


OPS = {"layer_norm": layer_norm}
