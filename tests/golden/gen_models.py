#!/usr/bin/python3
"""PyTorch oracle for the sDNC models: writes one folder per case under --out with
  config.json        the model or layer configuration (sdnc's keys; HF keys for GPT-2)
  model.safetensors  the weights, float32, named as the PyTorch module names them
  io.safetensors     inputs, the reference output (float64 computed from the float32
                     weights), a random cotangent R, and d<output, R>/d(every parameter)
                     as "grad.<name>" and d/d(float inputs) as "grad.input.<name>"
Cases cover nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer,
nn.Transformer (inside an embedding + generator wrapper), a bidirectional encoder model and
a GPT-2 forward written in plain PyTorch from the GPT-2 definition.

Run: /usr/bin/python3 tests/golden/gen_models.py --out DIR
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_np  # noqa: E402


def write_case(out, name, config, module_params, inputs, output, float_inputs):
    """module_params: {name: parameter (float64, requires grad)}; inputs: {name: tensor}."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    safetensors_np.save(os.path.join(d, "model.safetensors"),
                        {k: v.detach().float().numpy() for k, v in module_params.items()}, {"format": "pt"})
    g = torch.Generator().manual_seed(len(name) * 7919 + 17)
    r = torch.randn(output.shape, generator=g, dtype=torch.float64)
    wrt = list(module_params.values()) + [inputs[k] for k in float_inputs]
    grads = torch.autograd.grad(output, wrt, r, allow_unused=True)
    io = {}
    for k, v in inputs.items():
        io["input." + k] = v.detach().numpy()
    io["output"] = output.detach().numpy()
    io["cotangent"] = r.numpy()
    names = ["grad." + k for k in module_params] + ["grad.input." + k for k in float_inputs]
    for n, gr, w in zip(names, grads, wrt):
        io[n] = (torch.zeros_like(w) if gr is None else gr).detach().numpy()
    safetensors_np.save(os.path.join(d, "io.safetensors"), io)


def as_f64_from_f32(module):
    """Rounds every parameter to float32, then computes in float64."""
    for p in module.parameters():
        p.data = p.data.float().double()
    return module.double()


def randn(*shape, g):
    return torch.randn(*shape, generator=g, dtype=torch.float64).float().double()


def params(module, prefix=""):
    return {prefix + k: v for k, v in module.named_parameters()}


# ---- layers ------------------------------------------------------------------------------

def mha_cases(out):
    for name, causal, pad in [("mha_self", False, False), ("mha_self_padding", False, True),
                              ("mha_self_causal", True, False)]:
        torch.manual_seed(1)
        D, H, B, T = 16, 4, 2, 5
        m = as_f64_from_f32(nn.MultiheadAttention(D, H, batch_first=True))
        with torch.no_grad():  # non-zero biases, so their gradients are exercised
            m.in_proj_bias.uniform_(-0.5, 0.5)
            m.out_proj.bias.uniform_(-0.5, 0.5)
        as_f64_from_f32(m)
        g = torch.Generator().manual_seed(2)
        x = randn(B, T, D, g=g).requires_grad_()
        padding = torch.zeros(B, T, dtype=torch.int64)
        if pad:
            padding[0, 3:] = 1
            padding[1, 1] = 1
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None
        y, _ = m(x, x, x, key_padding_mask=padding.bool() if pad else None, attn_mask=mask, need_weights=False)
        write_case(out, name, {"kind": "mha", "d_model": D, "nhead": H, "causal": causal},
                   params(m), {"x": x, "padding": padding}, y, ["x"])


def encoder_layer_cases(out):
    for norm_first in (False, True):
        for act in ("relu", "gelu"):
            name = f"encoder_layer_{'pre' if norm_first else 'post'}_{act}"
            torch.manual_seed(3)
            D, H, Fd, B, T = 16, 4, 32, 3, 6
            m = as_f64_from_f32(nn.TransformerEncoderLayer(D, H, Fd, dropout=0.0, activation=act,
                                                           batch_first=True, norm_first=norm_first))
            m.eval()
            with torch.no_grad():
                for n, p in m.named_parameters():
                    if "norm" in n:
                        p.uniform_(0.5, 1.5) if n.endswith("weight") else p.uniform_(-0.5, 0.5)
                    elif n.endswith("bias"):
                        p.uniform_(-0.3, 0.3)
            as_f64_from_f32(m)
            g = torch.Generator().manual_seed(4)
            x = randn(B, T, D, g=g).requires_grad_()
            padding = torch.zeros(B, T, dtype=torch.int64)
            padding[1, 4:] = 1
            padding[2, 0] = 1
            # The fast path of nn.TransformerEncoderLayer is for inference only; with
            # requires_grad it takes the plain path, which is the reference we want.
            y = m(x, src_key_padding_mask=padding.bool())
            cfg = {"kind": "encoder_layer", "d_model": D, "nhead": H, "dim_feedforward": Fd, "activation": act,
                   "norm_first": norm_first, "layer_norm_eps": 1e-5}
            write_case(out, name, cfg, params(m), {"x": x, "padding": padding}, y, ["x"])


def decoder_layer_cases(out):
    for norm_first in (False, True):
        name = f"decoder_layer_{'pre' if norm_first else 'post'}"
        torch.manual_seed(5)
        D, H, Fd, B, T, S = 16, 4, 24, 2, 5, 7
        m = as_f64_from_f32(nn.TransformerDecoderLayer(D, H, Fd, dropout=0.0, activation="gelu",
                                                       batch_first=True, norm_first=norm_first))
        m.eval()
        with torch.no_grad():
            for n, p in m.named_parameters():
                if n.endswith("bias"):
                    p.uniform_(-0.3, 0.3)
        as_f64_from_f32(m)
        g = torch.Generator().manual_seed(6)
        x = randn(B, T, D, g=g).requires_grad_()
        mem = randn(B, S, D, g=g).requires_grad_()
        tgt_pad = torch.zeros(B, T, dtype=torch.int64)
        tgt_pad[1, 3:] = 1
        src_pad = torch.zeros(B, S, dtype=torch.int64)
        src_pad[0, 5:] = 1
        causal = torch.triu(torch.full((T, T), float("-inf"), dtype=torch.float64), 1)
        y = m(x, mem, tgt_mask=causal, tgt_key_padding_mask=tgt_pad.bool(), memory_key_padding_mask=src_pad.bool())
        cfg = {"kind": "decoder_layer", "d_model": D, "nhead": H, "dim_feedforward": Fd, "activation": "gelu",
               "norm_first": norm_first, "layer_norm_eps": 1e-5}
        write_case(out, name, cfg, params(m),
                   {"x": x, "source": mem, "padding": tgt_pad, "source_padding": src_pad}, y, ["x", "source"])


# ---- models ------------------------------------------------------------------------------

class EncoderDecoder(nn.Module):
    """sdnc's encoder_decoder model in PyTorch: embeddings (·sqrt(D)) + learned positions,
    nn.Transformer, generator."""

    def __init__(self, cfg):
        super().__init__()
        D, V, P = cfg["d_model"], cfg["vocab_size"], cfg["max_positions"]
        self.src_embed = nn.Embedding(V, D)
        self.tgt_embed = nn.Embedding(V, D)
        self.pos_embed = nn.Embedding(P, D)
        self.transformer = nn.Transformer(D, cfg["nhead"], cfg["num_encoder_layers"], cfg["num_decoder_layers"],
                                          cfg["dim_feedforward"], dropout=0.0, activation=cfg["activation"],
                                          batch_first=True, norm_first=cfg["norm_first"])
        self.generator = nn.Linear(D, V)
        self.cfg = cfg

    def forward(self, src, tgt):
        D, pad = self.cfg["d_model"], self.cfg.get("pad_token_id", -1)
        pos = lambda n: self.pos_embed(torch.arange(n))
        s = self.src_embed(src) * math.sqrt(D) + pos(src.shape[1])
        t = self.tgt_embed(tgt) * math.sqrt(D) + pos(tgt.shape[1])
        sp, tp = (src == pad), (tgt == pad)
        mask = self.transformer.generate_square_subsequent_mask(tgt.shape[1]).double()
        y = self.transformer(s, t, tgt_mask=mask, src_key_padding_mask=sp, tgt_key_padding_mask=tp,
                             memory_key_padding_mask=sp)
        return self.generator(y)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, V, P = cfg["d_model"], cfg["vocab_size"], cfg["max_positions"]
        self.embed = nn.Embedding(V, D)
        self.pos_embed = nn.Embedding(P, D)
        layer = nn.TransformerEncoderLayer(D, cfg["nhead"], cfg["dim_feedforward"], dropout=0.0,
                                           activation=cfg["activation"], batch_first=True,
                                           norm_first=cfg["norm_first"])
        self.encoder = nn.TransformerEncoder(layer, cfg["num_encoder_layers"], norm=nn.LayerNorm(D),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(D, V)
        self.cfg = cfg

    def forward(self, tokens):
        D, pad = self.cfg["d_model"], self.cfg.get("pad_token_id", -1)
        x = self.embed(tokens) * math.sqrt(D) + self.pos_embed(torch.arange(tokens.shape[1]))
        return self.head(self.encoder(x, src_key_padding_mask=(tokens == pad)))


def model_cases(out):
    for norm_first in (False, True):
        name = f"encoder_decoder_{'pre' if norm_first else 'post'}"
        cfg = {"model_type": "encoder_decoder", "d_model": 16, "nhead": 4, "num_encoder_layers": 2,
               "num_decoder_layers": 2, "dim_feedforward": 32, "activation": "relu", "norm_first": norm_first,
               "layer_norm_eps": 1e-5, "vocab_size": 11, "max_positions": 16, "pad_token_id": 0}
        torch.manual_seed(7)
        m = as_f64_from_f32(EncoderDecoder(cfg)).eval()
        g = torch.Generator().manual_seed(8)
        src = torch.randint(1, 11, (2, 6), generator=g)
        tgt = torch.randint(1, 11, (2, 5), generator=g)
        src[1, 4:] = 0  # padding at the end of the second source
        tgt[0, 4] = 0
        write_case(out, name, cfg, params(m), {"src": src, "tgt": tgt}, m(src, tgt), [])
    cfg = {"model_type": "encoder", "d_model": 16, "nhead": 2, "num_encoder_layers": 2, "dim_feedforward": 24,
           "activation": "gelu", "norm_first": True, "layer_norm_eps": 1e-5, "vocab_size": 9, "max_positions": 12,
           "pad_token_id": 0}
    torch.manual_seed(9)
    m = as_f64_from_f32(Encoder(cfg)).eval()
    g = torch.Generator().manual_seed(10)
    tokens = torch.randint(1, 9, (3, 7), generator=g)
    tokens[2, 5:] = 0
    write_case(out, "encoder_model", cfg, params(m), {"tokens": tokens}, m(tokens), [])


# ---- GPT-2, written from its definition -------------------------------------------------

def gpt2_forward(p, tokens, cfg, prefix=""):
    D, H = cfg["n_embd"], cfg["n_head"]
    B, T = tokens.shape
    eps = cfg["layer_norm_epsilon"]
    gelu = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    ln = lambda x, n: F.layer_norm(x, (D,), p[prefix + n + ".weight"], p[prefix + n + ".bias"], eps)
    conv1d = lambda x, n: x @ p[prefix + n + ".weight"] + p[prefix + n + ".bias"]  # Conv1D: [in, out]
    x = p[prefix + "wte.weight"][tokens] + p[prefix + "wpe.weight"][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(cfg["n_layer"]):
        h = f"h.{l}."
        q, k, v = conv1d(ln(x, h + "ln_1"), h + "attn.c_attn").split(D, dim=-1)
        heads = lambda t: t.view(B, T, H, D // H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        w = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        w = torch.softmax(w.masked_fill(~causal, float("-inf")), dim=-1)
        a = (w @ v).transpose(1, 2).reshape(B, T, D)
        x = x + conv1d(a, h + "attn.c_proj")
        x = x + conv1d(gelu(conv1d(ln(x, h + "ln_2"), h + "mlp.c_fc")), h + "mlp.c_proj")
    return ln(x, "ln_f") @ p.get(prefix + "lm_head.weight", p[prefix + "wte.weight"]).T


def gpt2_cases(out):
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 37, "n_positions": 16,
           "n_ctx": 16, "n_embd": 24, "n_layer": 2, "n_head": 3, "n_inner": None,
           "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1, "embd_pdrop": 0.1,
           "attn_pdrop": 0.1, "initializer_range": 0.02, "summary_type": "cls_index", "summary_use_proj": True,
           "summary_activation": None, "summary_proj_to_labels": True, "summary_first_dropout": 0.1,
           "scale_attn_weights": True, "use_cache": True, "bos_token_id": 36, "eos_token_id": 36}
    D, V, P, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_layer"]
    g = torch.Generator().manual_seed(11)
    shapes = {"wte.weight": (V, D), "wpe.weight": (P, D)}
    for l in range(L):
        h = f"h.{l}."
        shapes.update({h + "ln_1.weight": (D,), h + "ln_1.bias": (D,), h + "attn.c_attn.weight": (D, 3 * D),
                       h + "attn.c_attn.bias": (3 * D,), h + "attn.c_proj.weight": (D, D),
                       h + "attn.c_proj.bias": (D,), h + "ln_2.weight": (D,), h + "ln_2.bias": (D,),
                       h + "mlp.c_fc.weight": (D, 4 * D), h + "mlp.c_fc.bias": (4 * D,),
                       h + "mlp.c_proj.weight": (4 * D, D), h + "mlp.c_proj.bias": (D,)})
    shapes.update({"ln_f.weight": (D,), "ln_f.bias": (D,)})
    p = {}
    for n, s in shapes.items():
        if n.endswith("weight") and "ln_" in n:
            t = 1 + 0.1 * randn(*s, g=g)
        else:
            t = (0.02 if n.endswith("weight") else 0.1) * randn(*s, g=g)
            if n in ("wte.weight", "wpe.weight"):
                t = 0.5 * randn(*s, g=g)
        p[n] = t.float().double().requires_grad_()
    tokens = torch.randint(0, V, (2, 9), generator=g)
    y = gpt2_forward(p, tokens, cfg)
    write_case(out, "gpt2", cfg, p, {"tokens": tokens}, y, [])
    # The same weights as Hugging Face also writes them: "transformer." prefix, the causal-mask
    # buffers h.{l}.attn.bias / masked_bias, and a tied lm_head.weight. sdnc must ignore those.
    d = os.path.join(out, "gpt2_hf_names")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    hf = {"transformer." + k: v.detach().float().numpy() for k, v in p.items()}
    for l in range(L):
        hf[f"transformer.h.{l}.attn.bias"] = torch.tril(torch.ones(P, P)).view(1, 1, P, P).numpy()
        hf[f"transformer.h.{l}.attn.masked_bias"] = torch.tensor(-1e4).numpy()
    hf["lm_head.weight"] = p["wte.weight"].detach().float().numpy()
    safetensors_np.save(os.path.join(d, "model.safetensors"), hf, {"format": "pt"})
    # An untied head (tie_word_embeddings false): logits from lm_head.weight [V, D], its own
    # parameter with its own gradient (Hugging Face keeps it; sdnc must not drop it).
    untied_cfg = dict(cfg, tie_word_embeddings=False)
    pu = {k: v.detach().clone().requires_grad_() for k, v in p.items()}
    pu["lm_head.weight"] = (0.3 * randn(V, D, g=g)).float().double().requires_grad_()
    write_case(out, "gpt2_untied", untied_cfg, pu, {"tokens": tokens}, gpt2_forward(pu, tokens, untied_cfg), [])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    mha_cases(args.out)
    encoder_layer_cases(args.out)
    decoder_layer_cases(args.out)
    model_cases(args.out)
    gpt2_cases(args.out)
    print(f"[gen_models] wrote model cases to {args.out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
