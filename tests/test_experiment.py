"""run_study: an interrupted study resumes to exactly the rows of an uninterrupted one; a Dask cluster gives the same rows."""
import os, signal, subprocess, sys, time, textwrap
from pathlib import Path
import pandas as pd, pytest
from adaptive_mtl.experiment import run_study, read_results

SPEC = dict(methods=["stl", "hps", "sps"], settings={"mix": dict(scenario="mixed", n_train=30, n_test=60)},
            n_reps=6, fit_kwargs=dict(epochs=8), progress=False)

def _sorted(df): return df.sort_values(["setting", "method", "seed", "task"]).drop(columns="fit_seconds").reset_index(drop=True)

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_study(out=tmp_path_factory.mktemp("ref") / "r.csv", **SPEC)

def test_killed_study_resumes_exactly(tmp_path, reference):
    out = tmp_path / "r.csv"
    code = textwrap.dedent(f"""
        from adaptive_mtl.experiment import run_study
        run_study(out={str(out)!r}, n_jobs=2, **{SPEC!r})""")
    p = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 120 and (not out.exists() or out.read_text().count("\n") < 1 + 2 * 6): time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    partial = read_results(out)
    assert 0 < len(partial) < len(reference), "the kill should land mid-study"
    resumed = run_study(out=out, **SPEC)
    assert len(resumed) == len(reference) and not resumed.duplicated(["setting", "method", "seed", "task"]).any()
    pd.testing.assert_frame_equal(_sorted(resumed), _sorted(reference))
    assert len(pd.read_csv(out)) == len(reference)          # the file itself holds no duplicates or torn rows

def test_dask_cluster_gives_same_rows(tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
         distributed.Client(cluster) as client:
        got = run_study(out=tmp_path / "d.csv", client=client, **SPEC)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(reference))
