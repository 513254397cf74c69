"""The default `MTLRegressor()` on High School and Beyond (7,185 students, 160 schools) next to statsmodels `MixedLM`.

Times, on one thread, a default fit (three AHPS networks on the replicate axis; a random intercept per school or none,
chosen on its validation split) and MixedLM by REML with a random intercept (and with a random SES slope) on the same
rows, interleaved over repeats; prints the medians, their ratio, what the default chose, and how much of the default fit
was its random-effects part (`RandomEffects.update`: the EM steps for G and sigma2 and the BLUPs, float64; and
`RandomEffects.converge`: the final re-fits' maximisation of the restricted likelihood).
Usage: python benchmarks/bench_default.py [--reps 3]"""
import argparse, statistics, time, warnings
import numpy as np
import torch
import statsmodels.api as sm
from adaptive_mtl.datasets import load_dataset
from adaptive_mtl.estimator import MTLRegressor
from adaptive_mtl.mixed import RandomEffects

SPENT = [0.0]                # seconds inside RandomEffects.update (attach calls it too) and RandomEffects.converge
def _timed(f):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try: return f(*args, **kwargs)
        finally: SPENT[0] += time.perf_counter() - start
    return timed
RandomEffects.update, RandomEffects.converge = _timed(RandomEffects.update), _timed(RandomEffects.converge)   # they never nest

def mixed(X, y, g, Z=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.MixedLM(y, np.c_[np.ones(len(X)), X], groups=g, exog_re=Z).fit(reml=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0]); ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(); torch.set_num_threads(1)
    d = load_dataset("hsb82"); g = np.array(d.task_names)[d.task]; ses = d.feature_names.index("ses")
    times, em = {"MTLRegressor()": [], "MixedLM intercept": [], "MixedLM int+slope": []}, []
    for _ in range(args.reps):
        SPENT[0], t = 0.0, time.perf_counter(); reg = MTLRegressor().fit(d.X, d.y, tasks=g)
        times["MTLRegressor()"].append(time.perf_counter() - t); em.append(SPENT[0])
        t = time.perf_counter(); mixed(d.X, d.y, g); times["MixedLM intercept"].append(time.perf_counter() - t)
        t = time.perf_counter(); mixed(d.X, d.y, g, np.c_[np.ones(len(d.X)), d.X[:, ses]]); times["MixedLM int+slope"].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"hsb82, {len(d.y)} rows, {d.n_tasks} schools, 1 thread, median of {args.reps}:")
    for k, v in med.items(): print(f"  {k:<18} {v:7.2f} s")
    print(f"  default / MixedLM intercept: {med['MTLRegressor()'] / med['MixedLM intercept']:.0f}x; "
          f"default chose random effects {reg.random_effects_!r} with {len(reg.members_)} members (validation MSE {reg.validation_mse_})")
    share = statistics.median(e / t for e, t in zip(em, times["MTLRegressor()"]))
    print(f"  of the default fit, its random-effects part (EM, BLUPs, REML re-fits): median {statistics.median(em):.2f} s, {100 * share:.0f}%")

if __name__ == "__main__": main()
