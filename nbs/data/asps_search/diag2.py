import os; os.environ["OMP_NUM_THREADS"]="1"
import torch; torch.set_num_threads(1)
import numpy as np, pandas as pd
from adaptive_mtl.data import make_simulation, Scaler, TaskTensors
from adaptive_mtl.trainer import fit
from adaptive_mtl.methods import ASPS
from adaptive_mtl.similarity import auc_vs_truth, cosine_matrix, gradient_cosine, SimilarityTracker
import adaptive_mtl.soft as soft
rec=[]
orig=soft.AdaptiveSoftPenalty.__call__
def call(self, model, info):
    if info.step % 10 == 0:
        if info.step==0: self._tr={k:SimilarityTracker(6,0.9) for k in ("pred","grad","resid")}
        g=torch.autograd.grad(info.task_losses.sum(), self.params, retain_graph=True)
        with torch.no_grad():
            K=model.n_tasks; X=self._X; pred=model(X.expand(K,*X.shape))
            Ss={"pred":cosine_matrix(pred,center=True),"grad":gradient_cosine(g),"resid":cosine_matrix(pred-pred.mean(0,keepdim=True),center=True)}
            for k,v in Ss.items(): self._tr[k].update(v)
        r=dict(seed=self._seed, step=info.step)
        for k in Ss: r[k]=auc_vs_truth(Ss[k].numpy(),self._truth); r["ema_"+k]=auc_vs_truth(self._tr[k].matrix.numpy(),self._truth)
        r["ema_p+g"]=auc_vs_truth((self._tr["pred"].matrix+self._tr["grad"].matrix).numpy(),self._truth)
        r["p+g"]=auc_vs_truth((Ss["pred"]+Ss["grad"]).numpy(),self._truth)
        rec.append(r)
    return orig(self, model, info)
soft.AdaptiveSoftPenalty.__call__=call
n=int(os.environ.get("N","50"))
for s in range(20):
    sm=make_simulation("mixed",n_train=n,seed=s)
    tt=TaskTensors(sm.train, Scaler.fit(sm.train)); x,y,m=tt.full()
    soft.AdaptiveSoftPenalty._X=x[m]; soft.AdaptiveSoftPenalty._truth=sm.truth; soft.AdaptiveSoftPenalty._seed=s
    r=fit(ASPS(),sm.train,sm.val,seed=s,progress=False)
    rec.append(dict(seed=s, step=-1, best_step=int(r.history.step.iloc[r.best_epoch])))
d=pd.DataFrame(rec)
best=d[d.step==-1].set_index("seed").best_step
dd=d[d.step>=0].copy(); dd["rel"]=dd.step-dd.seed.map(best)
cols=[c for c in dd.columns if c not in ("seed","step","rel","best_step")]
print("restored:", dd[dd.rel<=0].groupby("seed").tail(1)[cols].mean().round(3).to_dict())
print("by step:"); print(dd.groupby("step")[cols].mean().round(3).head(12).to_string())
