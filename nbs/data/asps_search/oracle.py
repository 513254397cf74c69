import numpy as np, math
from adaptive_mtl.data import _clusters
from adaptive_mtl.similarity import auc_vs_truth
def teachers(scenario, seed, K=6, p=10, h=5, rho=0.9):
    cl=_clusters(scenario,K); rng=np.random.default_rng(seed)
    L = np.linalg.cholesky(0.5 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p))))
    base = {c: (rng.standard_normal((h, p)), rng.standard_normal(h)) for c in np.unique(cl[cl >= 0])}
    T=[]
    for k in range(K):
        U = rng.standard_normal((h, p))
        if cl[k] >= 0: B0, a0 = base[cl[k]]; T.append((rho * B0 + math.sqrt(1 - rho ** 2) * U, a0))
        else: T.append((U, rng.standard_normal(h)))
    xs = rng.standard_normal((20000, p)) @ L.T
    F=np.stack([np.tanh(xs@B.T)@a for B,a in T])
    truth = ((cl[:, None] == cl[None, :]) & (cl[:, None] >= 0)) | np.eye(K, dtype=bool)
    return F, truth
for lo in (0,20):
    a=[]
    for s in range(lo,lo+20):
        F,t=teachers("mixed",s); a.append(auc_vs_truth(np.corrcoef(F),t))
    print(lo, np.round(a,3), np.mean(a))
