"""Each bad input to the data containers (the checks of nbs/00_checks.ipynb and nbs/00_data.ipynb) raises a ValueError that names the problem."""
import numpy as np, pandas as pd, pytest
from adaptive_mtl.data import MultiTaskData, Scaler
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit

X = pd.DataFrame({"ses": np.linspace(-1, 1, 12), "female": [0, 1] * 6})
Y = np.linspace(0, 3, 12) ** 2
T = ["a"] * 6 + ["b"] * 6

def test_nan_feature_named():
    Xb = X.copy(); Xb.loc[3, "ses"] = np.nan
    with pytest.raises(ValueError, match=r"feature column 'ses' has 1 NaN/inf"): MultiTaskData.from_groups(Xb, Y, T)

def test_inf_feature_named():
    Xb = X.astype(float); Xb.loc[0, "female"] = np.inf
    with pytest.raises(ValueError, match=r"'female' has 1 NaN/inf"): MultiTaskData.from_groups(Xb, Y, T)

def test_non_numeric_column_says_how_to_encode():
    with pytest.raises(ValueError, match=r"'sector' is not numeric.*get_dummies"):
        MultiTaskData.from_groups(X.assign(sector=["public", "catholic"] * 6), Y, T)

def test_too_few_rows_for_split_keeps_task_in_training():
    d = MultiTaskData.from_groups(X, Y, ["a"] * 10 + ["tiny"] * 2)
    with pytest.warns(UserWarning, match=r"'tiny' \(2 rows\)"): tr, va, te = d.split(val=0.2, test=0.2)
    assert tr.info["kept_in_training"] == {"tiny": 2} and tr.observed()[1] == 2
    assert va.observed()[1] == 0 and te.observed()[1] == 0 and len(tr) + len(va) + len(te) == 12

def test_lengths_disagree_gives_counts():
    with pytest.raises(ValueError, match=r"X has 12 rows, y has 11, task has 12"): MultiTaskData.from_groups(X, Y[:-1], T)
    with pytest.raises(ValueError, match=r"X has 12 rows, Y has 10"): MultiTaskData.from_targets(X, np.zeros((10, 2)))

def test_unknown_task_at_predict_time():
    sim = make_simulation("related", n_train=20, n_test=5, seed=0)
    res = fit("hps", sim.train, epochs=2, progress=False)
    new = MultiTaskData.from_groups(sim.test.X[:4], sim.test.y[:4], ["school_99"] * 4)
    with pytest.raises(ValueError, match=r"unknown task 'school_99'"): res.predict(new, unseen="error")
    assert np.isfinite(res.predict(new)).all()                            # the default: the population prediction

def test_constant_target_takes_pooled_scale_and_fits():
    d = MultiTaskData.from_groups(X, np.r_[np.full(6, 2.0), Y[6:]], T)
    sc = Scaler.fit(d)
    vp = Y[6:].var()                                  # the pooled variance is task b's: a is constant
    assert sc.y_mean[0] == 2.0 and np.isclose(sc.y_std[0], np.sqrt(vp)) and np.isclose(sc.y_std[1], np.sqrt(vp))
    res = fit("stl", d, epochs=3, progress=False)
    assert np.isfinite(res.predict(d)).all()

def test_missing_target_in_groups_layout():
    with pytest.raises(ValueError, match=r"1 NaN/inf value\(s\) \(first in task 'b'; per task 'b': 1\)"):
        MultiTaskData.from_groups(X, np.r_[Y[:-1], np.nan], T)

def test_targets_layout_nan_is_masked_not_dropped():
    Yt = np.c_[Y, Y[::-1]]; Yt[0, 1] = np.nan
    d = MultiTaskData.from_targets(X, Yt)
    assert d.observed().tolist() == [12, 11] and len(d) == 12
