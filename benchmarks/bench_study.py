"""The simulation study's preset with seeds batched (`run_study(replicates=10)`, the default) against one fit per seed
(`replicates=1`), same processes, same settings; both result files are compared row by row.

Usage: python benchmarks/bench_study.py [--preset paper] [--jobs 2]"""
import argparse, tempfile, time
from pathlib import Path
import pandas as pd
from adaptive_mtl.cli import PRESETS
from adaptive_mtl.experiment import run_study

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="paper", choices=sorted(PRESETS)); ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(); p = PRESETS[a.preset]
    times, results = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for replicates in (10, 1):
            t = time.perf_counter()
            results[replicates] = run_study(list(p["methods"]), p["settings"], n_reps=p["n_reps"], n_jobs=a.jobs, progress=False,
                                            out=Path(tmp) / f"r{replicates}.csv", fit_kwargs=p.get("fit_kwargs"), replicates=replicates)
            times[replicates] = time.perf_counter() - t
    key = ["setting", "method", "seed", "task"]
    m = results[10].merge(results[1], on=key, suffixes=("_batched", "_alone"))
    same = (m.test_mse_batched == m.test_mse_alone).all() and len(m) == len(results[1]) == len(results[10])
    print(f"preset {a.preset!r}, {a.jobs} processes, {len(results[1])} rows: one fit per seed {times[1]:.0f} s, "
          f"seeds batched {times[10]:.0f} s, ratio {times[1] / times[10]:.2f}x; rows identical: {same}")

if __name__ == "__main__": main()
