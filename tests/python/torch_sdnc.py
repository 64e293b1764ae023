"""The oracle for sdnc's Transformer preset (model_type "sdnc", models/sequence_sdnc.h) in plain
PyTorch: a Linear input map, sinusoidal positions, pre-LN torch.nn.TransformerEncoderLayers with
a causal mask, a final LayerNorm and a Linear read-out. Its state_dict names are the preset's
(input.*, layers.{l}.self_attn.*, linear1/2, norm1/2, norm.*, output.*), so the weights move
unchanged from one to the other."""
import math

import torch
import torch.nn.functional as F


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def sinusoidal(T, D):
    pe = torch.zeros(T, D)
    t = torch.arange(T, dtype=torch.float64)[:, None]
    div = torch.exp(torch.arange(0, D, 2, dtype=torch.float64) * (-math.log(10000.0) / D))
    pe[:, 0::2] = torch.sin(t * div).float()
    pe[:, 1::2] = torch.cos(t * div).float()
    return pe


class TorchSdnc(torch.nn.Module):
    def __init__(self, input_size, output_size, d_model, nhead, num_layers, dim_feedforward):
        super().__init__()
        self.input = torch.nn.Linear(input_size, d_model)
        self.layers = torch.nn.ModuleList([
            torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, activation=gelu_tanh,
                                             batch_first=True, norm_first=True)
            for _ in range(num_layers)])
        self.norm = torch.nn.LayerNorm(d_model)
        self.output = torch.nn.Linear(d_model, output_size)

    def forward(self, x):  # [B, T, X] → [B, T, Y]
        T = x.shape[1]
        h = self.input(x) + sinusoidal(T, self.input.out_features)
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        for layer in self.layers:
            h = layer(h, src_mask=mask)
        return self.output(self.norm(h))
