"""Poisson and Bernoulli tasks through the shared properties of every method: the batched deviance equals a per-task loop of
PyTorch's losses, save/load is exact, a seed fixes the fit, a replicate in a batch equals its fit alone, bad targets are
named, and predictions are means on the response scale."""
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from adaptive_mtl.data import MultiTaskData
from adaptive_mtl.trainer import fit, load, task_losses
from adaptive_mtl.replicates import fit_replicates

torch.set_num_threads(1)
FAST = dict(epochs=8, hidden=(8, 8), batch_size=8, patience=4, progress=False)
METHODS = ["stl", "hps", "sps", "ahps", "asps"]
K, N, P = 4, 60, 3

def grouped(family: str, seed: int = 0) -> tuple:
    "(train, val, test) of K tasks whose counts or 0/1 outcomes follow a GLM in 3 features, a different intercept per task."
    r = np.random.default_rng(seed)
    X = r.normal(size=(K * N, P)); task = np.repeat(np.arange(K), N)
    eta = X @ r.normal(size=P) * 0.5 + np.linspace(-0.5, 0.5, K)[task]
    y = r.poisson(np.exp(eta)) if family == "poisson" else r.binomial(1, 1 / (1 + np.exp(-eta)))
    return MultiTaskData.from_groups(X, y.astype(float), task).split(0.2, 0.3, seed=seed)

@pytest.fixture(scope="module")
def data(): return {f: grouped(f) for f in ("poisson", "bernoulli")}

@pytest.fixture(scope="module")
def fits(data): return {(f, m): fit(m, d[0], d[1], family=f, seed=1, **FAST) for f, d in data.items() for m in METHODS}

FAMILY_METHOD = pytest.mark.parametrize("family, name", [(f, m) for f in ("poisson", "bernoulli") for m in METHODS])

def test_batched_deviance_equals_a_per_task_loop_of_torch_losses():
    torch.manual_seed(0)
    pred = torch.randn(4, 30, dtype=torch.float64)
    y = torch.stack([torch.poisson(torch.exp(pred[0])), torch.poisson(torch.exp(pred[1])),
                     torch.bernoulli(torch.sigmoid(pred[2])), torch.bernoulli(torch.sigmoid(pred[3]))])
    mask = torch.rand(4, 30) > 0.3
    codes = torch.tensor([1, 1, 2, 2])
    loop = []
    for k in range(4):
        p, t = pred[k][mask[k]], y[k][mask[k]]
        if codes[k] == 1: loop.append(2 * (F.poisson_nll_loss(p, t, log_input=True, full=False) + (torch.xlogy(t, t) - t).mean()))
        else: loop.append(2 * F.binary_cross_entropy_with_logits(p, t))
    torch.testing.assert_close(task_losses(pred, y, mask, codes=codes), torch.stack(loop), rtol=1e-10, atol=1e-12)

@FAMILY_METHOD
def test_predictions_are_means_and_the_history_is_the_deviance(fits, data, family, name):
    r, (_, val, test) = fits[family, name], data[family]
    p = r.predict(test)
    assert np.isfinite(p).all() and (p > 0).all() and (family == "poisson" or (p < 1).all())
    np.testing.assert_allclose(r.predict(test, standardized=True), p)                  # counts and 0/1 are not standardised
    link = np.log(p) if family == "poisson" else np.log(p / (1 - p))
    np.testing.assert_allclose(r.predict_linear(test), link, rtol=1e-6, atol=1e-6)
    ev = r.evaluate(val)
    metric = {"poisson": "deviance", "bernoulli": "log_loss"}[family]
    factor = 1.0 if family == "poisson" else 2.0                                       # the loss is the unit deviance: 2 x log loss
    row = r.history.iloc[r.best_epoch]
    np.testing.assert_allclose([row[f"val_{t}"] for t in r.task_names], factor * ev.loc[[str(t) for t in r.task_names], metric], rtol=1e-4)
    if family == "bernoulli": assert {"brier", "auc"} <= set(ev.columns) and 0 <= ev.loc["overall", "auc"] <= 1

@FAMILY_METHOD
def test_save_load_round_trip_and_seed(fits, data, family, name, tmp_path):
    r, (train, val, test) = fits[family, name], data[family]
    back = load(r.save(tmp_path / "m.pt"))
    np.testing.assert_array_equal(back.predict(test), r.predict(test))
    np.testing.assert_array_equal(back.scaler.family, r.scaler.family)
    again = fit(name, train, val, family=family, seed=1, **FAST)
    np.testing.assert_array_equal(again.predict(test), r.predict(test))

@pytest.mark.parametrize("family", ["poisson", "bernoulli"])
@pytest.mark.parametrize("name", ["hps", "ahps", "asps"])
def test_a_replicate_equals_its_fit_alone(family, name):
    draws = [grouped(family, s) for s in (3, 4)]
    batched = fit_replicates(name, [(tr, va) for tr, va, _ in draws], [3, 4], family=family, **{k: v for k, v in FAST.items() if k != "progress"})
    for b, (tr, va, te), s in zip(batched, draws, (3, 4)):
        a = fit(name, tr, va, family=family, seed=s, **FAST)
        assert b.best_epoch == a.best_epoch
        assert abs(b.evaluate(te).loc["overall", "mse"] / a.evaluate(te).loc["overall", "mse"] - 1) < 1e-5

def test_one_family_per_target_in_the_targets_layout():
    r = np.random.default_rng(0); X = r.normal(size=(200, 3)); eta = X[:, 0] * 0.7
    Y = pd.DataFrame({"income": X[:, 1] + r.normal(size=200), "visits": r.poisson(np.exp(eta)), "used": r.binomial(1, 1 / (1 + np.exp(-eta)))})
    Y.loc[::9, "visits"] = np.nan                                                         # unobserved counts are masked, not errors
    train, val, test = MultiTaskData.from_targets(X, Y.astype(float)).split(0.2, 0.2, seed=0)
    res = fit("hps", train, val, family={"visits": "poisson", "used": "bernoulli"}, **FAST)
    ev = res.evaluate(test)
    assert np.isnan(ev.loc["income", "deviance"]) and np.isfinite(ev.loc["visits", "deviance"]) and np.isfinite(ev.loc["used", "log_loss"])
    p = res.predict(test)
    assert ((p[:, 2] > 0) & (p[:, 2] < 1)).all() and (p[:, 1] > 0).all()

def test_bad_targets_are_named_and_nothing_is_dropped(data):
    train, val, _ = data["poisson"]
    y = train.y.copy(); y[5] = -1.0; y[7] = 2.5
    bad = MultiTaskData.from_groups(train.X, y, np.asarray(train.task_names)[train.task])
    with pytest.raises(ValueError, match=r"is poisson: its targets must be non-negative integers .* 2 are not: row 5 \(-1\), row 7 \(2.5\)"):
        fit("hps", bad, family="poisson", **FAST)
    frac = MultiTaskData.from_groups(train.X, np.abs(y), np.asarray(train.task_names)[train.task])
    assert np.isfinite(fit("hps", frac, family="poisson", fractional=True, **FAST).predict(frac)).all()   # rates, on request
    with pytest.raises(ValueError, match="is bernoulli: its targets must be 0 or 1"):
        fit("hps", train, val, family="bernoulli", **FAST)                                   # counts are not 0/1
    with pytest.raises(ValueError, match="unknown family"): fit("hps", train, family="binomial", **FAST)
    with pytest.raises(ValueError, match="train one network at a time"):
        fit_replicates("hps", (train, val), [0, 1], family="poisson", random_effects="intercept", epochs=2)

@pytest.mark.parametrize("family", ["poisson", "bernoulli"])
def test_random_effects_for_counts_and_yes_no(data, family, tmp_path):
    "A random intercept per task (GLMM, Laplace-approximate EM) on top of the network: a finite fit, exact round trip, population prediction for a new task."
    train, val, test = data[family]
    r = fit("hps", train, val, family=family, random_effects="intercept", seed=0, **FAST)
    assert type(r.random).__name__ == "GLMMEffects" and float(r.random.G[0, 0]) > 0 and "re_var_intercept" in r.history
    p = r.predict(test); assert np.isfinite(p).all() and (p > 0).all()
    back = load(r.save(tmp_path / "m.pt")); np.testing.assert_array_equal(back.predict(test), p)
    new = MultiTaskData.from_groups(test.X[:5], test.y[:5], ["a new task"] * 5)
    assert np.isfinite(r.predict(new)).all()                                        # random effect 0: the population prediction

def test_run_study_reports_the_family_deviance(tmp_path):
    "A study with family='poisson' (fit_kwargs) adds test_deviance per task, the peers' included; summarize compares on it."
    from adaptive_mtl.experiment import Peer, Simulated, run_study, summarize
    mean_peer = Peer(lambda tr, va, te: np.full(len(te), tr.y.mean()))            # one expected count for everyone
    res = run_study({"hps": "hps", "mean": mean_peer}, {"pois": Simulated(scenario="mixed", n_train=60, n_test=200, family="poisson")},
                    seeds=range(2), out=tmp_path / "r.csv", fit_kwargs=dict(family="poisson", epochs=15, hidden=(8,)), progress=False)
    assert res.test_deviance.notna().all() and len(res) == 2 * 2 * 6
    s = summarize(res, metric="test_deviance").set_index("method")
    assert s.loc["hps", "deviance_mean"] < s.loc["mean", "deviance_mean"]              # the network beats the constant

def test_estimator_scores_counts_by_d2():
    "MTLRegressor(family='poisson').score is D², the share of the intercept-only deviance explained (scikit-learn's GLM score)."
    from sklearn.metrics import d2_log_loss_score, d2_tweedie_score
    from adaptive_mtl.estimator import _d2
    r = np.random.default_rng(0); y = r.poisson(2.0, 200).astype(float); mu = np.clip(y + r.normal(0, 1, 200), 0.1, None)
    np.testing.assert_allclose(_d2(y, mu, None, 1), d2_tweedie_score(y, mu, power=1), rtol=1e-9)
    yb = r.integers(0, 2, 200).astype(float); p = np.clip(0.5 + 0.3 * (yb - 0.5) + r.normal(0, 0.1, 200), 0.01, 0.99)
    np.testing.assert_allclose(_d2(yb, p, None, 2), d2_log_loss_score(yb, np.c_[1 - p, p]), rtol=1e-9)

def test_variance_components_of_a_logistic_network(data):
    "A Bernoulli network's random intercept is reported on the latent logistic scale: residual variance pi^2/3, ICC = G / (G + pi^2/3)."
    train, val, _ = data["bernoulli"]
    vc = fit("hps", train, val, family="bernoulli", random_effects="intercept", seed=0, **FAST).variance_components()
    g = vc.iloc[0]["variance"]
    np.testing.assert_allclose(vc.loc["residual", "variance"], np.pi ** 2 / 3); np.testing.assert_allclose(vc.attrs["icc"], g / (g + np.pi ** 2 / 3))
    counts = fit("hps", *data["poisson"][:2], family="poisson", random_effects="intercept", seed=0, **FAST).variance_components()
    assert "residual" not in counts.index and np.isnan(counts.attrs["icc"])


def exposed(seed: int = 0, n: int = 600) -> tuple:
    "(train, val, test) of K tasks of counts with exposures from e^-1.5 to e^1.5: y ~ Poisson(exposure x rate(x))."
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, P)); task = r.integers(0, K, n); log_e = r.uniform(-1.5, 1.5, n)
    y = r.poisson(np.exp(log_e + 0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.2 * task)).astype(float)
    return MultiTaskData.from_groups(X, y, task, offset=log_e).split(0.2, 0.3, seed=seed)

def test_an_offset_is_a_log_exposure():
    "With offset=log(exposure) the prediction is exposure x rate: doubling the exposure doubles it; it fits varying exposures far better than no offset."
    from adaptive_mtl.families import response_deviance
    gains = []
    for seed in range(2):
        tr, va, te = exposed(seed)
        plain = [MultiTaskData(d.X, d.y, d.task, d.task_names, d.feature_names, "groups") for d in (tr, va, te)]
        a = fit("stl", tr, va, family="poisson", seed=seed, epochs=60, progress=False)
        b = fit("stl", plain[0], plain[1], family="poisson", seed=seed, epochs=60, progress=False)
        twice = MultiTaskData(te.X, te.y, te.task, te.task_names, te.feature_names, "groups", te.info, te.offset + np.log(2))
        np.testing.assert_allclose(a.predict(twice), 2 * a.predict(te), rtol=1e-5)
        np.testing.assert_allclose(a.predict_linear(te), np.log(a.predict(te)), rtol=1e-5, atol=1e-6)
        gains.append(response_deviance(te.y, b.predict(plain[2]), 1).mean() - response_deviance(te.y, a.predict(te), 1).mean())
    assert min(gains) > 0.5, gains                                  # mean Poisson deviance per row, about 2.6 without vs 1.1 with

@pytest.mark.parametrize("name", ["hps", "asps"])
def test_offset_save_load_replicates_and_random_effects(name, tmp_path):
    tr, va, te = exposed(3)
    r = fit(name, tr, va, family="poisson", seed=2, **FAST)
    r.save(tmp_path / "m.pt"); np.testing.assert_array_equal(load(tmp_path / "m.pt").predict(te), r.predict(te))
    batched = fit_replicates(name, [(tr, va)] * 2, [2, 5], family="poisson", **{k: v for k, v in FAST.items() if k != "progress"})
    np.testing.assert_allclose(batched[0].predict(te), r.predict(te), rtol=1e-5)
    glmm = fit(name, tr, va, family="poisson", random_effects="intercept", seed=2, **FAST)
    assert np.isfinite(glmm.predict(te)).all() and glmm.predict(te).min() > 0
    no = MultiTaskData(te.X, te.y, te.task, te.task_names, te.feature_names, "groups")
    with pytest.raises(ValueError, match="fitted with an offset"): r.predict(no)

def test_offset_errors_are_named(data):
    tr, va, _ = exposed(4)
    plain_val = MultiTaskData(va.X, va.y, va.task, va.task_names, va.feature_names, "groups")
    with pytest.raises(ValueError, match="validation split not"): fit("stl", tr, plain_val, family="poisson", **FAST)
    with pytest.raises(ValueError, match="task 0 is Gaussian"): fit("stl", tr, va, **FAST)
    with pytest.raises(ValueError, match="NaN/inf"): MultiTaskData.from_groups(tr.X, tr.y, tr.task, offset=np.full(len(tr), -np.inf))
    with pytest.raises(ValueError, match="without one"): fit("stl", *data["poisson"][:2], family="poisson", **FAST).predict(tr)

def test_estimator_takes_an_offset():
    from adaptive_mtl.estimator import MTLRegressor
    tr, _, te = exposed(5)
    m = MTLRegressor(method="stl", family="poisson", epochs=10, n_members=1, random_effects=None).fit(tr.X, tr.y, tr.task, offset=tr.offset)
    twice = m.predict(te.X, te.task, offset=te.offset + np.log(3))
    np.testing.assert_allclose(twice, 3 * m.predict(te.X, te.task, offset=te.offset), rtol=1e-5)
    with pytest.raises(ValueError, match="fitted with an offset"): m.predict(te.X, te.task)
