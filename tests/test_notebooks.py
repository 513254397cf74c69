"""Every notebook runs top to bottom (cells marked `#| slow` skipped), each as its own test."""
import os, subprocess
import pytest
from conftest import ROOT, tool

NBS = sorted(p.relative_to(ROOT / "nbs").as_posix() for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

@pytest.mark.parametrize("nb", NBS)
def test_notebook_runs(nb):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    r = subprocess.run([tool("nbdev_test"), "--path", f"nbs/{nb}", "--n_workers", "0"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{nb} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
