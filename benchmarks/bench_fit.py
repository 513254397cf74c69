"""`trainer.fit` against a plain PyTorch loop over K separate networks doing the same full-batch work.

Both sides train K independent 2-hidden-layer MLPs (STL) on N rows per task in one full batch per epoch with Adam,
evaluate the validation split every epoch and keep a copy of the best weights. The plain side is what a user would
write: a list of `nn.Sequential`, one loss per network, a Python loop over tasks. A third side, the batched loop, is the
same work written by hand in batched PyTorch without the package (`[K, ...]` weights, `torch.baddbmm`, autograd, fused
Adam, best state copied into buffers): what batching alone gives on this machine, the ratio `fit` can approach but has
no reason to pass, so `loop / batched` shows how much of a target ratio is within reach here. Timed interleaved in one run (medians
of repeats), so the printed ratio is robust to a noisy shared machine. Every timed call starts from a full garbage
collection (`gc.collect()`), so neither side pays for the state the other left: in one process, a fit timed right after the
plain loop took 12-16% longer than one timed after another fit or after `gc.collect()` (which had no garbage to free;
the loop leaves the interpreter in a state the next fit pays for, measured, not explained). The last column counts the minor page faults of
one fit (median): memory malloc had handed back to the OS and the next step touched again, which at large K used to cost
a third of fit's time (see `_keep_heap` in nbs/07_trainer.ipynb).
Usage: python benchmarks/bench_fit.py [--ks 8,32,128] [--rows 200] [--epochs 60] [--threads 1] [--reps 3]"""
import argparse, gc, statistics, time
try: import resource                                    # page-fault counts (Unix only)
except ImportError: resource = None
import numpy as np
import torch
from torch import nn
from adaptive_mtl.data import MultiTaskData
from adaptive_mtl.trainer import fit

def make_data(K, n, p, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(K * n, p)); task = np.repeat(np.arange(K), n)
    w = rng.normal(size=(K, p)); y = np.einsum("ij,ij->i", X, w[task]) + rng.normal(size=K * n)
    return MultiTaskData.from_groups(X, y, task)

def task_rows(d):
    "Each task's rows of `d` as float32 tensors: `(list of x [n_k, p], list of y [n_k])`."
    xs = [torch.as_tensor(d.X[d.task == k], dtype=torch.float32) for k in range(d.n_tasks)]
    ys = [torch.as_tensor(d.y[d.task == k], dtype=torch.float32) for k in range(d.n_tasks)]
    return xs, ys

def plain_loop(train, val, hidden, epochs, lr, seed):
    "K `nn.Sequential` MLPs trained together by a loop over tasks; validation and a best-state copy every epoch."
    torch.manual_seed(seed)
    K, p, (h1, h2) = train.n_tasks, train.n_features, hidden
    (xt, yt), (xv, yv) = task_rows(train), task_rows(val)
    nets = nn.ModuleList([nn.Sequential(nn.Linear(p, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 1)) for _ in range(K)])
    opt = torch.optim.Adam(nets.parameters(), lr=lr)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        opt.zero_grad(set_to_none=True)
        loss = sum(((nets[k](xt[k]).squeeze(-1) - yt[k]) ** 2).mean() for k in range(K))
        loss.backward(); opt.step()
        with torch.no_grad(): v = sum(float(((nets[k](xv[k]).squeeze(-1) - yv[k]) ** 2).mean()) for k in range(K)) / K
        if v < best: best, best_state = v, {k: t.clone() for k, t in nets.state_dict().items()}
    return best_state

def batched_loop(train, val, hidden, epochs, lr, seed):
    "The plain loop's K networks as `[K, out, in]` weights trained together by hand: `baddbmm` products, autograd, fused Adam, validation and the best-state copy every epoch."
    torch.manual_seed(seed)
    K, p = train.n_tasks, train.n_features
    (xt, yt), (xv, yv) = ([torch.stack(t) for t in task_rows(d)] for d in (train, val))   # `[K, n, p]`, `[K, n]` (equal task sizes)
    params = []
    for i, o in zip((p,) + tuple(hidden), tuple(hidden) + (1,)):  # nn.Linear's initialisation, every task its own draw
        bound = 1 / i ** 0.5
        params += [torch.empty(K, o, i).uniform_(-bound, bound).requires_grad_(), torch.empty(K, o).uniform_(-bound, bound).requires_grad_()]
    opt = torch.optim.Adam(params, lr=lr, fused=True)
    def forward(h):
        for j in range(0, len(params), 2):
            h = torch.baddbmm(params[j + 1].unsqueeze(1), h, params[j].transpose(1, 2))
            if j + 2 < len(params): h = h.relu_()
        return h.squeeze(-1)
    best, best_state = float("inf"), [t.detach().clone() for t in params]
    for _ in range(epochs):
        for t in params: t.grad = None
        ((forward(xt) - yt) ** 2).mean(1).sum().backward(); opt.step()
        with torch.no_grad(): v = float(((forward(xv) - yv) ** 2).mean(1).mean())
        if v < best:
            best = v
            with torch.no_grad(): torch._foreach_copy_(best_state, params)
    return best_state

def stl_fit(fit_fn, train, val, hidden, epochs, rows):
    "`fit` (or another version's `fit_fn`) doing the plain loop's work: STL, one full batch of `rows` per task, validation every epoch, no early stop."
    return fit_fn("stl", train, val, hidden=hidden, epochs=epochs, batch_size=rows, patience=epochs, lr=3e-3, seed=0, progress=False, device="cpu")

def minor_faults() -> int: return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0

def timed(fn):
    "Wall time of `fn()`, after a full garbage collection."
    gc.collect(); t = time.perf_counter(); fn(); return time.perf_counter() - t

def timed_faults(fn):
    "Wall time of `fn()` and the minor page faults it caused."
    f = minor_faults(); t = timed(fn); return t, minor_faults() - f      # `timed` collects first (no garbage: no faults)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ks", default="8,32,128"); ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--val-rows", type=int, default=50); ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=60); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); hidden = (32, 32)
    print(f"torch {torch.__version__}, {a.threads} thread(s), STL, {a.rows} rows per task in one batch, hidden {hidden}, "
          f"{a.epochs} epochs, validation ({a.val_rows} rows per task) every epoch")
    print(f"{'K':>5} {'plain loop s':>13} {'fit s':>8} {'batched s':>10} {'loop / fit':>11} {'loop / batched':>15} {'fit page faults':>16}")
    for K in [int(k) for k in a.ks.split(",")]:
        train, val = make_data(K, a.rows, a.features, 0), make_data(K, a.val_rows, a.features, 1)
        run_fit = lambda: stl_fit(fit, train, val, hidden, a.epochs, a.rows)
        run_loop = lambda: plain_loop(train, val, hidden, a.epochs, 3e-3, 0)
        run_batched = lambda: batched_loop(train, val, hidden, a.epochs, 3e-3, 0)
        run_fit(); run_loop(); run_batched()                                                  # warm-up
        tl, tf, tb, ff = [], [], [], []
        for _ in range(a.reps):                                                               # interleaved repeats
            tl.append(timed(run_loop)); t, f = timed_faults(run_fit); tf.append(t); ff.append(f); tb.append(timed(run_batched))
        ml, mf, mb = statistics.median(tl), statistics.median(tf), statistics.median(tb)
        print(f"{K:>5} {ml:>13.3f} {mf:>8.3f} {mb:>10.3f} {ml / mf:>10.1f}x {ml / mb:>14.1f}x {statistics.median(ff):>16.0f}")

if __name__ == "__main__": main()
