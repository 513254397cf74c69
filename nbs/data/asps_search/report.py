import sys, numpy as np, pandas as pd
from scipy.stats import wilcoxon
ctrl = pd.concat([pd.read_csv("nbs/data/soft_study.csv"), pd.read_csv("nbs/data/soft_confirm.csv")])
rows = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else "nbs/data/asps_search/rows.csv")
lo, hi = (map(int, sys.argv[2].split("-")) if len(sys.argv) > 2 else (0, 19))
d = pd.concat([ctrl, rows]); d = d[(d.seed >= lo) & (d.seed <= hi)]
d = d.assign(setting=d.scenario + " n=" + d.n_train.astype(str))
t = d.pivot_table(index=["setting", "seed"], columns="method", values="test")
a = d.pivot_table(index=["setting", "seed"], columns="method", values="auc")
meths = ["ASPS (default)"] + list(rows.method.unique())
for st in ["mixed n=50", "mixed n=200", "related n=200", "unrelated n=200"]:
    if st not in t.index.get_level_values(0): continue
    tt = t.loc[st]; sps, stl = tt["SPS (val)"].mean(), tt["STL"].mean()
    print(f"--- {st}: SPS(val) {sps:.4f}  STL {stl:.4f}  target {min(sps,stl) if st.startswith('mixed') else (sps*1.01 if st.startswith('rel') else stl*1.02):.4f}")
    for m in meths:
        if m not in tt or tt[m].isna().all(): continue
        v = tt[m].dropna(); r = tt.loc[v.index, "SPS (val)"]; diff = (v - r).values
        p = wilcoxon(diff).pvalue if len(v) > 5 else float("nan")
        au = a.loc[st][m].loc[v.index] if (st.startswith("mixed") and m in a.loc[st]) else None
        print(f"{m:45s} n={len(v):2d} {v.mean():.4f}±{v.std():.3f}  Δ%SPS {100*(v.mean()/r.mean()-1):+.2f} win {np.mean(diff<0):.2f} p {p:.3f}"
              + (f"  AUC {au.mean():.3f}" if au is not None else "") + (f" Δ%STL {100*(v.mean()/tt.loc[v.index,'STL'].mean()-1):+.2f}"))
