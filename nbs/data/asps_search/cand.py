"Candidate ASPS variants: run fits on settings x seeds, append rows to a CSV (same columns as soft_study.csv)."
import os, sys, json, math, time
os.environ["OMP_NUM_THREADS"] = "1"
import torch; torch.set_num_threads(1)
import pandas as pd
from dataclasses import dataclass
from pathlib import Path
from adaptive_mtl.data import make_simulation
from adaptive_mtl.trainer import fit
from adaptive_mtl.methods import ASPS, StepInfo
from adaptive_mtl.soft import AdaptiveSoftPenalty
from adaptive_mtl.similarity import auc_vs_truth, cosine_matrix, pooled_inputs, parameter_cosine

class Pen(AdaptiveSoftPenalty):
    def __init__(self, rows="batch", fisher=False, start=0, measure="pred", power=1.0, wmean=False, simcap=False, mapping="linear", s_max=0.95, **kw):
        self.mapping, self.s_max = mapping, s_max
        kw_simcap = [simcap]
        super().__init__(**kw); self.rows, self.fisher, self.start, self.measure, self.power = rows, fisher, start, measure, power
        self.wmean = wmean; self.simcap = kw_simcap[0]
    def _remove(self, step):
        if not (self.simcap and self.theta == "sign"): return super()._remove(step)
        changed = False
        s_bar = (self.lam_star / self.lam0).clamp(0, 1) if self.power == 1 else None
        S = self.tracker.matrix; s_bar = ((S.sum(1) - S.diag()) / (self.K - 1)).clamp(0, 1)
        for j, (p, m) in enumerate(zip(self.params, self.masks)):
            per = m.numel() // self.K
            cap = torch.floor(self.theta_max * (1 - s_bar) * per).long()          # [K]
            a = self._deviation(j, p.detach()).abs()
            cand = m & (self.runs[j] >= self.patience)
            score = a.masked_fill(~cand, -1.0).reshape(self.K, -1)
            rem = (~m).reshape(self.K, -1).sum(1)
            for k in range(self.K):
                n_k = min(int(cap[k] - rem[k]), int((score[k] >= 0).sum()))
                if n_k <= 0: continue
                idx = score[k].topk(n_k).indices
                m.view(self.K, -1)[k, idx] = False; changed = True
            self._removed[j] = int((~m).sum())
        return changed
    def _deviation(self, j, p):
        if not self.wmean: return super()._deviation(j, p)
        c = self._coef[j][0]
        ws = c.sum(0, keepdim=True)
        return p - (p * c).sum(0, keepdim=True) / ws.clamp(min=1e-12)
    def _count_conflicts(self):
        if not self.wmean: return super()._count_conflicts()
        ds, self._dev = self._dev, None
        if any(p.grad is None for p in self.params): return
        if ds is None: ds = [self._deviation(j, p.detach()) for j, p in enumerate(self.params)]
        cd = torch._foreach_mul([c[2] for c in self._coef], ds)     # weighted mean: the gradient is 2 c d exactly
        task_g = torch._foreach_sub([p.grad for p in self.params], cd)
        prod = torch._foreach_mul(task_g, ds)
        torch._foreach_add_(self.runs, 1)
        torch._foreach_mul_(self.runs, [x < 0 for x in prod])
    @property
    def lam_star(self):
        S = self.tracker.matrix
        off = (S.sum(1) - S.diag()) / max(self.K - 1, 1)
        if getattr(self, "mapping", "linear") == "precision": return self.lam0 / (1 - off.clamp(0, self.s_max))
        return self.lam0 * off.clamp(min=0) ** self.power
    def attach(self, model):
        import copy
        super().attach(model); self._buf = None; self._bufy = None; self._filling = True; self._z = None
        self._m0 = copy.deepcopy(model).eval() if self.measure == "delta" else None
    def _collect(self, info):
        x, mask = info.x, info.mask
        if x.shape[0] > 1 and x.stride(0) == 0: rows = x[0][mask.any(0)]
        else: rows = x[mask.bool()]
        rows = rows.detach()
        if self._buf is None: self._buf = rows.unique(dim=0); return
        new = ~(rows[:, None, :] == self._buf[None]).all(-1).any(1)
        if not bool(new.any()): self._filling = False; return
        self._buf = torch.cat([self._buf, rows[new].unique(dim=0)])
        if len(self._buf) >= self.max_rows: self._filling = False
    @torch.no_grad()
    def _S(self, model, info):
        if self.rows == "batch": rows = pooled_inputs(info.x, info.mask, self.max_rows)
        else:
            rows = self._buf
            if len(rows) > self.max_rows: rows = rows[torch.linspace(0, len(rows) - 1, self.max_rows).long()]
        K = model.n_tasks
        pred = model(rows.expand(K, *rows.shape))
        if self._m0 is not None: pred = pred - self._m0(rows.expand(K, *rows.shape))
        return cosine_matrix(pred, center=True)
    def __call__(self, model, info):
        if self.params is None: raise ValueError("attach first")
        if self.rows == "buffer" and self._filling: self._collect(info)
        if info.step % self.update_every == 0 and info.step >= self.start and self.lam0 > 0:
            S = self._S(model, info)
            if self.fisher:
                z = torch.atanh(S.clamp(-0.999, 0.999))
                self._z = z if self._z is None else self.beta * self._z + (1 - self.beta) * z
                self.tracker.matrix = torch.tanh(self._z).fill_diagonal_(1.0); self.tracker.n_updates += 1
            else:
                self.tracker.update(S)
            self._refresh(masks_changed=False)
        if self.lam0 == 0: return torch.zeros(())
        tot, devs = 0, []
        for j, (p, (c, inv, _)) in enumerate(zip(self.params, self._coef)):
            d = self._deviation(j, p); tot = tot + (d * d * c).sum(); devs.append(d)
        self._dev = devs if self.theta == "sign" else None
        return tot

EXTRA = ("rows", "fisher", "start", "measure", "max_rows")
@dataclass(repr=False)
class ASPSX(ASPS):
    extra: str = "{}"
    def _make(self):
        cfg = self.config(); ex = json.loads(cfg.pop("extra")); return Pen(**cfg, **ex)
    def __post_init__(self): self._pen = self._make()
    def attach(self, model, optimizer=None): self._pen = self._make(); self._pen.attach(model)

SETTINGS = {"m50": ("mixed", 50), "m200": ("mixed", 200), "rel": ("related", 200), "unr": ("unrelated", 200)}

def run(name, cfg, seeds, settings, out):
    out = Path(out); done = set()
    if out.exists():
        d0 = pd.read_csv(out); d0 = d0[d0.method == name]; done = set(zip(d0.scenario, d0.n_train, d0.seed))
    base = {k: cfg.pop(k) for k in list(cfg) if k in ASPS.__dataclass_fields__}
    m = ASPSX(**base, extra=json.dumps(cfg))
    for s in seeds:
        for st in settings:
            sc, n = SETTINGS[st]
            if (sc, n, s) in done: continue
            sm = make_simulation(sc, n_train=n, seed=s)
            r = fit(m, sm.train, sm.val, seed=s, progress=False); pen = r.method._pen
            row = dict(scenario=sc, n_train=n, seed=s, method=name, val=float(r.history.val_loss.iloc[r.best_epoch]),
                       test=float(r.evaluate(sm.test, standardized=True).loc["overall", "mse"]),
                       auc=auc_vs_truth(pen.tracker.matrix, sm.truth), theta=pen.theta_t)
            pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)

if __name__ == "__main__":
    name, cfg, seeds, settings = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4].split(",")
    lo, hi = map(int, seeds.split("-"))
    t = time.time(); run(name, cfg, range(lo, hi + 1), settings, sys.argv[5] if len(sys.argv) > 5 else "nbs/data/asps_search/rows.csv")
    print(f"{name}: {time.time() - t:.0f}s", flush=True)
