"""PyTorch twin of ops/dropout for its deterministic cases only (eval mode, p == 0, p == 1).
Random masks cannot match (sdnc's counter-based RNG differs from torch's): those cases are
marked "golden": false and covered by tests/unit/test_dropout.cpp."""
import torch.nn.functional as F


def dropout(x, p):
    prob, training = p["p"], p.get("training", True)
    if training and 0.0 < prob < 1.0:
        raise ValueError("dropout: a random mask has no PyTorch twin; mark the case golden: false")
    return [F.dropout(x[0], prob, training)]


OPS = {"dropout": dropout}
