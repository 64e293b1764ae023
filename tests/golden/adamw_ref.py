"""The PyTorch oracle for sdnc::train::AdamW (tests/unit/test_adamw.cpp).

Runs torch.optim.AdamW for a few steps on synthetic parameters and gradients and writes,
with safetensors_np, everything the C++ test needs to replay the same run:
  p{i}.init            initial value of parameter i
  p{i}.grad{k}         its gradient at step k (absent: no gradient at that step)
  p{i}.after{k}        its value after step k
  p{i}.exp_avg, p{i}.exp_avg_sq   the optimizer state after the last step
  p{i}.step            number of updates parameter i received (I64, 0-dim)
Hyper-parameters go in the metadata, so the test uses the same ones.

  python3 adamw_ref.py OUT.safetensors DTYPE(float32|float64) LR BETA1 BETA2 EPS WD
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402

STEPS = 5
SHAPES = [(3, 4), (5,), (2, 2, 3), (300, 129)]  # the last one spans several threads


def main():
    out, dtype_name = sys.argv[1], sys.argv[2]
    lr, beta1, beta2, eps, wd = (float(a) for a in sys.argv[3:8])
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    g = torch.Generator().manual_seed(1234)
    params = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype).requires_grad_() for s in SHAPES]
    tensors = {f"p{i}.init": p.detach().numpy().copy() for i, p in enumerate(params)}
    opt = torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd, foreach=False)
    for k in range(STEPS):
        for i, p in enumerate(params):
            if i == 1 and k % 2 == 1:  # parameter 1 has no gradient at odd steps: skipped
                p.grad = None
                continue
            # Gradients of varied magnitude and sign, some exactly zero.
            grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * (10.0 ** (k - 2))
            grad[..., 0] = 0.0 if k == 3 else grad[..., 0]
            p.grad = grad.to(dtype)
            tensors[f"p{i}.grad{k}"] = p.grad.numpy().copy()
        opt.step()
        for i, p in enumerate(params):
            tensors[f"p{i}.after{k}"] = p.detach().numpy().copy()
    for i, p in enumerate(params):
        st = opt.state[p]
        tensors[f"p{i}.exp_avg"] = st["exp_avg"].numpy().copy()
        tensors[f"p{i}.exp_avg_sq"] = st["exp_avg_sq"].numpy().copy()
        tensors[f"p{i}.step"] = np.array(int(st["step"].item()), dtype=np.int64)
    safetensors_np.save(out, tensors, metadata={"torch": torch.__version__, "steps": STEPS,
                                                "params": len(params)})


if __name__ == "__main__":
    main()
