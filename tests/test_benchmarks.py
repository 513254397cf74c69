"""The scripts in `benchmarks/` still run: each one's smallest run (or, where even that spawns processes or fits real data
for many seconds, its `--help`) in this process, with the printed table checked. The figures themselves are not tested:
they are measured by running the scripts as their docstrings say (the speed page)."""
import random, re, runpy, sys
import numpy as np
import pytest
import torch
from conftest import ROOT

BENCH, RATIO = ROOT / "benchmarks", re.compile(r"\d+\.\d+x")


@pytest.fixture
def run_script(capsys, monkeypatch):
    "Run `benchmarks/<name>` as `python benchmarks/<name> *args` would, in this process; its printed output (torch's thread count and the random states restored after)."
    threads, states = torch.get_num_threads(), (torch.get_rng_state(), np.random.get_state(), random.getstate())
    def run(name, *args):
        monkeypatch.setattr(sys, "argv", [str(BENCH / name), *map(str, args)])
        try: runpy.run_path(str(BENCH / name), run_name="__main__")
        finally: torch.set_num_threads(threads); torch.set_rng_state(states[0]); np.random.set_state(states[1]); random.setstate(states[2])
        return capsys.readouterr().out
    return run


def rows(out: str, first: str) -> list:
    "The printed table's rows that start with `first` (after spaces), split into fields."
    return [line.split() for line in out.splitlines() if line.split()[:1] == [first]]


def test_every_script_is_covered():
    covered = {"bench_fit.py", "bench_layers.py", "bench_soft.py", "bench_replicates.py", "bench_hard.py",
               "bench_scaling.py", "bench_study.py", "bench_then_now.py", "bench_default.py"}
    assert {p.name for p in BENCH.glob("*.py")} == covered


@pytest.mark.parametrize("name", ["bench_scaling.py", "bench_study.py", "bench_then_now.py", "bench_default.py"])
def test_help(run_script, name):
    with pytest.raises(SystemExit) as e: run_script(name, "--help")
    assert e.value.code == 0


def test_bench_fit(run_script):
    out = run_script("bench_fit.py", "--ks", "2,3", "--epochs", 2, "--reps", 1)
    table = rows(out, "2") + rows(out, "3")
    assert [r[0] for r in table] == ["2", "3"]
    assert all(RATIO.fullmatch(f) for r in table for f in r[4:6])                       # loop / fit, loop / batched


def test_bench_layers(run_script):
    [row] = rows(run_script("bench_layers.py", "--ks", 2, "--reps", 1), "2")
    assert RATIO.fullmatch(row[-1])                                                   # loop / batched


def test_bench_soft(run_script):
    [row] = rows(run_script("bench_soft.py", "--ks", 2, "--reps", 1), "2")
    assert RATIO.fullmatch(row[-1])                                                   # ASPS / SPS


def test_bench_replicates_gives_each_replicate_its_fit_alone(run_script):
    out = run_script("bench_replicates.py", "--replicates", 2, "--tasks", 2, "--rows", 20, "--epochs", 2, "--reps", 1,
                     "--methods", "stl,ahps,asps", "--batches", 8, "--profile")
    table = rows(out, "stl") + rows(out, "ahps") + rows(out, "asps")
    assert [r[0] for r in table] == ["stl", "ahps", "asps"]
    assert all(RATIO.fullmatch(r[4]) and float(r[6]) == 0 for r in table)           # ratio; max rel. diff 0: the same test MSEs
    assert all(float(r[7]) > 0 and RATIO.fullmatch(r[8]) for r in table)           # the batch's seconds in products; the ceiling


def test_bench_hard(run_script):
    out = run_script("bench_hard.py", "--ks", 64, "--grad-ks", 16, "--reps", 1)    # the fewest steps: a step's count falls with K
    steps, grads, in_fit = (rows(part, k) for part, k in zip(re.split(r"\n[23]\) ", out), ("64", "16", "16")))
    assert len(steps) == len(grads) == len(in_fit) == 1
    assert sum(bool(RATIO.fullmatch(f)) for f in steps[0]) == 6 and RATIO.fullmatch(in_fit[0][3])   # AHPS / HPS, inside fit
