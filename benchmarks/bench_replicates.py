"""R seeds of one method as one replicate-batched fit (`fit_replicates`) against R separate `fit` calls, same data and seeds.

Both sides do the same work (the mixed scenario, one data draw per seed, early stopping on validation) and give the same
results (the script checks the largest relative difference in test MSE); they are timed interleaved in one run.
Usage: python benchmarks/bench_replicates.py [--replicates 10] [--rows 200] [--epochs 60] [--threads 1]"""
import argparse, time
import torch
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit
from adaptive_mtl.replicates import fit_replicates

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=10); ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=60); ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); seeds = list(range(a.replicates))
    sims = [make_simulation("mixed", n_train=a.rows, seed=s) for s in seeds]
    draws = [(s.train, s.val) for s in sims]
    print(f"torch {torch.__version__}, {a.threads} thread(s), mixed scenario (K=6), {a.rows} rows per task, {a.epochs} epochs, "
          f"R={a.replicates} seeds")
    print(f"{'method':>6} {'batch':>6} {'R fits s':>9} {'batched s':>10} {'ratio':>7} {'max rel. diff':>14}")
    for name in ("stl", "hps", "sps"):
        for bs in (32, 10**6):
            t = time.perf_counter(); b = fit_replicates(name, draws, seeds, epochs=a.epochs, batch_size=bs); tb = time.perf_counter() - t
            t = time.perf_counter()
            s = [fit(name, tr, va, seed=sd, epochs=a.epochs, batch_size=bs, progress=False) for (tr, va), sd in zip(draws, seeds)]
            ts = time.perf_counter() - t
            rel = max(abs(x.evaluate(d.test).loc["overall", "mse"] / y.evaluate(d.test).loc["overall", "mse"] - 1)
                      for x, y, d in zip(b, s, sims))
            print(f"{name:>6} {('full' if bs > a.rows else bs):>6} {ts:>9.2f} {tb:>10.2f} {ts / tb:>6.1f}x {rel:>14.1e}")

if __name__ == "__main__": main()
