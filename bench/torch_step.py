"""PyTorch eager reference for `just bench`: the same training step as mi_core's, timed on request.

Run as a worker by benches/train_step.rs: it reads lines `CRITIC BOUND B REPS` on stdin
(critic: separable | concat, bound: infonce | nwj) and answers each with one JSON line
`{"times": [seconds per step, ...]}`; a line `matmul M K N` is answered with the
median GFLOP/s of an [M, K] @ [K, N] f32 product (the ceiling). The model, loss and
optimiser mirror mi_core's:

* MLPs with Glorot-uniform kernels and zero biases, ReLU; separable critic g, h: d -> 256 -> 256 -> 32,
  scores = h(y) g(x)^T (rows are y); concat critic F: 2d -> 256 -> 256 -> 1 on every pair, its first
  layer computed as W_x x_j + W_y y_i + b (as mi_core does), never the B^2 x 2d concatenation;
* InfoNCE = log B + mean_i(S_ii - logsumexp_j S_ij); NWJ = mean(diag S) - exp(LME_offdiag(S) - 1);
* Adam (lr 5e-4, eps 1e-7), loss = -bound, a fresh correlated-Gaussian batch (d = 20, I = 4 nats)
  drawn every step, the bound's value read back as a Python float (as mi_core logs it).
"""

import json
import math
import sys
import time

import torch

D = 20
MI = 4.0
RHO = math.sqrt(1.0 - math.exp(-2.0 * MI / D))


def mlp(inp, hidden, layers, out):
    mods, w = [], inp
    for _ in range(layers):
        mods += [torch.nn.Linear(w, hidden), torch.nn.ReLU()]
        w = hidden
    mods.append(torch.nn.Linear(w, out))
    net = torch.nn.Sequential(*mods)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return net


class Separable(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.g = mlp(D, 256, 2, 32)
        self.h = mlp(D, 256, 2, 32)

    def forward(self, x, y):
        return self.h(y) @ self.g(x).T


class Concat(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.f = mlp(2 * D, 256, 2, 1)

    def forward(self, x, y):
        first = self.f[0]
        wx, wy = first.weight[:, :D], first.weight[:, D:]
        ax = x @ wx.T                      # [B, H]
        ay = y @ wy.T + first.bias         # [B, H]
        h = torch.relu(ay[:, None, :] + ax[None, :, :])  # [B(y), B(x), H]
        b = x.shape[0]
        out = h.reshape(b * b, -1)
        for m in list(self.f)[2:]:
            out = m(out)
        return out.reshape(b, b)


def infonce(s):
    b = s.shape[0]
    return math.log(b) + (torch.diagonal(s) - torch.logsumexp(s, dim=1)).mean()


def nwj(s):
    b = s.shape[0]
    off = s.masked_fill(torch.eye(b, dtype=torch.bool), float("-inf"))
    lme = torch.logsumexp(off.reshape(-1), dim=0) - math.log(b * (b - 1))
    return torch.diagonal(s).mean() - torch.exp(lme - 1.0)


class Case:
    def __init__(self, critic, bound, b):
        torch.manual_seed(0)
        self.model = Separable() if critic == "separable" else Concat()
        self.bound = infonce if bound == "infonce" else nwj
        self.b = b
        self.opt = torch.optim.Adam(self.model.parameters(), lr=5e-4, eps=1e-7)

    def step(self):
        x = torch.randn(self.b, D)
        y = RHO * x + math.sqrt(1.0 - RHO * RHO) * torch.randn(self.b, D)
        value = self.bound(self.model(x, y))
        logged = float(value.detach())
        self.opt.zero_grad(set_to_none=True)
        (-value).backward()
        self.opt.step()
        return logged


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    cases = {}
    print(json.dumps({"ready": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        if parts[0] == "matmul":
            m, k, n = (int(v) for v in parts[1:4])
            a, w = torch.randn(m, k), torch.randn(k, n)
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                a @ w
                times.append(time.perf_counter() - t0)
            times.sort()
            print(json.dumps({"gflops": 2.0 * m * k * n / times[len(times) // 2] / 1e9}), flush=True)
            continue
        critic, bound, b, reps = parts[0], parts[1], int(parts[2]), int(parts[3])
        key = (critic, bound, b)
        if key not in cases:
            cases[key] = Case(critic, bound, b)
            for _ in range(3):
                cases[key].step()
        case = cases[key]
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            case.step()
            times.append(time.perf_counter() - t0)
        print(json.dumps({"times": times}), flush=True)


if __name__ == "__main__":
    main()
