"""Time per training step of ASPS vs SPS, and how a step scales with the number of tasks K.

One step is exactly what the trainer does: forward, per-task losses, the method's penalty, backward, the method's
after_backward, Adam step. ASPS runs with its defaults and is timed in steady state (after its warm-up, with penalty
terms removed and its periodic mask updates amortised over the timed steps); its pilot similarity is computed once,
before training, and is not part of a step. The K tasks share one teacher, so they are related and ASPS couples them.
SPS and ASPS are timed interleaved in short blocks in one run (the ratio is the median of the per-block ratios),
so the printed ratios are robust to a noisy shared machine.
Usage: python benchmarks/bench_soft.py [--ks 2,8,32,128] [--batch 32] [--hidden 32] [--reps 7] [--device cpu]"""
import argparse, time, statistics
import torch
from adaptive_mtl.methods import SPS, ASPS, StepInfo

def make(method, K, p, h, device, data):
    torch.manual_seed(0)
    model = method.build(p, K, (h, h)).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    method.attach(model, opt); method.prepare(*data)                     # ASPS: the pilot similarity, once
    return model, opt

def stepper(method, model, opt, x, y, mask):
    state = {"t": 0}
    def step():
        pred = model(x)
        losses = ((pred - y) ** 2 * mask).sum(1) / mask.sum(1)
        info = StepInfo(state["t"], x, y, mask, pred, losses)
        loss = losses.sum() + method.penalty(model, info)
        opt.zero_grad(set_to_none=True); loss.backward()
        method.after_backward(model, opt, info); opt.step(); state["t"] += 1
    return step

def time_steps(fn, n, sync):
    sync(); t = time.perf_counter()
    for _ in range(n): fn()
    sync(); return (time.perf_counter() - t) / n

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ks", default="2,8,32,128"); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=32); ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--reps", type=int, default=25); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads); dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    asps_cfg = ASPS()
    print(f"torch {torch.__version__}, device {dev}, {a.threads} thread(s), batch {a.batch}, hidden ({a.hidden}, {a.hidden}), "
          f"p={a.features}; {asps_cfg!r}")
    print(f"{'K':>5} {'SPS ms/step':>12} {'ASPS ms/step':>13} {'ASPS / SPS':>11}")
    res = {}
    for K in [int(k) for k in a.ks.split(",")]:
        g = torch.Generator().manual_seed(K)
        x = torch.randn(K, a.batch, a.features, generator=g)
        y = torch.tanh(x @ torch.randn(a.features, generator=g)) + 0.5 * torch.randn(K, a.batch, generator=g)  # related tasks
        x, y, mask = x.to(dev), y.to(dev), torch.ones(K, a.batch, device=dev)
        sps, asps = SPS(lam=0.3), ASPS()
        ms, os_ = make(sps, K, a.features, a.hidden, dev, (x, y, mask)); ma, oa = make(asps, K, a.features, a.hidden, dev, (x, y, mask))
        fs, fa = stepper(sps, ms, os_, x, y, mask), stepper(asps, ma, oa, x, y, mask)
        for _ in range(asps.min_steps() + 50): fa()                       # steady state: past the warm-up, terms removed
        for _ in range(10): fs()
        assert asps._pen.theta_t > 0
        n = max(asps.update_every * 4, (500 // K) // asps.update_every * asps.update_every)   # whole update cycles
        ts, ta = [], []
        for _ in range(a.reps):
            ts.append(time_steps(fs, n, sync)); ta.append(time_steps(fa, n, sync))
        res[K] = (statistics.median(ts), statistics.median(ta), statistics.median([y / x for x, y in zip(ts, ta)]))
        print(f"{K:>5} {res[K][0] * 1e3:>12.3f} {res[K][1] * 1e3:>13.3f} {res[K][2]:>10.2f}x")
    ks = sorted(res)
    if len(ks) > 1:
        lo, hi = ks[0], ks[-1]
        print(f"step time K={hi} / K={lo}:  SPS {res[hi][0] / res[lo][0]:.2f}x   ASPS {res[hi][1] / res[lo][1]:.2f}x")

if __name__ == "__main__": main()
