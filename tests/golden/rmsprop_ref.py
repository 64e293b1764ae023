"""The oracle for sdnc::train::RmsProp (tests/unit/test_rmsprop.cpp).

  torch : torch.optim.RMSprop(alpha=DECAY, eps=EPS, momentum=MOMENTUM, centered=False)
  tf1   : TensorFlow 1's RMSPropOptimizer update, written in numpy from its documentation
          (tf.compat.v1.train.RMSPropOptimizer; ApplyRMSProp kernel):
            ms  <- rho * ms + (1 - rho) * g^2          (ms starts at ones)
            mom <- momentum * mom + lr * g / sqrt(ms + eps)
            var <- var - mom
          computed in float64 and rounded per step when DTYPE is float32 (TF computes in the
          variable's dtype; the tolerance covers the difference).
Writes p{i}.init, p{i}.grad{k} (absent: no gradient that step), p{i}.after{k}, p{i}.square_avg,
p{i}.momentum, as adamw_ref.py does.

  python3 rmsprop_ref.py OUT.safetensors DTYPE VARIANT(torch|tf1) LR DECAY EPS MOMENTUM
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402

STEPS = 5
SHAPES = [(3, 4), (5,), (2, 2, 3), (300, 129)]


def main():
    out, dtype_name, variant = sys.argv[1], sys.argv[2], sys.argv[3]
    lr, decay, eps, momentum = (float(a) for a in sys.argv[4:8])
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    g = torch.Generator().manual_seed(4321)
    params = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype).requires_grad_() for s in SHAPES]
    tensors = {f"p{i}.init": p.detach().numpy().copy() for i, p in enumerate(params)}
    grads = []
    for k in range(STEPS):
        step = []
        for i, p in enumerate(params):
            if i == 1 and k % 2 == 1:
                step.append(None)
                continue
            grad = (torch.randn(p.shape, generator=g, dtype=torch.float64) * (10.0 ** (k - 2))).to(dtype)
            step.append(grad)
            tensors[f"p{i}.grad{k}"] = grad.numpy().copy()
        grads.append(step)

    if variant == "torch":
        opt = torch.optim.RMSprop(params, lr=lr, alpha=decay, eps=eps, momentum=momentum, foreach=False)
        for k in range(STEPS):
            for p, grad in zip(params, grads[k]):
                p.grad = grad
            opt.step()
            for i, p in enumerate(params):
                tensors[f"p{i}.after{k}"] = p.detach().numpy().copy()
        for i, p in enumerate(params):
            st = opt.state[p]
            tensors[f"p{i}.square_avg"] = st["square_avg"].numpy().copy()
            buf = st.get("momentum_buffer")
            tensors[f"p{i}.momentum"] = (buf if buf is not None else torch.zeros_like(p)).detach().numpy().copy()
    else:
        np_dtype = np.float32 if dtype == torch.float32 else np.float64
        var = [p.detach().numpy().astype(np.float64) for p in params]
        ms = [np.ones_like(v) for v in var]
        mom = [np.zeros_like(v) for v in var]
        for k in range(STEPS):
            for i, grad in enumerate(grads[k]):
                if grad is None:
                    continue
                gk = grad.numpy().astype(np.float64)
                ms[i] = (decay * ms[i] + (1 - decay) * gk * gk).astype(np_dtype).astype(np.float64)
                mom[i] = (momentum * mom[i] + lr * gk / np.sqrt(ms[i] + eps)).astype(np_dtype).astype(np.float64)
                var[i] = (var[i] - mom[i]).astype(np_dtype).astype(np.float64)
            for i in range(len(var)):
                tensors[f"p{i}.after{k}"] = var[i].astype(np_dtype)
        for i in range(len(var)):
            tensors[f"p{i}.square_avg"] = ms[i].astype(np_dtype)
            tensors[f"p{i}.momentum"] = mom[i].astype(np_dtype)
    safetensors_np.save(out, tensors, metadata={"torch": torch.__version__, "steps": STEPS, "params": len(params)})


if __name__ == "__main__":
    main()
