"""Time per training step: a Python loop over K separate nn.Module MLPs vs one MultiTaskMLP(sharing="none").

Both sides compute the same thing (K independent 2-hidden-layer MLPs, MSE summed over tasks, Adam step) on the same
batch; they are timed interleaved in one run, so the printed ratio is robust to a noisy shared machine.
Usage: python benchmarks/bench_layers.py [--ks 2,8,32,128] [--batch 32] [--hidden 32] [--reps 7]"""
import argparse, time, statistics
import torch
from torch import nn
from adaptive_mtl.layers import MultiTaskMLP

def loop_model(p, K, h):
    return nn.ModuleList([nn.Sequential(nn.Linear(p, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1)) for _ in range(K)])

def step_loop(models, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = sum(((m(x[k]).squeeze(-1) - y[k]) ** 2).mean() for k, m in enumerate(models))
    loss.backward(); opt.step()

def step_batched(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = ((model(x) - y) ** 2).mean(1).sum()
    loss.backward(); opt.step()

def time_steps(fn, n):
    t = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - t) / n

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ks", default="2,8,32,128"); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=32); ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--reps", type=int, default=7); ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    print(f"torch {torch.__version__}, {a.threads} thread(s), batch {a.batch}, hidden ({a.hidden}, {a.hidden}), p={a.features}")
    print(f"{'K':>5} {'loop ms/step':>13} {'batched ms/step':>16} {'loop / batched':>15}")
    for K in [int(k) for k in a.ks.split(",")]:
        x, y = torch.randn(K, a.batch, a.features), torch.randn(K, a.batch)
        loop = loop_model(a.features, K, a.hidden); opt_l = torch.optim.Adam(loop.parameters(), 1e-3)
        mtl = MultiTaskMLP(a.features, K, (a.hidden, a.hidden), sharing="none"); opt_b = torch.optim.Adam(mtl.parameters(), 1e-3)
        n = max(5, 2000 // K)
        for _ in range(3): step_loop(loop, opt_l, x, y); step_batched(mtl, opt_b, x, y)     # warm-up
        tl, tb = [], []
        for _ in range(a.reps):                                                              # interleaved repeats
            tl.append(time_steps(lambda: step_loop(loop, opt_l, x, y), n))
            tb.append(time_steps(lambda: step_batched(mtl, opt_b, x, y), n))
        ml, mb = statistics.median(tl), statistics.median(tb)
        print(f"{K:>5} {ml * 1e3:>13.3f} {mb * 1e3:>16.3f} {ml / mb:>14.1f}x")

if __name__ == "__main__": main()
