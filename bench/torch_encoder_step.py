"""PyTorch eager reference for `just bench`: the dSprites encoder's InfoMax training step.

Run as a worker by benches/encoder_step.rs: it reads lines `B REPS` on stdin and answers each
with one JSON line `{"times": [seconds per step, ...]}`. The step mirrors
mi_core::infomax::InfoMax::terms + backward + Adam + the dual-ascent update:

* encoder (NCHW): conv 32@4x4 s2 p1, 32@4x4 s2 p1, 64@2x2 s2 p0, 64@2x2 s2 p0, ReLU each,
  flatten 1024, dense 256 ReLU, linear heads mean and log-variance (K = 10); q: 10 -> 256 -> 256
  -> 1 ReLU; Glorot-uniform kernels, zero biases; f32 networks;
* a fresh batch every step: binary images x [B, 1, 64, 64], latent noise [B, 10], pixel noise
  [B, 1, 64, 64] (scaled by 0.5); x and x + noise encoded as one batch of 2B;
* from the posterior on, float64 (as mi_core): y = mu + sigma * eps, per-latent
  Lp[k, i, j] = log N(y_ik; mu_jk, var_jk), S = sum_k Lp - log q(y_i);
  I_JS = NWJ(S + 1) with the JS f-GAN gradient (straight-through), MBU_k = leave-one-out upper
  bound of Lp[k], TC_ub = sum_k MBU_k - I_JS, R = mean_b KL(p(y|x_b) || p(y|x_b + noise));
  loss = -I_JS + l_tc (TC_ub - delta) + l_s (R - gamma);
* every term read back as a Python float (as mi_core logs them), Adam (lr 1e-4, eps 1e-7),
  then the multipliers' dual-ascent step.
"""

import json
import math
import sys
import time

import torch

K = 10
LOG_2PI = math.log(2.0 * math.pi)
DELTA, GAMMA, NOISE_STD, ETA = 0.1, 1.0, 0.5, 0.01


def glorot(module):
    for m in module.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.ModuleList(
            [
                torch.nn.Conv2d(1, 32, 4, 2, 1),
                torch.nn.Conv2d(32, 32, 4, 2, 1),
                torch.nn.Conv2d(32, 64, 2, 2, 0),
                torch.nn.Conv2d(64, 64, 2, 2, 0),
            ]
        )
        self.dense = torch.nn.Linear(1024, 256)
        self.mean = torch.nn.Linear(256, K)
        self.logvar = torch.nn.Linear(256, K)

    def forward(self, x):
        h = x
        for c in self.conv:
            h = torch.relu(c(h))
        h = torch.relu(self.dense(h.flatten(1)))
        return self.mean(h), self.logvar(h)


def off_diag_mask(b):
    return torch.eye(b, dtype=torch.bool)


def softplus(t):
    return torch.nn.functional.softplus(t)


class Step:
    def __init__(self, b):
        torch.manual_seed(0)
        self.b = b
        self.encoder = Encoder()
        self.q = torch.nn.Sequential(
            torch.nn.Linear(K, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 1),
        )
        glorot(self.encoder)
        glorot(self.q)
        params = list(self.encoder.parameters()) + list(self.q.parameters())
        self.opt = torch.optim.Adam(params, lr=1e-4, eps=1e-7)
        self.lam_tc, self.lam_s = 1.0, 1.0
        self.eye = off_diag_mask(b)

    def step(self):
        b = self.b
        x = (torch.rand(b, 1, 64, 64) < 0.1).float()
        eps = torch.randn(b, K)
        noise = torch.randn(b, 1, 64, 64)
        mean, logvar = self.encoder(torch.cat([x, x + NOISE_STD * noise], 0))
        mean, logvar = mean.double(), logvar.double()
        m1, m2, lv1, lv2 = mean[:b], mean[b:], logvar[:b], logvar[b:]
        var1 = lv1.exp()
        y = m1 + (0.5 * lv1).exp() * eps.double()
        # per[k, i, j] = log N(y_ik; mu_jk, var_jk)
        d = y.T[:, :, None] - m1.T[:, None, :]
        per = -0.5 * (d * d / var1.T[:, None, :] + lv1.T[:, None, :] + LOG_2PI)
        lp = per.sum(0)
        log_q = self.q(y.float()).squeeze(-1).double()
        s = lp - log_q[:, None]
        # I_JS: value NWJ(S + 1), gradient of JSD_fgan(S).
        off = s.masked_fill(self.eye, float("-inf"))
        lme = torch.logsumexp(off.reshape(-1), 0) - math.log(b * (b - 1))
        nwj = torch.diagonal(s).mean() + 1.0 - torch.exp(lme)
        offsp = softplus(s).masked_fill(self.eye, 0.0).sum() / (b * (b - 1))
        jsd = -softplus(-torch.diagonal(s)).mean() - offsp
        i_js = nwj.detach() + jsd - jsd.detach()
        # MBU_k: mean_i (Lp[k,i,i] - logmeanexp_{j != i} Lp[k,i,j]).
        per_off = per.masked_fill(self.eye[None], float("-inf"))
        loo = torch.logsumexp(per_off, 2) - math.log(b - 1)
        mbu = (torch.diagonal(per, dim1=1, dim2=2) - loo).mean(1)
        tc_ub = mbu.sum() - i_js
        kl = 0.5 * ((lv2 - lv1) + (var1 + (m1 - m2) ** 2) / lv2.exp() - 1.0)
        kl = kl.sum(1).mean()
        loss = -i_js + self.lam_tc * (tc_ub - DELTA) + self.lam_s * (kl - GAMMA)
        logged = [float(v) for v in (i_js.detach(), jsd.detach(), tc_ub.detach(), kl.detach())]
        logged += mbu.detach().tolist()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.lam_tc = max(0.0, self.lam_tc + ETA * (logged[2] - DELTA))
        self.lam_s = max(0.0, self.lam_s + ETA * (logged[3] - GAMMA))
        return logged


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    steps = {}
    print(json.dumps({"ready": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        b, reps = int(parts[0]), int(parts[1])
        if b not in steps:
            steps[b] = Step(b)
            for _ in range(2):
                steps[b].step()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            steps[b].step()
            times.append(time.perf_counter() - t0)
        print(json.dumps({"times": times}), flush=True)


if __name__ == "__main__":
    main()
