"""Study outputs support a conclusion: a results CSV survives a torn or newline-less last line on resume, `summary_notes`
explains the summary and says when the seeds are too few for a paired test, and the study figures draw the paired per-seed
differences the summary reports (colour scale centred at 0, one readable row per setting)."""
import numpy as np, pandas as pd, pytest
from adaptive_mtl.experiment import Peer, Simulated, append_rows, read_results, run_study, run_unit, COLUMNS

def zeros(train, val, test): return np.zeros(np.shape(test.y))           # a Peer: no network, deterministic, instant

SETTINGS = {"mix": Simulated(scenario="mixed", n_train=20, n_test=10), "rel": Simulated(scenario="related", n_train=20, n_test=10)}
SPEC = dict(methods={"zero": Peer(zeros), "zero2": Peer(zeros)}, settings=SETTINGS, progress=False)

def _sorted(df): return df.sort_values(["setting", "method", "seed", "task"]).drop(columns="fit_seconds").reset_index(drop=True)

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_study(out=tmp_path_factory.mktemp("ref") / "r.csv", n_reps=3, **SPEC)

def _lines(path): return path.read_bytes().decode().split("\n")

def test_newline_less_last_line_is_kept_and_next_append_starts_a_new_line(tmp_path, reference):
    out = tmp_path / "r.csv"
    first = run_study(out=out, n_reps=2, **SPEC)
    out.write_bytes(out.read_bytes().rstrip(b"\n"))                       # the last (complete) line lost its newline
    last = _lines(out)[-1]
    assert len(read_results(out)) == len(first)                           # read-only: the row counts already
    resumed = run_study(out=out, n_reps=3, **SPEC)
    assert len(resumed) == len(reference) and not resumed.duplicated(["setting", "method", "seed", "task"]).any()
    pd.testing.assert_frame_equal(_sorted(resumed), _sorted(reference))
    lines = _lines(out)
    assert last in lines and lines[-1] == "" and len(lines) == 1 + len(reference) + 1   # header, rows, final newline

def test_append_onto_newline_less_file_starts_a_new_line(tmp_path):
    out = tmp_path / "r.csv"
    rows = run_unit("mix", SETTINGS["mix"], "zero", Peer(zeros), 0)
    append_rows(out, rows); out.write_bytes(out.read_bytes().rstrip(b"\n"))
    append_rows(out, run_unit("mix", SETTINGS["mix"], "zero", Peer(zeros), 1))           # no repair in between
    assert len(read_results(out)) == 2 * len(rows)
    assert all(len(l.split(",")) >= len(COLUMNS) for l in _lines(out)[1:-1])

@pytest.mark.parametrize("cut", [1, 7, 40])
def test_torn_last_line_is_dropped_and_its_unit_rerun(tmp_path, reference, cut):
    out = tmp_path / "r.csv"
    run_study(out=out, n_reps=3, **SPEC)
    data = out.read_bytes(); out.write_bytes(data[:len(data) - 1 - cut])   # killed mid-write: the last line is partial
    torn = _lines(out)[-1]
    partial = read_results(out)
    assert len(partial) == len(reference) - int(reference.n_tasks.iloc[-1])   # the torn unit only, nothing else lost
    resumed = run_study(out=out, n_reps=3, **SPEC)
    pd.testing.assert_frame_equal(_sorted(resumed), _sorted(reference))
    assert torn not in _lines(out) and len(pd.read_csv(out)) == len(reference)

def test_torn_inside_a_multibyte_character(tmp_path):
    out = tmp_path / "r.csv"
    rows = [dict(r, chosen="λ=0.01") for r in run_unit("mix", SETTINGS["mix"], "zero", Peer(zeros), 0)]
    append_rows(out, rows); append_rows(out, [dict(r, seed=1) for r in rows])
    data = out.read_bytes(); cut = data.rindex("λ".encode()) + 1
    out.write_bytes(data[:cut])                                           # half of λ's two bytes
    test = read_results(out, repair=True)
    assert len(test) == len(rows) and set(test.seed) == {0} and (test.chosen == "λ=0.01").all()
    assert out.read_bytes().decode().endswith("\n")

# --- summary_notes -------------------------------------------------------------------------------------------
from scipy.stats import wilcoxon
from adaptive_mtl.experiment import summarize, summary_notes, to_markdown

def _smallest_p(n):                       # independent of the package: the exact null distribution of W+ by enumeration
    import itertools
    ws = [sum(r for r, s in zip(range(1, n + 1), signs) if s) for signs in itertools.product([0, 1], repeat=n)]
    return min(1.0, 2 * sum(w == n * (n + 1) // 2 for w in ws) / len(ws))

@pytest.mark.parametrize("n,silent", [(3, False), (5, False), (6, True), (20, True)])
def test_summary_notes_say_when_seeds_are_too_few(reference, n, silent):
    sm = summarize(reference, baseline="zero", baselines=("zero",)).assign(n_seeds=n)
    notes = summary_notes(sm)
    assert f"With {n} paired seeds" in notes and f"is {_smallest_p(n):.3g}" in notes
    assert ("no paired test here can reach p < 0.05; that takes at least 6 seeds" in notes) != silent
    assert "no paired test" not in summary_notes(sm, alpha=0.3)              # 3 seeds can reach p = 0.25 < 0.3
    assert "that takes at least 7 seeds" in summary_notes(sm.assign(n_seeds=2), alpha=0.02)

def test_summary_notes_explain_every_column(reference):
    sm = summarize(reference, baseline="zero", baselines=("zero", "zero2"))
    notes = summary_notes(sm)
    header = to_markdown(sm).splitlines()[0]
    for col in [c.strip() for c in header.strip("|").split("|")][2:]:   # every column after setting and method
        assert f"**{col}**" in notes, col
    assert "share of seeds on which the row's method beats zero2" in notes and "Wilcoxon signed-rank" in notes
