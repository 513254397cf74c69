"""Graph (pairwise) mean constraint: each task is pulled towards the similarity-weighted mean of the others,
R = λ0/(2K) Σ_kj A_kj Σ_i M_ki M_ji (w_ki − w_ji)², A = a map of the tracked similarity (A ≡ 1 gives SPS)."""
import sys, json, time, torch
sys.path.insert(0, "nbs/data/asps_search")
import cand
from cand import Pen, ASPSX, run

TRUTH = {}

class GraphPen(Pen):
    def __init__(self, amap="clamp", s0=0.0, gamma=1.0, oracle=False, **kw):
        super().__init__(**kw); self.amap, self.s0, self.gamma, self.oracle = amap, s0, gamma, oracle
    def A(self):
        if self.oracle: return torch.as_tensor(TRUTH["t"], dtype=torch.float32)
        S = self.tracker.matrix.clone()
        if self.amap == "shift": A = ((S - self.s0) / (1 - self.s0)).clamp(0, 1)
        else: A = S.clamp(0, 1)
        A = A ** self.gamma
        return A.fill_diagonal_(1.0)
    @property
    def lam_star(self):
        A = self.A(); return self.lam0 * (A.sum(1) - 1) / max(self.K - 1, 1)
    def _refresh(self, masks_changed=True):
        if masks_changed:
            self._removed = [int((~m).sum()) for m in self.masks]
            self._mf = [m.to(p.dtype).reshape(self.K, -1) for p, m in zip(self.params, self.masks)]
        A = self.A().to(self.params[0].dtype)
        self._Am = A
        self._N = [A @ mf for mf in self._mf]                       # Σ_j A_kj M_ji
        self._coef = [(None, None, None)] * len(self.params)
    def _deviation(self, j, p):
        W = p.reshape(self.K, -1); mf = self._mf[j]
        T = self._Am @ (mf * W)
        return (W - T / self._N[j].clamp(min=1e-12)).reshape(p.shape)
    def __call__(self, model, info):
        if self.params is None: raise ValueError("attach first")
        if self.rows == "buffer" and self._filling: self._collect(info)
        if info.step % self.update_every == 0 and self.lam0 > 0 and not self.oracle:
            self.tracker.update(self._S(model, info)); self._refresh(masks_changed=False)
        if self.lam0 == 0: return torch.zeros(())
        tot, devs, c = 0, [], self.lam0 / (2 * self.K)
        for j, p in enumerate(self.params):
            W = p.reshape(self.K, -1); mf = self._mf[j]; A = self._Am
            mw = mf * W
            # Σ_kj A_kj Σ_i M_ki M_ji (w_ki² + w_ji² − 2 w_ki w_ji) = 2 Σ_ki M_ki w_ki² N_ki − 2 Σ_ki mw_ki (A mw)_ki
            tot = tot + c * 2 * ((mw * W * self._N[j]).sum() - (mw * (A @ mw)).sum())
            if self.theta == "sign": devs.append(None)
        self._dev = None
        return tot
    def _count_conflicts(self):
        if any(p.grad is None for p in self.params): return
        c = self.lam0 / self.K
        for j, p in enumerate(self.params):
            d = self._deviation(j, p.detach()).reshape(self.K, -1)
            pg = 2 * c * self._mf[j] * self._N[j] * d
            tg = p.grad.reshape(self.K, -1) - pg
            r = self.runs[j].view(self.K, -1)
            r.add_(1); r.mul_(tg * d < 0)
    def _remove(self, step):
        return Pen._remove(self, step)

class GX(ASPSX):
    def _make(self):
        cfg = self.config(); ex = json.loads(cfg.pop("extra")); return GraphPen(**cfg, **ex)

cand.ASPSX = GX
_orig = cand.make_simulation
def _ms(*a, **k):
    s = _orig(*a, **k); TRUTH["t"] = s.truth; return s
cand.make_simulation = _ms

# ---- pilot similarity: correlation of per-task ridge fits' predictions on the pooled training inputs ----
import numpy as np
SIM = {}
def pilot_similarity(d, alpha=1.0, kind="lin", n_rf=100):
    X, y, t = d.X, d.y, d.task; K = len(d.task_names)
    F = X if kind == "lin" else np.tanh(X @ (np.random.default_rng(0).standard_normal((X.shape[1], n_rf)) / np.sqrt(X.shape[1])))
    F = (F - F.mean(0)) / F.std(0).clip(1e-12)
    P = []
    for k in range(K):
        Fk, yk = F[t == k], y[t == k]; yk = (yk - yk.mean()) / yk.std()
        P.append(F @ np.linalg.solve(Fk.T @ Fk + alpha * np.eye(F.shape[1]), Fk.T @ yk))
    return torch.as_tensor(np.corrcoef(np.array(P)), dtype=torch.float32)

def _pilot_attach(self, model):
    type(self).__mro__[1].attach(self, model)
    if self.pilot:
        self.tracker.matrix = pilot_similarity(SIM["train"], self.alpha, self.pkind).clone(); self.tracker.n_updates = 1
        if not self.ema: self.tracker.freeze_after = 1          # the pilot only
        self._refresh()

class PilotPen(Pen):
    def __init__(self, pilot=True, alpha=1.0, pkind="lin", ema=False, **kw):
        super().__init__(**kw); self.pilot, self.alpha, self.pkind, self.ema = pilot, alpha, pkind, ema
    def attach(self, model): _pilot_attach(self, model)

class GraphPilotPen(GraphPen):
    def __init__(self, pilot=True, alpha=1.0, pkind="lin", ema=False, **kw):
        super().__init__(**kw); self.pilot, self.alpha, self.pkind, self.ema = pilot, alpha, pkind, ema
    def attach(self, model): _pilot_attach(self, model)

class GX2(ASPSX):
    def _make(self):
        cfg = self.config(); ex = json.loads(cfg.pop("extra")); g = ex.pop("graph", False)
        return (GraphPilotPen if g else PilotPen)(**cfg, **ex)

def _ms2(*a, **k):
    s = _orig(*a, **k); TRUTH["t"] = s.truth; SIM["train"] = s.train; return s

if __name__ == "__main__":
    name, cfg, seeds, settings = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4].split(",")
    if cfg.pop("pilot_mode", False): cand.ASPSX = GX2; cand.make_simulation = _ms2
    lo, hi = map(int, seeds.split("-"))
    t = time.time(); cand.run(name, cfg, range(lo, hi + 1), settings, sys.argv[5])
    print(f"{name}: {time.time() - t:.0f}s", flush=True)
