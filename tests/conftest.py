import os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent            # the venv the tests run in

@pytest.fixture(scope="session")
def root(): return ROOT

def tool(name):
    "Path of a console script of the running environment (nbdev_test, nbdev_export, ...)."
    p = BIN / name
    return str(p) if p.exists() else name
