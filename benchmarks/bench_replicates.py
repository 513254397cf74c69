"""R seeds of one method as one replicate-batched fit (`fit_replicates`) against R separate `fit` calls, same data and seeds.

Both sides do the same work (the mixed scenario with K tasks, one data draw per seed, early stopping on validation) and give
the same results (the script prints the largest relative difference in test MSE over the R replicates); they are timed in
one run, each side after a warm-up call, interleaved `--reps` times (medians; `repeats` gives the lowest and highest ratio of
one repeat's two sides), on one thread unless `--threads` says more.
As in `bench_fit.py`, every timed call starts from a full garbage collection, with neither side's results alive (their
test MSEs are kept, the fits dropped), so neither pays for collecting what the other left.
Usage: python benchmarks/bench_replicates.py [--replicates 20] [--tasks 8] [--rows 200] [--epochs 60] [--methods stl,hps,sps,ahps,asps] [--reps 3]
       [--batches 32,full] [--threads 1] [--profile]
With `--profile`, each row also gives the seconds the batched call spends in matrix products (one more call under
`torch.profiler`, the products' self CPU time) and the `ceiling` they put on the ratio: the R fits' time over those seconds,
the ratio the batch would reach if everything but its products cost nothing."""
import argparse, gc, statistics, time
import torch
from torch.profiler import profile, ProfilerActivity
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit
from adaptive_mtl.replicates import fit_replicates

PRODUCTS = {"aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm", "aten::mv", "aten::addmv", "aten::dot"}

def product_seconds(run) -> float:
    "Seconds of matrix products (their self CPU time) in one call of `run` under `torch.profiler`."
    gc.collect()
    with profile(activities=[ProfilerActivity.CPU]) as p: run()
    return sum(e.self_cpu_time_total for e in p.key_averages() if e.key in PRODUCTS) / 1e6

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20); ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--rows", type=int, default=200); ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--methods", default="stl,hps,sps,ahps,asps")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repeats of both sides (medians)")
    ap.add_argument("--batches", default="32,full", help="rows per task in a batch: numbers, or 'full' for one batch per epoch")
    ap.add_argument("--profile", action="store_true", help="also the batched call's seconds in matrix products, and the ceiling they put on the ratio")
    a = ap.parse_args()
    torch.set_num_threads(a.threads); seeds = list(range(a.replicates))
    sims = [make_simulation("mixed", n_tasks=a.tasks, n_train=a.rows, seed=s) for s in seeds]
    draws = [(s.train, s.val) for s in sims]
    print(f"torch {torch.__version__}, {a.threads} thread(s), mixed scenario (K={a.tasks}), {a.rows} rows per task, {a.epochs} epochs, {a.reps} interleaved repeats (medians), "
          f"R={a.replicates} seeds")
    print(f"{'method':>6} {'batch':>6} {'R fits s':>9} {'batched s':>10} {'ratio':>7} {'repeats':>13} {'max rel. diff':>14}" + (f" {'products s':>11} {'ceiling':>8}" if a.profile else ""))
    for name in a.methods.split(","):
        for b in a.batches.split(","):
            bs = 10 ** 6 if b == "full" else int(b)
            fit_replicates(name, draws[:2], seeds[:2], epochs=2, batch_size=bs); fit(name, *draws[0], epochs=2, batch_size=bs, progress=False)
            times, mse = {"batched": [], "alone": []}, {}
            sides = {"batched": lambda: fit_replicates(name, draws, seeds, epochs=a.epochs, batch_size=bs),
                     "alone": lambda: [fit(name, tr, va, seed=sd, epochs=a.epochs, batch_size=bs, progress=False) for (tr, va), sd in zip(draws, seeds)]}
            for _ in range(a.reps):
                for side, run in sides.items():
                    gc.collect(); t = time.perf_counter(); fits = run(); times[side].append(time.perf_counter() - t)
                    mse[side] = [f.evaluate(d.test).loc["overall", "mse"] for f, d in zip(fits, sims)]; del fits
            tb, ts = statistics.median(times["batched"]), statistics.median(times["alone"])
            rel = max(abs(x / y - 1) for x, y in zip(mse["batched"], mse["alone"]))
            pairs = [s / t for s, t in zip(times["alone"], times["batched"])]                  # each repeat's own ratio
            spread = f"{min(pairs):.1f}-{max(pairs):.1f}x"
            prof = ""
            if a.profile:
                pb = product_seconds(sides["batched"])
                prof = f" {pb:>11.3g} {ts / pb:>7.1f}x"
            print(f"{name:>6} {b:>6} {ts:>9.2f} {tb:>10.2f} {ts / tb:>6.1f}x {spread:>13} {rel:>14.1e}{prof}", flush=True)

if __name__ == "__main__": main()
