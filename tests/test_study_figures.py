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

# --- figures ---------------------------------------------------------------------------------------------------
import itertools, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from pathlib import Path
from scipy import stats
from adaptive_mtl.viz import METHOD_ORDER, METHOD_COLORS, plot_paired_differences, plot_delta_heatmap, plot_study

PAPER = Path(__file__).resolve().parents[1] / "nbs/data/simulation_paper/results.csv"

@pytest.fixture(scope="module")
def paper(): return read_results(PAPER)

@pytest.fixture(scope="module")
def few():
    "16 settings with long names, 5 methods, 3 seeds, 2 tasks: method m shifts the error by a known amount plus noise."
    rng = np.random.default_rng(1)
    rows = [dict(setting=f"scenario{s:02d}_n{50 * (s % 3 + 1)}_K{4 + s % 2}", method=m, seed=seed, task=f"t{t}", related=True,
                 n_test=10, test_mse=0.5 + 0.02 * j + 0.01 * rng.standard_normal(), split_frac=0.0, fit_seconds=0.1, n_tasks=2)
            for s in range(16) for j, m in enumerate(METHOD_ORDER) for seed in range(3) for t in range(2)]
    return pd.DataFrame(rows)

def _by_hand(results, baseline="STL"):
    "Per-seed differences in % of the baseline's mean, computed straight from the rows."
    e = results.groupby(["setting", "method", "seed"]).test_mse.mean()
    out = {}
    for (s, m), g in e.groupby(level=["setting", "method"]):
        if m == baseline: continue
        b = e.loc[s, baseline]
        out[s, m] = (100 * (g.droplevel([0, 1]) - b) / b.mean()).sort_index().values
    return out

def _drawn(ax, axis="x"):
    "The tick labels matplotlib draws: those of ticks inside the axis limits (the others exist but are not drawn)."
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim()); k = 0 if axis == "x" else 1
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t for t in labels if lo - 1e-9 <= t.get_position()[k] <= hi + 1e-9]

def _overlaps(fig, texts):
    "Pairs of drawn texts whose rendered bounding boxes overlap; `texts()` is called after drawing (ticks are made then)."
    fig.canvas.draw(); r = fig.canvas.get_renderer(); texts = texts()
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts if t.get_visible() and t.get_text().strip()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]

@pytest.mark.parametrize("data", ["paper", "few"])
def test_paired_figure_draws_every_seed_difference_and_its_t_interval(data, request):
    res = request.getfixturevalue(data)
    fig = plot_paired_differences(res)
    settings = list(dict.fromkeys(res.setting)); expect = _by_hand(res)
    assert [a.get_title() for a in fig.axes] == METHOD_ORDER[1:]                        # panels in the package's order
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == settings             # one row per setting, in study order
    for ax in fig.axes:
        m = ax.get_title()
        assert ax.title.get_color() == METHOD_COLORS[m]
        pts = next(c for c in ax.collections if c.get_gid() == "seeds")
        assert matplotlib.colors.to_hex(pts.get_facecolor()[0]) == METHOD_COLORS[m]
        xy = pts.get_offsets(); rows = np.round(xy[:, 1]).astype(int)
        assert np.all(np.abs(xy[:, 1] - rows) < 0.3)                                   # jittered inside its row
        for i, s in enumerate(settings):
            np.testing.assert_allclose(np.sort(xy[rows == i, 0]), np.sort(expect[s, m]), atol=1e-9)
        bars = next(c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection))
        for i, seg in enumerate(bars.get_segments()):
            d = expect[settings[int(round(seg[0, 1]))], m]
            half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
            np.testing.assert_allclose(sorted(seg[:, 0]), [d.mean() - half, d.mean() + half], atol=1e-9)
        assert any(np.allclose(l.get_xdata(), 0) for l in ax.lines)                     # the line at 0
    texts = lambda: (_drawn(fig.axes[0], "y") + [a.title for a in fig.axes] + [t for a in fig.axes for t in _drawn(a)]
                     + [fig._suptitle, fig._supxlabel])
    assert len(_overlaps(fig, lambda: fig.axes[0].get_yticklabels() * 2)) == len(settings)   # the check sees the labels
    assert _overlaps(fig, texts) == []
    plt.close(fig)

def test_plot_study_is_the_paired_figure(few):
    a, b = plot_study(few), plot_paired_differences(few)
    assert [x.get_title() for x in a.axes] == [x.get_title() for x in b.axes]
    np.testing.assert_allclose(a.axes[0].collections[0].get_offsets(), b.axes[0].collections[0].get_offsets())
    plt.close("all")

@pytest.mark.parametrize("data", ["paper", "few"])
def test_heatmap_is_centred_readable_and_marks_significance(data, request):
    res = request.getfixturevalue(data); summ = summarize(res)
    fig = plot_delta_heatmap(summ); ax = fig.axes[0]; norm = ax.collections[0].norm
    settings = list(dict.fromkeys(res.setting))
    assert norm.vcenter == 0 and norm.vmin == -norm.vmax                               # centred at 0, symmetric
    assert norm.vmax == max(2.0, summ[summ.method != "STL"].delta_pct_vs_STL.abs().max())   # scaled to the data, never clipped
    assert [t.get_text() for t in ax.get_yticklabels()] == settings
    cells = {(round(t.get_position()[1] - 0.5), round(t.get_position()[0] - 0.5)): t.get_text() for t in ax.texts}
    assert len(cells) == len(settings) * 4
    for (i, j), text in cells.items():
        row = summ[(summ.setting == settings[i]) & (summ.method == METHOD_ORDER[1 + j])].iloc[0]
        assert text == f"{row.delta_pct_vs_STL:+.1f}" + ("*" if row.p_vs_STL < 0.05 else "")
    cbar = fig.axes[1]
    texts = lambda: _drawn(ax, "y") + _drawn(ax) + ax.texts + [ax.title] + _drawn(cbar, "y") + [cbar.yaxis.label]
    assert _overlaps(fig, texts) == []
    assert ("3 seeds: no paired test can reach p < 0.05" in ax.get_title()) == (data == "few")               # 3 seeds: the title says so
    plt.close(fig)

def test_heatmap_does_not_saturate_on_noise(few):
    summ = summarize(few).assign(delta_pct_vs_STL=lambda s: 0.01 * np.sign(s.delta_pct_vs_STL))   # tiny differences
    norm = plot_delta_heatmap(summ).axes[0].collections[0].norm
    assert norm.vmax == 2.0 and abs(norm(0.01) - 0.5) < 0.01                          # pale, not a full-strength colour
    plt.close("all")
