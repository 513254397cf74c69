"AUC of the true teacher functions' correlation (the ceiling of any prediction-based similarity), mixed scenario, n = 50."
import numpy as np
from adaptive_mtl.data import make_simulation
from adaptive_mtl.similarity import auc_vs_truth
for lo in (0, 20):
    a = []
    for s in range(lo, lo + 20):
        sim = make_simulation("mixed", n_train=50, seed=s)
        F = np.stack([np.tanh(sim.test.X @ B.T) @ a_ for B, a_ in sim.teachers])      # every teacher on the same test inputs
        a.append(auc_vs_truth(np.corrcoef(F), sim.truth))
    print(lo, np.round(a, 3), np.mean(a))
