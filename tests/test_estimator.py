"""MTLRegressor: scikit-learn contract, both ways of routing task labels through cross_val_score and GridSearchCV."""
import warnings
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score, StratifiedKFold
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.estimator import MTLRegressor
from adaptive_mtl.methods import SPS

torch.set_num_threads(1)
FAST = dict(epochs=15, hidden=(16,))

@pytest.fixture(scope="module")
def groups():
    sim = make_simulation("mixed", n_train=40, n_test=10, seed=0)
    d = sim.train
    rng = np.random.default_rng(0); o = rng.permutation(len(d))
    X = pd.DataFrame(d.X[o], columns=[f"f{j}" for j in range(d.n_features)])
    return X, d.y[o], np.array(d.task_names)[d.task[o]]

def test_get_set_params_and_clone():
    r = MTLRegressor(method=SPS(lam=0.2), lr=0.01)
    assert r.get_params()["lr"] == 0.01 and r.set_params(epochs=7).epochs == 7
    c = clone(r); assert c.method.lam == 0.2 and c.method is not r.method

@pytest.mark.parametrize("method", ["stl", "hps", "sps", "ahps", "asps"])
def test_every_method_fits_and_predicts(groups, method):
    X, y, t = groups
    r = MTLRegressor(method, **FAST).fit(X, y, tasks=t)
    assert r.result_.method.name.lower() == method and r.predict(X, tasks=t).shape == (len(X),)

def test_cross_val_score_with_metadata_routing_equals_task_col(groups):
    X, y, t = groups
    cv = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, t))
    with sklearn.config_context(enable_metadata_routing=True):
        a = cross_val_score(MTLRegressor("hps", **FAST), X, y, params={"tasks": t}, cv=cv)
    b = cross_val_score(MTLRegressor("hps", task_col="task", **FAST), X.assign(task=t), y, cv=cv)
    np.testing.assert_allclose(a, b)
    assert np.isfinite(a).all()

def test_task_col_as_array_index(groups):
    X, y, t = groups
    codes = pd.factorize(t)[0].astype(float)
    Xa = np.column_stack([codes, X.to_numpy()])
    r = MTLRegressor("hps", task_col=0, **FAST).fit(Xa, y)
    assert r.n_features_in_ == X.shape[1] and r.n_tasks_ == 6 and np.isfinite(r.score(Xa, y))
    with pytest.raises(ValueError, match="task_col must be"): MTLRegressor(task_col="task").fit(Xa, y)

def test_grid_search_cv3_routes_tasks(groups):
    X, y, t = groups
    with sklearn.config_context(enable_metadata_routing=True):
        gs = GridSearchCV(MTLRegressor(**FAST), {"method": ["hps", "sps"], "lr": [3e-3, 1e-2]}, cv=3).fit(X, y, tasks=t)
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all() and gs.best_params_["method"] in ("hps", "sps")
    gs2 = GridSearchCV(MTLRegressor(task_col="task", **FAST), {"method_params": [{"lam": 0.01}, {"lam": 0.1}], "method": ["sps"]},
                       cv=3).fit(X.assign(task=t), y)
    assert np.isfinite(gs2.cv_results_["mean_test_score"]).all()

def test_without_routing_the_missing_test_labels_are_a_clear_error(groups):
    X, y, t = groups
    with pytest.raises(ValueError, match="pass tasks="):
        cross_val_score(MTLRegressor("hps", **FAST), X, y, params={"tasks": t}, cv=3, error_score="raise")

def test_targets_layout_with_missing_values():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4)); Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(120, 3))
    Y[rng.random(Y.shape) < 0.1] = np.nan
    r = MTLRegressor("hps", **FAST).fit(X, Y)
    assert r.layout_ == "targets" and r.predict(X).shape == (120, 3) and r.score(X, Y) > 0

def test_bad_input():
    X, y = np.zeros((10, 2)), np.arange(10.)
    with pytest.raises(ValueError, match="tasks has 9 labels"): MTLRegressor(**FAST).fit(X, y, tasks=["a"] * 9)
    with pytest.raises(ValueError, match="not both"): MTLRegressor(task_col=0).fit(X, y, tasks=["a"] * 10)
    with pytest.raises(ValueError, match="validation_fraction"): MTLRegressor(validation_fraction=1.5).fit(X, y)
    with pytest.raises(ValueError, match="NaN"): MTLRegressor(**FAST).fit(X, np.r_[np.nan, y[1:]])

@pytest.mark.parametrize("method", ["hps", "ahps"])
def test_sklearn_estimator_checks(method):
    """Every scikit-learn API check passes without task labels (one task: a plain network regressor).
    Not applicable: the array-API check (skipped by sklearn unless SCIPY_ARRAY_API is set; torch models take numpy)."""
    from sklearn.utils.estimator_checks import check_estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pd.DataFrame(check_estimator(MTLRegressor(method=method, epochs=30, hidden=(16,)), on_fail=None))
    failed = res[res.status == "failed"]
    assert failed.empty, failed[["check_name", "exception"]].to_string()
    assert set(res[res.status == "skipped"].check_name) <= {"check_array_api_input"}
