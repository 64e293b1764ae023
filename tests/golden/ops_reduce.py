"""PyTorch twins of ops/reduce."""
import torch

OPS = {
    "sum": lambda x, p: [torch.sum(x[0], dim=p["axis"], keepdim=p.get("keepdim", False))],
    "mean": lambda x, p: [torch.mean(x[0], dim=p["axis"], keepdim=p.get("keepdim", False))],
    # values of torch.max(dim); its gradient goes to the returned (first maximal) index
    "max": lambda x, p: [torch.max(x[0], dim=p["axis"], keepdim=p.get("keepdim", False)).values],
    "sum_all": lambda x, p: [torch.sum(x[0])],
    "mean_all": lambda x, p: [torch.mean(x[0])],
}
