"""PyTorch twin of ops/lstm_cell: the manual formula with forget_bias, checked against
torch.lstm_cell (= nn.LSTMCell with bias_ih = bias, bias_hh = 0) when forget_bias is 0."""
import torch


def lstm_cell(x, p):
    inp, h, c, w_ih, w_hh = x[:5]
    bias = x[5] if len(x) > 5 else None
    fb = p.get("forget_bias", 0.0)
    gates = inp @ w_ih.t() + h @ w_hh.t()
    if bias is not None:
        gates = gates + bias
    i, f, g, o = gates.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f + fb), torch.tanh(g), torch.sigmoid(o)
    c_next = f * c + i * g
    h_next = o * torch.tanh(c_next)
    if fb == 0.0:
        with torch.no_grad():
            b_hh = None if bias is None else torch.zeros_like(bias)
            h_ref, c_ref = torch.lstm_cell(inp, (h, c), w_ih, w_hh, bias, b_hh)
            assert torch.allclose(h_next, h_ref, rtol=1e-12, atol=1e-12), "manual LSTM != torch.lstm_cell (h)"
            assert torch.allclose(c_next, c_ref, rtol=1e-12, atol=1e-12), "manual LSTM != torch.lstm_cell (c)"
    return [h_next, c_next]


OPS = {"lstm_cell": lstm_cell}
