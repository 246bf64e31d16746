"""`mi estimate` side by side with bmi's neural estimators on the same samples.

For every task of `mi tasks list` (or --tasks), each data seed writes the samples with
`mi tasks sample` (x.npy, y.npy, truth.json), runs `mi estimate` on them (defaults unless
--mi-args), then bmi 0.1.3's InfoNCE, NWJ, Donsker-Varadhan and MINE estimators on the same
arrays (bmi's defaults, --bmi-steps training steps). Prints per task: truth, ours, bmi's best
(the estimator closest to the truth), |error| of each, wall time of each, the ratios; and with
--seeds K > 1 the spread of our estimates across the K samples next to our mean reported SE.

Run it with `just bench-estimate` (which makes .venv-bmi with bench/setup_bmi.sh).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BMI_ESTIMATORS = ("infonce", "nwj", "dv", "mine")


def tolerance(truth):
    """The suite's tolerance, max(0.1 nats, 5 %) (mi_core::estimate::tolerance)."""
    return max(0.1, 0.05 * abs(truth))


def run_ours(mi, xp, yp, extra):
    cmd = [mi, "estimate", "--x", xp, "--y", yp, "--format", "json", *extra]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MI_PROGRESS": "off"})
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()[-500:]}")
    e = json.loads(out.stdout)
    return e, dt


def run_bmi(name, x, y, steps, seed):
    import bmi  # noqa: PLC0415 (imported late: JAX is slow to load)

    cls = {
        "infonce": bmi.estimators.InfoNCEEstimator,
        "nwj": bmi.estimators.NWJEstimator,
        "dv": bmi.estimators.DonskerVaradhanEstimator,
        "mine": bmi.estimators.MINEEstimator,
    }[name]
    est = cls(max_n_steps=steps, verbose=False, seed=seed)
    t0 = time.perf_counter()
    value = float(est.estimate(x, y))
    return value, time.perf_counter() - t0


def bmi_results(d, xp, yp, steps, seed):
    """bmi's values and times on the samples in `d`, kept in d/bmi-STEPS.json: the samples of a
    (task, n, seed) never change, so a later bench with the same --samples folder reuses them."""
    cache = os.path.join(d, f"bmi-{steps}.json")
    if os.path.exists(cache):
        with open(cache) as f:
            return json.load(f)
    x, y = np.load(xp), np.load(yp)
    r = {}
    for name in BMI_ESTIMATORS:
        v, t = run_bmi(name, x, y, steps, seed)
        r[f"bmi_{name}"], r[f"t_bmi_{name}"] = v, t
    with open(cache + ".tmp", "w") as f:
        json.dump(r, f)
    os.replace(cache + ".tmp", cache)
    return r


def sample(mi, task, n, seed, root):
    d = os.path.join(root, f"{task}-n{n}-s{seed}")
    if not os.path.exists(os.path.join(d, "truth.json")):
        subprocess.run(
            [mi, "tasks", "sample", task, "--n", str(n), "--seed", str(seed), "--out", d],
            check=True,
            capture_output=True,
        )
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)["mi"]
    return d, truth


def fmt(v, w=7, p=3):
    return f"{v:{w}.{p}f}" if isinstance(v, (int, float)) and math.isfinite(v) else " " * (w - 3) + "nan"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mi", default="target/release/mi", help="the mi binary")
    ap.add_argument("--n", type=int, default=10000, help="samples per task")
    ap.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    ap.add_argument("--seeds", type=int, default=1, help="data seeds per task (SE calibration needs ≥ 2)")
    ap.add_argument("--bmi-steps", type=int, default=1000, help="bmi's max_n_steps")
    ap.add_argument("--no-bmi", action="store_true", help="ours only (the SE calibration)")
    ap.add_argument("--mi-args", default="", help="extra arguments for `mi estimate`")
    ap.add_argument("--samples", default="", help="where the samples (and bmi's cached results) go (default: a temporary folder)")
    ap.add_argument("--json", default="", help="also write every row as JSON here")
    a = ap.parse_args()

    tasks = [t for t in a.tasks.split(",") if t] or [
        t["name"] for t in json.loads(subprocess.run([a.mi, "tasks", "list"], capture_output=True, check=True, text=True).stdout)
    ]
    root = a.samples or tempfile.mkdtemp(prefix="mi_bench_estimate_")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# {len(tasks)} tasks, n = {a.n}, {a.seeds} seed(s), bmi {a.bmi_steps} steps; CPU {cpu}, {os.cpu_count()} cores", flush=True)
    head = (
        f"{'task':<24} {'truth':>7} {'ours':>7} {'±se':>6} {'bmi':>7} {'(best)':<8} {'|e|ours':>7} {'|e|bmi':>7} "
        f"{'ok':>3} {'≤bmi':>4} {'t_ours':>7} {'t_bmi':>7} {'t_o/t_b':>7}"
    )
    if a.seeds > 1:
        head += f" {'sd':>6} {'se':>6} {'sd/se':>6}"
    print(head, flush=True)
    rows = []
    for task in tasks:
        per_seed = []
        for s in range(a.seeds):
            d, truth = sample(a.mi, task, a.n, s, root)
            xp, yp = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
            e, t_ours = run_ours(a.mi, xp, yp, a.mi_args.split())
            r = {"task": task, "seed": s, "truth": truth, "ours": e["estimate"], "se": e["std_err"], "bound": e["bound"], "val": e["validation_estimate"], "critic": e["critic"], "t_ours": t_ours}
            if not a.no_bmi and s == 0:
                r.update(bmi_results(d, xp, yp, a.bmi_steps, s))
            per_seed.append(r)
            rows.append(r)
        r = per_seed[0]
        truth = r["truth"]
        err = abs(r["ours"] - truth)
        line = f"{task:<24} {fmt(truth)} {fmt(r['ours'])} {fmt(r['se'], 6)}"
        if not a.no_bmi:
            finite = [n for n in BMI_ESTIMATORS if math.isfinite(r[f"bmi_{n}"])]
            best = min(finite, key=lambda n: abs(r[f"bmi_{n}"] - truth)) if finite else None
            bv = r[f"bmi_{best}"] if best else float("nan")
            berr = abs(bv - truth)
            tb = r[f"t_bmi_{best}"] if best else float("nan")
            r.update({"bmi_best": best, "bmi_best_err": berr, "t_bmi_best": tb})
            line += (
                f" {fmt(bv)} {best or '-':<8} {fmt(err)} {fmt(berr)} {'yes' if err <= tolerance(truth) else 'no':>3}"
                f" {'yes' if err <= berr + 0.02 else 'no':>4} {fmt(r['t_ours'], 7, 1)} {fmt(tb, 7, 1)} {fmt(r['t_ours'] / tb, 7, 2)}"
            )
        else:
            line += f" {'':>7} {'':<8} {fmt(err)} {'':>7} {'yes' if err <= tolerance(truth) else 'no':>3} {'':>4} {fmt(r['t_ours'], 7, 1)} {'':>7} {'':>7}"
        if a.seeds > 1:
            est = np.array([p["ours"] for p in per_seed])
            sd, se = float(est.std(ddof=1)), float(np.mean([p["se"] for p in per_seed]))
            r.update({"seed_sd": sd, "mean_se": se})
            line += f" {fmt(sd, 6)} {fmt(se, 6)} {fmt(sd / se if se > 0 else float('nan'), 6, 2)}"
        print(line, flush=True)
    firsts = [r for r in rows if r["seed"] == 0]
    within = sum(abs(r["ours"] - r["truth"]) <= tolerance(r["truth"]) for r in firsts)
    print(f"# ours within max(0.1, 5 %): {within}/{len(firsts)}", flush=True)
    if not a.no_bmi:
        bmi_within = sum(r["bmi_best_err"] <= tolerance(r["truth"]) for r in firsts)
        not_worse = sum(abs(r["ours"] - r["truth"]) <= r["bmi_best_err"] + 0.02 for r in firsts)
        faster = sum(r["t_ours"] <= r["t_bmi_best"] for r in firsts)
        print(f"# bmi's best within: {bmi_within}/{len(firsts)}; ours |err| ≤ bmi's best + 0.02: {not_worse}/{len(firsts)}; ours no slower than bmi's best: {faster}/{len(firsts)}")
    if a.seeds > 1:
        ratios = [r["seed_sd"] / r["mean_se"] for r in firsts if r.get("mean_se", 0) > 0]
        ok = sum(1 / 1.5 <= q <= 1.5 for q in ratios)
        print(f"# spread across {a.seeds} seeds / reported SE within ×1.5: {ok}/{len(ratios)}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
