"Acceptance criteria (as in 04_soft cell 28) for every candidate in the given row CSVs, on a seed range."
import sys, glob, numpy as np, pandas as pd
lo, hi = map(int, sys.argv[1].split("-"))
ctrl = pd.concat([pd.read_csv("nbs/data/soft_study.csv"), pd.read_csv("nbs/data/soft_confirm.csv")])
rows = pd.concat([pd.read_csv(f) for f in sys.argv[2:]]).drop_duplicates(["scenario", "n_train", "seed", "method"])
d = pd.concat([ctrl, rows]); d = d[(d.seed >= lo) & (d.seed <= hi)]
d = d.assign(setting=d.scenario + " n=" + d.n_train.astype(str))
t = d.pivot_table(index=["setting", "seed"], columns="method", values="test"); m = t.groupby(level=0).mean()
out = []
for meth in ["ASPS (default)"] + list(rows.method.unique()):
    if t[meth].groupby(level=0).count().min() < hi - lo + 1: continue
    r = dict(method=meth)
    for st in ("mixed n=50", "mixed n=200"):
        r[st] = f"{m.loc[st, meth]:.4f}" + (" ok" if m.loc[st, meth] <= min(m.loc[st, 'SPS (val)'], m.loc[st, 'STL']) else " FAIL")
    w = float((t.loc["mixed n=200", meth] < t.loc["mixed n=200", "SPS (val)"]).mean()); r["win m200"] = f"{w:.2f}" + (" ok" if w >= .6 else " FAIL")
    rel = 100 * (m.loc["related n=200", meth] / m.loc["related n=200", "SPS (val)"] - 1); r["rel Δ%SPS"] = f"{rel:+.2f}" + (" ok" if rel <= 1 else " FAIL")
    unr = 100 * (m.loc["unrelated n=200", meth] / m.loc["unrelated n=200", "STL"] - 1); r["unr Δ%STL"] = f"{unr:+.2f}" + (" ok" if unr <= 2 else " FAIL")
    for n in (50, 200):
        a = d[(d.method == meth) & (d.scenario == "mixed") & (d.n_train == n)].auc.mean(); r[f"AUC m{n}"] = f"{a:.3f}" + (" ok" if a >= .9 else " FAIL")
    r["n pass"] = sum("ok" in str(v) for v in r.values())
    out.append(r)
print(f"seeds {lo}-{hi}; targets: m50 ≤ {min(m.loc['mixed n=50','SPS (val)'], m.loc['mixed n=50','STL']):.4f}, m200 ≤ {min(m.loc['mixed n=200','SPS (val)'], m.loc['mixed n=200','STL']):.4f}")
print(pd.DataFrame(out).to_string(index=False))
