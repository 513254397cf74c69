"Reliability-shrunk pilot: A = rho_kj clip(S) + (1 - rho_kj), rho_kj = sqrt(rho_k rho_j), rho_k = Spearman-Brown split-half reliability."
import os, sys, json, math
os.environ["OMP_NUM_THREADS"] = "1"
import torch; torch.set_num_threads(1)
import numpy as np, pandas as pd
from dataclasses import dataclass
from adaptive_mtl.soft import AdaptiveSoftPenalty
from adaptive_mtl.methods import ASPS
from adaptive_mtl.similarity import pilot_similarity

def reliability(x, y, mask=None, seed=1):
    K, n, p = x.shape
    m = torch.ones(K, n, dtype=torch.bool, device=x.device) if mask is None else mask.bool()
    u = torch.rand(K, n, generator=torch.Generator().manual_seed(seed)).to(x.device)
    u = torch.where(m, u, torch.full_like(u, 2.0))
    rk = u.argsort(1).argsort(1); h1 = m & (rk < m.sum(1, keepdim=True) // 2); h2 = m & ~h1
    S = pilot_similarity(torch.cat([x, x]), torch.cat([y, y]), torch.cat([h1, h2]))
    r = S[torch.arange(K), torch.arange(K) + K].clamp(min=0)
    return 2 * r / (1 + r)

class RelPen(AdaptiveSoftPenalty):
    def prepare(self, x, y, mask=None):
        super().prepare(x, y, mask)
        rho = reliability(x, y, mask).cpu(); R = (rho[:, None] * rho[None]).sqrt()
        A = R * self.tracker.matrix.clamp(0, 1) + (1 - R)
        self.tracker.matrix = A.fill_diagonal_(1.0); self._refresh(masks_changed=False)

@dataclass(repr=False)
class ASPSRel(ASPS):
    def __post_init__(self): self._pen = RelPen(**self.config())
    def attach(self, model, optimizer=None): self._pen = RelPen(**self.config()); self._pen.attach(model)

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "schools":
        c = json.load(open("nbs/11_case_schools.ipynb"))["cells"]
        g = {}
        for x in c:
            s = "".join(x["source"])
            if x["cell_type"] == "code" and "#| slow" not in s: 
                try: exec(s, g)
                except Exception as e: pass
            if "def run_split" in s: break
        import adaptive_mtl.methods as M
        g["get_method"] = lambda m: ASPSRel() if m == "aspsrel" else M.get_method(m)
        rows = pd.concat([g["run_split"](s, methods=["aspsrel"]) for s in range(10)])
        rows.to_csv("nbs/data/asps_search/case_schools_rel.csv", index=False)
        print(rows.groupby("method").mse.mean().round(3))
    else:
        lo, hi, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        c = json.load(open("nbs/03_soft.ipynb"))["cells"]
        g = {}
        for cid in ["42955ffe", "dcbc961b", "cdff9b74", "e7ca41b1"]:
            exec("".join([x for x in c if x["id"] == cid][0]["source"]), g)
        g["study"]({"ASPS rel": ASPSRel()}, range(lo, hi), out=out, controls=False)
