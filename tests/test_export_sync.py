"""The library is what the notebooks export, and the notebooks are saved clean."""
import filecmp, json, shutil, subprocess
from pathlib import Path
import pytest
from conftest import ROOT, tool

def _copy(tmp):
    for f in ("settings.ini", "setup.py", "README.md"): shutil.copy(ROOT / f, tmp / f)
    shutil.copytree(ROOT / "nbs", tmp / "nbs", symlinks=True)
    shutil.copytree(ROOT / "adaptive_mtl", tmp / "adaptive_mtl", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp

def test_export_leaves_library_unchanged(tmp_path):
    tmp = _copy(tmp_path)
    r = subprocess.run([tool("nbdev_export")], cwd=tmp, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    mine = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "adaptive_mtl").glob("*.py"))
    theirs = sorted(p.relative_to(tmp).as_posix() for p in (tmp / "adaptive_mtl").glob("*.py"))
    assert mine == theirs, f"nbdev_export would add/remove modules: {set(mine) ^ set(theirs)}"
    changed = [f for f in mine if not filecmp.cmp(ROOT / f, tmp / f, shallow=False)]
    assert not changed, f"adaptive_mtl/ is out of sync with nbs/ (run nbdev_export): {changed}"

NBS = sorted(p.relative_to(ROOT / "nbs").as_posix() for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

@pytest.mark.parametrize("nb", NBS)
def test_notebook_is_clean(nb, tmp_path):
    "nbdev_clean, run on a copy of the notebook (with the settings it reads), changes nothing."
    tmp = tmp_path; shutil.copy(ROOT / "settings.ini", tmp / "settings.ini")
    (tmp / "nbs" / nb).parent.mkdir(parents=True); shutil.copy(ROOT / "nbs" / nb, tmp / "nbs" / nb)
    r = subprocess.run([tool("nbdev_clean"), "--fname", f"nbs/{nb}"], cwd=tmp, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp / "nbs" / nb).read_text()) == json.loads((ROOT / "nbs" / nb).read_text()), \
        f"{nb} is not nbdev_clean-clean: run nbdev_clean before committing"
