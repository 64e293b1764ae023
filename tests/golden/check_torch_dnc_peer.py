#!/usr/bin/python3
"""Checks the benchmark peer bench/torch_dnc.py against the golden DNC cases (gen_dnc.py, written
from DNC.md and compared with sdnc by the dnc_golden test): loads each LSTM / softplus / clip-20
case's checkpoint into the peer's layout (one interface Linear = the ten access
linears concatenated; LSTMCell bias_ih = controller.bias with the forget bias 1.0 folded into
it) and compares its logits with the golden ones, in float64. Prints the max difference.

  /usr/bin/python3 tests/golden/check_torch_dnc_peer.py build/release/golden_dnc
"""
import json
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "bench"))
import safetensors_np  # noqa: E402
import torch_dnc  # noqa: E402

ACCESS = ["write_vectors", "erase_vectors", "free_gate", "allocation_gate", "write_gate", "read_mode", "write_keys",
          "write_strengths", "read_keys", "read_strengths"]


def check(case_dir):
    cfg = json.load(open(os.path.join(case_dir, "config.json")))
    if cfg["controller"] != "lstm" or cfg["strength"] != "softplus" or cfg["clip_value"] != 20.0:
        return None
    w = {k: torch.from_numpy(np.array(v)).double() for k, v in safetensors_np.load(os.path.join(case_dir, "model.safetensors"))[0].items()}
    io = {k: torch.from_numpy(np.array(v)).double() for k, v in safetensors_np.load(os.path.join(case_dir, "io.safetensors"))[0].items()}
    h = cfg["hidden_size"]
    torch.set_default_dtype(torch.float64)
    m = torch_dnc.DNC(cfg["input_size"], cfg["output_size"], h, cfg["memory_size"], cfg["word_size"],
                      cfg["num_read_heads"], cfg["num_write_heads"])
    with torch.no_grad():
        m.lstm.weight_ih.copy_(w["controller.weight_ih"])
        m.lstm.weight_hh.copy_(w["controller.weight_hh"])
        bias = w["controller.bias"].clone()
        bias[h:2 * h] += 1.0
        m.lstm.bias_ih.copy_(bias)
        m.lstm.bias_hh.zero_()
        m.interface.weight.copy_(torch.cat([w[f"access.{n}.weight"] for n in ACCESS], 0))
        m.interface.bias.copy_(torch.cat([w[f"access.{n}.bias"] for n in ACCESS], 0))
        m.output.weight.copy_(w["output.weight"])
        m.output.bias.copy_(w["output.bias"])
        y = m(io["input.inputs"])
    torch.set_default_dtype(torch.float32)
    return float((y - io["output"]).abs().max())


def main():
    root = sys.argv[1]
    worst, seen = 0.0, []
    for name in sorted(os.listdir(root)):
        d = check(os.path.join(root, name))
        if d is not None:
            print(f"[torch_dnc peer] {name}: max |logits - golden| = {d:.2e}")
            worst = max(worst, d)
            seen.append(name)
    sys.exit(0 if 0 < len(seen) and worst < 1e-9 else 1)


if __name__ == "__main__":
    main()
