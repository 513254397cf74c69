"""MTLRegressor: scikit-learn contract, both ways of routing task labels through cross_val_score and GridSearchCV,
folds stratified by task on rows sorted by task, unseen tasks as a named error, WHICH_METHOD against the README."""
import pickle, re, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score, StratifiedKFold
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.estimator import MTLRegressor, UnseenTaskError, WHICH_METHOD, task_folds
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

@pytest.fixture(scope="module")
def sorted_groups(groups):
    "The same rows sorted by task, as a data file grouped by school lists them."
    X, y, t = groups
    o = np.argsort(t, kind="stable")
    return X.iloc[o].reset_index(drop=True), y[o], t[o]

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
        gs = GridSearchCV(MTLRegressor(**FAST), {"method": ["hps", "sps"]}, cv=3).fit(X, y, tasks=t)
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

def test_readme_grid_search_on_rows_sorted_by_task(sorted_groups):
    "The README's call on rows sorted by task: folds stratified by task give a finite score for every candidate."
    X, y, t = sorted_groups
    folds = task_folds(t)
    assert all(set(t[train]) == set(t) for train, _ in folds)
    with sklearn.config_context(enable_metadata_routing=True):
        gs = GridSearchCV(MTLRegressor(**FAST), {"method": ["hps", "ahps"]}, cv=task_folds(t), error_score="raise").fit(X, y, tasks=t)
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all() and gs.best_params_["method"] in ("hps", "ahps")

def test_plain_folds_on_rows_sorted_by_task_never_score_nan_silently(sorted_groups):
    "cv=3 on sorted rows leaves tasks out of training: with unseen='error' a named error, or (sklearn's default error_score) NaN and a warning naming it."
    X, y, t = sorted_groups
    STRICT = dict(FAST, unseen="error")
    with sklearn.config_context(enable_metadata_routing=True):
        pop = cross_val_score(MTLRegressor(**FAST), X, y, params={"tasks": t}, cv=3, error_score="raise")   # default: population predictions
        assert np.isfinite(pop).all()
        with pytest.raises(UnseenTaskError, match="not seen in fit.*task_folds"):
            GridSearchCV(MTLRegressor(**STRICT), {"method": ["hps", "ahps"]}, cv=3, error_score="raise").fit(X, y, tasks=t)
        with pytest.raises(UnseenTaskError):
            cross_val_score(MTLRegressor(**STRICT), X, y, params={"tasks": t}, cv=3, error_score="raise")
        with pytest.warns(UserWarning, match="UnseenTaskError"):
            scores = cross_val_score(MTLRegressor(**STRICT), X, y, params={"tasks": t}, cv=3)
    assert np.isnan(scores).all()

def test_unseen_task_error(groups):
    X, y, t = groups
    keep = t != t[0]
    r = MTLRegressor("hps", unseen="error", **FAST).fit(X[keep], y[keep], tasks=t[keep])
    with pytest.raises(UnseenTaskError) as e: r.score(X, y, tasks=t)
    assert isinstance(e.value, ValueError) and e.value.tasks == [t[0]] and f"({(~keep).sum()} rows)" in str(e.value)
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is UnseenTaskError and back.tasks == [t[0]] and str(back) == str(e.value)
    with pytest.raises(UnseenTaskError, match="'nope'"): r.predict(X[:2], tasks=["nope", t[1]])
    pop = MTLRegressor("hps", **FAST).fit(X[keep], y[keep], tasks=t[keep])       # the default: the population prediction
    assert np.isfinite(pop.predict(X[:2], tasks=["nope", t[1]])).all()

def test_one_task_model_predicts_without_labels():
    rng = np.random.default_rng(0); X = rng.normal(size=(60, 3)); y = X @ [1., 2., 0.]
    r = MTLRegressor("hps", **FAST).fit(X, y, tasks=["only"] * 60)
    np.testing.assert_allclose(r.predict(X), r.predict(X, tasks=["only"] * 60))

def test_task_folds():
    t = np.array(["a"] * 7 + ["b"] * 2 + ["c"] * 4 + [10] * 3, dtype=object)
    folds = task_folds(t, n_splits=3, seed=1)
    assert len(folds) == 3 and sorted(np.concatenate([te for _, te in folds])) == list(range(len(t)))
    assert all(set(t[train]) == set(t) for train, _ in folds)                # a 2-row task is in every training fold too
    assert [list(te) for _, te in folds] == [list(te) for _, te in task_folds(t, n_splits=3, seed=1)]
    with pytest.raises(ValueError, match="single row.*'z'"): task_folds(list(t) + ["z"])
    with pytest.raises(ValueError, match="missing"): task_folds(["a", "a", None])

def test_which_method_agrees_with_the_readme():
    "Every method is named, and every figure WHICH_METHOD quotes is in the README's section."
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Which method when", 1)[1].split("\n## ", 1)[0]
    assert all(re.search(rf"\b{m}\b", WHICH_METHOD) for m in ["stl", "hps", "sps", "ahps", "asps"])
    missing = [x for x in re.findall(r"\d+\.\d+", WHICH_METHOD) if x not in section]
    assert not missing, missing
    assert MTLRegressor().method == "ahps"
