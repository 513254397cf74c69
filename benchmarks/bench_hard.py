"""AHPS speed: time per training step AHPS / HPS, and per-task gradients from one backward pass vs K backward passes.

Part 1 times one training step with fused Adam, as `fit` runs it (forward, backward, controller, step) of MultiTaskMLP(sharing="hard") (HPS) and of
AHPS's network with its NodeController (default statistic), in three phases: deciding with nothing split yet
(tied shared rows + per-task gradients + statistic), deciding with 25% of the nodes split, and after the decision
window (tracking off, 25% split); deciding with nothing split again with the controller's PyTorch ops in place of its
compiled pass (`NodeController(fused=False)`, what `FusedSnrStep` replaces); the floor of any AHPS layout with the PyTorch ops, built from the package's products
(`task_linear`): an HPS step (shared weights, nothing to tie, Adam on one copy) that also copies every task's row gradients into the statistic's buffer during its backward
pass and runs the statistic and the run lengths; and, for reference, the same HPS network as plain PyTorch with one matrix product
over every task's rows per trunk layer (not the package's HPS, which broadcasts the shared weights to a batched product). Part 2 times getting every task's gradient on every trunk row:
one forward + one backward with tracking (`row_grads`) vs one forward + K `autograd.grad` calls. Part 3 times whole
`fit` calls (mixed scenario, 200 rows per task, mini-batches, no validation): seconds per training step of AHPS / HPS as
a user meets them, the trainer's batching and bookkeeping included, and of AHPS with the PyTorch ops. All timings are interleaved repeats in one run; the
printed numbers are ratios of medians.
Usage: python benchmarks/bench_hard.py [--ks 2,8,32] [--grad-ks 8,32] [--batch 32] [--hidden 32] [--features 10] [--reps 7] [--threads 1] [--statistic snr-bias]
(--statistic: AHPS with another conflict statistic than the default, in every part)"""
import argparse, time, statistics, functools
import torch
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit
from adaptive_mtl.layers import MultiTaskMLP, task_linear
from adaptive_mtl.hard import NodeController, row_grads, reference_row_grads
from adaptive_mtl.methods import AHPS
import adaptive_mtl.methods as methods

def make_step(model, opt, x, y, ctl=None):
    def step():
        opt.zero_grad(set_to_none=True)
        ((model(x) - y) ** 2).mean(1).sum().backward()
        if ctl is not None: ctl.update(model, opt)
        opt.step()
    return step

def one_product_step(hps, x, y):
    "A plain-PyTorch HPS step with the same weights: each shared trunk layer one `addmm` over the K*B rows, the per-task head one `baddbmm`."
    params = [p.detach().clone().requires_grad_() for p in hps.parameters()]
    *trunk, head_w, head_b = params; opt = torch.optim.Adam(params, 1e-3, fused=True)
    def step():
        opt.zero_grad(set_to_none=True)
        h = x.reshape(-1, x.shape[-1])
        for w, b in zip(trunk[::2], trunk[1::2]): h = torch.relu(torch.addmm(b, h, w.T))
        out = torch.baddbmm(head_b.unsqueeze(1), h.view(*x.shape[:2], -1), head_w.transpose(1, 2)).squeeze(-1)
        ((out - y) ** 2).mean(1).sum().backward(); opt.step()
    return step

def _copied_to(rows):
    "A `task_linear` tie that leaves a layer's per-task gradients as they are and copies them into `rows` (weights, biases)."
    def tied(gw, gb):
        if rows[0] is not None: rows[0].copy_(gw)                       # (a statistic of the biases alone keeps no weight rows)
        rows[1].copy_(gb); return gw, gb
    return tied

def floor_step(hps, x, y, config):
    "HPS with the controller's reading of the gradients: per-task rows copied into the controller's buffer, its statistic, the run lengths."
    params = [p.detach().clone().requires_grad_() for p in hps.parameters()]
    *trunk, head_w, head_b = params; opt = torch.optim.Adam(params, 1e-3, fused=True)
    twin = MultiTaskMLP(x.shape[-1], x.shape[0], tuple(w.shape[0] for w in trunk[::2]), sharing="adaptive")   # every task's copy
    with torch.no_grad():
        for layer, w, b in zip(twin.trunk, trunk[::2], trunk[1::2]): layer.weight.copy_(w.expand_as(layer.weight)); layer.bias.copy_(b.expand_as(layer.bias))
        twin.head.weight.copy_(head_w); twin.head.bias.copy_(head_b)
    ctl = NodeController(**config, fused=False); ctl.attach(twin)   # its padded buffer, the layers' views of it, the statistic
    ties, statistic, t = [_copied_to(rows) for rows in ctl._gradient_views], ctl.statistic, [0]
    run, counter = torch.zeros_like(ctl._run), torch.zeros_like(ctl._conflict_count)
    def step():
        opt.zero_grad(set_to_none=True); h = x
        for w, b, tie in zip(trunk[::2], trunk[1::2], ties): h = torch.relu_(task_linear(h, w, b, shared=True, tied=tie))   # HPS's product
        out = task_linear(h, head_w, head_b).squeeze(-1)
        ((out - y) ** 2).mean(1).sum().backward()
        with torch.no_grad():
            value = statistic(ctl.gradients, t[0]); t[0] += 1
            conflict = statistic.conflicts(value); run.add_(1).mul_(conflict); counter.add_(conflict)
        opt.step()
    reference = reference_row_grads(twin, x, y); step()                     # the rows the statistic reads are every task's own
    for ref, layer, a, b in zip(reference, twin.trunk, ctl.node_offsets, ctl.node_offsets[1:]):
        rows = ref if ctl.gradients.shape[-1] > 1 else ref[..., -1:]                 # every entry, or the biases alone
        torch.testing.assert_close(ctl.gradients[0, :, a:b, :rows.shape[-1]], rows, rtol=1e-4, atol=1e-6)
    return step

def per_step(fit_fn, method, train, batch):
    "Seconds per training step of one whole `fit` (or another version's `fit_fn`) call: 20 epochs, batches of `batch`, no validation."
    t = time.perf_counter(); r = fit_fn(method, train, None, epochs=20, batch_size=batch, progress=False, device="cpu")
    return (time.perf_counter() - t) / r.history.step.iloc[-1]

def torch_ops(run):
    "`run()` with every AHPS controller built with `fused=False` (the PyTorch ops in place of the compiled pass)."
    built = methods.NodeController; methods.NodeController = functools.partial(built, fused=False)
    try: return run()
    finally: methods.NodeController = built

def timed(fn, n):
    t = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - t) / n

def ahps_setup(K, a, split_frac, window, fused=True):
    torch.manual_seed(0)
    d = ahps(a).config(); d.update(warmup=10 ** 9, window=(10 ** 9 + 1) if window else None, fused=fused)
    m = MultiTaskMLP(a.features, K, (a.hidden, a.hidden), sharing="adaptive"); opt = torch.optim.Adam(m.parameters(), 1e-3, fused=True)
    ctl = NodeController(**d); ctl.attach(m, opt)
    if split_frac:
        x, y = torch.randn(K, a.batch, a.features), torch.randn(K, a.batch)
        make_step(m, opt, x, y, ctl)()
        for l in m.trunk: l.split(torch.arange(int(split_frac * l.out_features)))
    if not window: return m, opt, ctl
    ctl.stop()
    return m, opt, None

def ahps(a) -> AHPS:
    "AHPS with the defaults, or with the statistic `--statistic` names."
    return AHPS() if a.statistic is None else AHPS(statistic=a.statistic)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ks", default="2,8,32"); ap.add_argument("--grad-ks", default="8,32")
    ap.add_argument("--batch", type=int, default=32); ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--features", type=int, default=10); ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--statistic", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} thread(s), batch {a.batch}, hidden ({a.hidden}, {a.hidden}), p={a.features}, "
          f"AHPS statistic {ahps(a).statistic!r}")
    print("\n1) time per training step, AHPS / HPS (median of interleaved repeats)")
    print(f"{'K':>4} {'HPS ms':>8} {'deciding, 0% split':>20} {'deciding, 25% split':>20} {'after window, 25% split':>24} {'deciding, PyTorch ops':>22} {'floor, PyTorch ops':>19} {'one-product HPS ms':>19} {'deciding 0% / it':>17}")
    for K in [int(k) for k in a.ks.split(",")]:
        x, y = torch.randn(K, a.batch, a.features), torch.randn(K, a.batch)
        torch.manual_seed(0)
        hps = MultiTaskMLP(a.features, K, (a.hidden, a.hidden), sharing="hard")
        fns = {"hps": make_step(hps, torch.optim.Adam(hps.parameters(), 1e-3, fused=True), x, y), "hps1": one_product_step(hps, x, y),
               "floor": floor_step(hps, x, y, ahps(a).config())}
        for key, (sf, win, fused) in {"d0": (0, False, True), "d25": (0.25, False, True), "w25": (0.25, True, True), "d0t": (0, False, False)}.items():
            m, opt, ctl = ahps_setup(K, a, sf, win, fused); fns[key] = make_step(m, opt, x, y, ctl)
        n = max(20, 3000 // K)
        for f in fns.values():
            for _ in range(10): f()
        ts = {k: [] for k in fns}
        for _ in range(a.reps):
            for k, f in fns.items(): ts[k].append(timed(f, n))
        med = {k: statistics.median(v) for k, v in ts.items()}
        r = {k: med[k] / med["hps"] for k in med}
        print(f"{K:>4} {med['hps'] * 1e3:>8.3f} {r['d0']:>19.2f}x {r['d25']:>19.2f}x {r['w25']:>23.2f}x {r['d0t']:>21.2f}x {r['floor']:>18.2f}x {med['hps1'] * 1e3:>19.3f} {med['d0'] / med['hps1']:>16.2f}x")

    print("\n2) every task's gradient on every trunk row: K backward passes / one backward pass")
    print(f"{'K':>4} {'one backward ms':>16} {'K backwards ms':>15} {'speed-up':>9}")
    for K in [int(k) for k in a.grad_ks.split(",")]:
        torch.manual_seed(0)
        m = MultiTaskMLP(a.features, K, (a.hidden, a.hidden), sharing="adaptive")
        x, y = torch.randn(K, a.batch, a.features), torch.randn(K, a.batch)
        def one():
            for l in m.trunk: l.track = True
            m.zero_grad(set_to_none=True); ((m(x) - y) ** 2).mean(1).sum().backward()
            return [row_grads(l) for l in m.trunk]
        loop = lambda: reference_row_grads(m, x, y)             # plain forward (no tie), one autograd.grad per task loss
        for g1, ref in zip(one(), loop()): torch.testing.assert_close(g1, ref, rtol=1e-4, atol=1e-6)   # same numbers, then time
        n = max(10, 2000 // K); t1, tk = [], []
        for _ in range(a.reps): t1.append(timed(one, n)); tk.append(timed(loop, n))
        m1, mk = statistics.median(t1), statistics.median(tk)
        print(f"{K:>4} {m1 * 1e3:>16.3f} {mk * 1e3:>15.3f} {mk / m1:>8.1f}x")

    print("\n3) inside fit: seconds per training step, AHPS / HPS (mixed scenario, 200 rows per task, batch "
          f"{a.batch}, 20 epochs, no validation)")
    print(f"{'K':>4} {'HPS ms/step':>12} {'AHPS ms/step':>13} {'ratio':>7} {'AHPS, PyTorch ops':>18} {'ratio':>7}")
    for K in [int(k) for k in a.grad_ks.split(",")]:
        d = make_simulation("mixed", n_tasks=K, n_train=200, seed=0)
        run = {m: (lambda m=m: per_step(fit, ahps(a) if m == "ahps" else m, d.train, a.batch)) for m in ("hps", "ahps")}
        run["torch"] = lambda: torch_ops(lambda: per_step(fit, ahps(a), d.train, a.batch))
        for f in run.values(): f()
        ts = {m: [] for m in run}
        for _ in range(a.reps):
            for m, f in run.items(): ts[m].append(f())
        med = {m: statistics.median(v) for m, v in ts.items()}
        print(f"{K:>4} {med['hps'] * 1e3:>12.3f} {med['ahps'] * 1e3:>13.3f} {med['ahps'] / med['hps']:>6.2f}x {med['torch'] * 1e3:>18.3f} {med['torch'] / med['hps']:>6.2f}x")

if __name__ == "__main__": main()
