import atexit, os, shutil, sys, tempfile
from pathlib import Path
import pytest

# Every scratch file of the run -- pytest's tmp_path, the notebooks' `tempfile.mkdtemp()` folders, the console
# script's outputs -- goes into one folder that is removed when the run ends: a run leaves no disk behind.
SCRATCH = tempfile.mkdtemp(prefix="adaptive_mtl-tests-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
os.environ["TMPDIR"] = tempfile.tempdir = SCRATCH

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent            # the venv the tests run in

@pytest.fixture(scope="session")
def root(): return ROOT

@pytest.fixture(autouse=True)
def _environment_restored():
    "Every test leaves the process environment as it found it: dask's LocalCluster sets OMP_NUM_THREADS=1 (and the BLAS twins) for its workers in this process, and every later subprocess (the notebooks, the console script) ran on one thread of the two."
    saved = dict(os.environ)
    yield
    os.environ.clear(); os.environ.update(saved)

def tool(name):
    "Path of a console script of the running environment (nbdev_test, nbdev_export, ...)."
    p = BIN / name
    return str(p) if p.exists() else name
