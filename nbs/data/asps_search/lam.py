import os; os.environ["OMP_NUM_THREADS"]="1"
import torch; torch.set_num_threads(1)
import numpy as np
from adaptive_mtl.data import make_simulation
from adaptive_mtl.trainer import fit
from adaptive_mtl.methods import ASPS
for n in (50,200):
  L=[]
  for s in range(10):
    sm=make_simulation("mixed",n_train=n,seed=s); r=fit(ASPS(),sm.train,sm.val,seed=s,progress=False)
    L.append(r.method._pen.lam_star.numpy())
  L=np.array(L); print(n, "lam* related", L[:,:4].mean().round(3), "unrelated", L[:,4:].mean().round(3))
