"""The `adaptive-mtl` command line: fast and light help, every option documented with its default, output folders checked
before training, honest split names, pooled metrics, a diverged fit saved, and every mistake a one-line error."""
import json, os, re, subprocess, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, tool
from adaptive_mtl.cli import FIT_EPILOG, FIVE, main, _parser
from adaptive_mtl.trainer import load

ENV = {**os.environ, "COLUMNS": "100"}


def run_cli(*args, timeout=300):
    "The console script as a user runs it: `(exit code, stdout, stderr)`."
    p = subprocess.run([tool("adaptive-mtl"), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_help_is_fast():
    times = []
    for _ in range(3):
        start = time.perf_counter(); code, out, _ = run_cli("--help"); times.append(time.perf_counter() - start)
        assert code == 0 and "fit" in out and "simulate" in out
    print(f"adaptive-mtl --help: best of 3 {min(times):.3f} s")
    assert min(times) < 1.5


def in_fresh_python(argvs, # lists of command-line arguments, each given to `cli.main` in turn
                    heavy=("torch", "pandas", "numpy", "matplotlib", "adaptive_mtl.data")) -> tuple:
    "`(exit codes returned, the `heavy` modules loaded)` after running `argvs` in a fresh interpreter; argparse's exits return no code."
    code = ("import sys, contextlib, io, json\nfrom adaptive_mtl import cli\ncodes = []\n"
            f"for argv in {list(argvs)!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        codes.append(cli.main(argv))\n"
            f"print(json.dumps([codes, sorted(m for m in {tuple(heavy)!r} if m in sys.modules)]))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return tuple(json.loads(p.stdout))


def test_help_imports_nothing_heavy():
    assert in_fresh_python([["--help"], ["fit", "--help"], ["simulate", "--help"]]) == ([], [])


def test_usage_mistakes_and_a_missing_file_fail_before_torch_loads():
    "An unknown option, a bad value or a mistyped path is reported in a fraction of a second: torch is not loaded for them."
    codes, heavy = in_fresh_python([["fit", "--bogus"], ["fit", "x.csv", "--epochs", "0"], ["fit", "no_such.csv", "--target", "y"]])
    assert codes == [2] and "torch" not in heavy            # argparse exits (2) on the first two; the missing file returns 2


def _option_blocks(help_text):
    "`{option: (takes a value, its help text)}` from argparse's help output."
    lines = help_text.split("options:", 1)[1].split("\n\n", 1)[0].splitlines()
    blocks, cur = {}, None
    for line in lines:
        m = re.match(r"^  (-[^\s,]+)(?:, (--\S+))?( \S+)?(.*)$", line)
        if m:
            cur = m.group(2) or m.group(1)
            blocks[cur] = [m.group(3) is not None, m.group(4).strip()]
        elif cur: blocks[cur][1] += " " + line.strip()
    return {k: (v, " ".join(h.split())) for k, (v, h) in blocks.items()}


@pytest.mark.parametrize("command, expected", [
    ("fit", {"--epochs", "--lr", "--batch-size", "--patience", "--val", "--test", "--seed", "--device", "--method", "--hidden",
             "--out", "--csv", "--target", "--task", "--targets", "--features", "--dummies", "--drop", "--quiet",
                 "--random-effects", "--members", "--family", "--offset", "--exposure"}),
    ("simulate", {"--preset", "--jobs", "--out", "--scheduler", "--reps", "--quiet", "--family"})])
def test_every_option_has_help_and_default(command, expected):
    code, out, _ = run_cli(command, "--help")
    assert code == 0
    blocks = _option_blocks(out)
    assert expected | {"--help"} == set(blocks)
    for opt, (takes_value, text) in blocks.items():
        assert len(text) > 10, f"{opt} has no help"
        if takes_value: assert "(default:" in text, f"{opt} does not show its default: {text!r}"
    if command == "fit":
        for opt, default in (("--epochs", "300"), ("--lr", "0.003"), ("--batch-size", "32"), ("--patience", "30"), ("--val", "0.2"),
                             ("--test", "0.2"), ("--seed", "0"), ("--device", "auto"), ("--method", "ahps"), ("--hidden", "32,32")):
            assert f"(default: {default})" in blocks[opt][1]
        assert "which method:" in out and "mean over tasks" in out and "replaced" in blocks["--out"][1]


def test_default_method_is_the_estimators():
    import inspect
    from adaptive_mtl.estimator import MTLRegressor
    from adaptive_mtl.methods import METHODS
    from adaptive_mtl.trainer import fit
    cli_default = _parser().parse_args(["fit", "x.csv", "--target", "y"]).method
    assert cli_default == MTLRegressor().method == inspect.signature(fit).parameters["method"].default == "ahps"
    assert sorted(FIVE) == sorted(k for k, m in METHODS.items() if m.__module__ == "adaptive_mtl.methods")   # tests may register more


def _study_table(path):
    "The 'All tasks' table of the simulation study's summary.md."
    text = path.read_text().split("## All tasks", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in text.splitlines() if l.startswith("|")]
    df = pd.DataFrame(rows[2:], columns=rows[0])
    return df.assign(scenario=df.setting.str.split("_").str[0], delta=df.delta_pct_vs_STL.astype(float))


def test_epilog_figures_are_the_studies():
    "Every figure quoted in `fit --help` is recomputed from the study files it summarises."
    epilog = " ".join(FIT_EPILOG.split())
    t = _study_table(ROOT / "nbs" / "data" / "simulation_paper" / "summary.md")
    d = lambda method, scenario: t[(t.method == method) & (t.scenario == scenario)].delta
    ahps_rel, asps_mix, ahps_unr, asps_unr, hps_unr = d("AHPS", "related"), d("ASPS", "mixed"), d("AHPS", "unrelated"), d("ASPS", "unrelated"), d("HPS", "unrelated")
    assert f"{-ahps_rel.max():.1f}% to {-ahps_rel.min():.1f}% below STL" in epilog
    assert f"{-asps_mix.max():.1f}% to {-asps_mix.min():.1f}% below STL" in epilog
    assert f"{ahps_unr.min():.1f}% to {ahps_unr.max():.1f}% above STL" in epilog
    assert f"from {-asps_unr.min():.1f}% below to {asps_unr.max():.1f}% above STL" in epilog
    assert f"HPS is {hps_unr.min():.1f}% to {hps_unr.max():.1f}% above" in epilog
    for scenario in ("related", "mixed"):                       # best (lowest test MSE) or tied to 0.001 in every setting
        best = "AHPS" if scenario == "related" else "ASPS"
        for _, g in t[t.scenario == scenario].groupby("setting"):
            mse = g.set_index("method")["test MSE"].str.split(" ").str[0].astype(float)
            assert mse[best] <= mse.min() + 1e-3, (scenario, mse)
    cs = pd.read_csv(ROOT / "nbs" / "data" / "case_schools.csv")
    per_school = cs.groupby(["method", "seed"]).test_mse.mean().groupby("method").mean()
    assert (f"this default has mean per-school test MSE {per_school['MTLRegressor()']:.1f}, a random-intercept mixed model "
            f"{per_school['MixedLM intercept']:.1f}, AHPS alone {per_school['AHPS']:.1f} ({cs.seed.nunique()} splits)") in epilog


# ---------------------------------------------------------------- fits (in-process: one import of torch for all)

@pytest.fixture(scope="module")
def schools(tmp_path_factory):
    "Three schools with ids that differ only in leading zeros, a text column with a missing value, a numeric feature."
    rng = np.random.default_rng(0)
    rows = [dict(school=s, ses=x, sex=["F", "M", ""][j % 3] if not (s == "101" and j == 4) else "", y=3 * x + k + rng.normal(0, .3))
            for k, s in enumerate(("0101", "101", "00101")) for j, x in enumerate(rng.normal(size=20))]
    path = tmp_path_factory.mktemp("cli") / "schools.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def fit_cli(capsys, csv, *args, out=None):
    "`main(['fit', ...])` in-process: `(exit code, stdout, stderr)`."
    argv = ["fit", str(csv), "--quiet", "--epochs", "15", *map(str, args)] + (["--out", str(out)] if out else [])
    code = main(argv); o = capsys.readouterr()
    return code, o.out, o.err


def test_metrics_pooled_overall_and_mean_over_tasks(schools, tmp_path, capsys):
    code, out, _ = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--dummies", "sex", out=tmp_path)
    assert code == 0
    m = pd.read_csv(tmp_path / "metrics.csv", index_col="task", dtype={"task": str})
    assert list(m.index) == ["0101", "101", "00101", "overall", "mean over tasks"]          # ids as written, three tasks
    assert set(m.split) == {"test"} and "metrics on the test split" in out
    assert np.isclose(m.loc["overall", "rmse"], np.sqrt(m.loc["overall", "mse"]))
    # recompute the test split and the pooled metrics by hand from the saved model
    from adaptive_mtl.cli import read_csv_data
    data = read_csv_data(schools, target="y", task="school", dummies="sex")
    test = data.split(seed=0)[2]
    members = [load(tmp_path / "model.pt")] + [load(tmp_path / f"model_member{i}.pt") for i in (2, 3)]   # the default: 3 members
    e = np.mean([m.predict(test) for m in members], 0) - test.y
    sst = np.sum((test.y - test.y.mean()) ** 2)                                              # around the pooled mean
    assert np.allclose(m.loc["overall", ["mse", "rmse", "mae", "r2", "n"]].to_numpy(float),
                       [np.mean(e ** 2), np.sqrt(np.mean(e ** 2)), np.mean(np.abs(e)), 1 - np.sum(e ** 2) / sst, len(e)])
    tasks = m.iloc[:3]
    assert np.allclose(m.loc["mean over tasks", ["mse", "rmse", "mae", "r2"]].to_numpy(float), tasks[["mse", "rmse", "mae", "r2"]].mean())
    assert m.loc["mean over tasks", "n"] == tasks.n.sum() == len(test)


def test_features_printed_and_missing_category_is_its_own_level(schools, tmp_path, capsys):
    code, out, _ = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--dummies", "sex", out=tmp_path)
    assert code == 0
    assert "features (3): ses, sex_M, sex_nan" in out                # 'F' the reference level, '' (missing) a level of its own
    assert load(tmp_path / "model.pt").feature_names == ["ses", "sex_M", "sex_nan"]
    from adaptive_mtl.cli import read_csv_data
    raw = pd.read_csv(schools)
    X = pd.DataFrame(read_csv_data(schools, target="y", task="school", dummies="sex").X, columns=["ses", "sex_M", "sex_nan"])
    assert raw.sex.isna().sum() > 0 and (X.sex_nan == raw.sex.isna()).all() and (X.sex_M == (raw.sex == "M")).all()
    assert (X.loc[raw.sex.isna(), ["sex_M", "sex_nan"]].to_numpy() == [0, 1]).all()     # never the all-zero reference row


def test_text_column_without_dummies_names_the_flag(schools, capsys):
    code, _, err = fit_cli(capsys, schools, "--target", "y", "--task", "school")
    assert code == 2 and err.count("\n") == 1 and "--dummies sex" in err


@pytest.mark.parametrize("val, test, split", [(0.2, 0.0, "validation"), (0.0, 0.0, "training (in-sample)"), (0.0, 0.25, "test")])
def test_split_names(schools, tmp_path, capsys, val, test, split):
    code, out, err = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--drop", "sex", "--val", val, "--test", test, out=tmp_path)
    assert code == 0, err
    m = pd.read_csv(tmp_path / "metrics.csv", index_col="task", dtype={"task": str})
    assert set(m.split) == {split} and f"metrics on the {split} split" in out
    assert ("test" in out.split("metrics on the", 1)[1].split("\n")[0]) == (split == "test")
    n = {"validation": 3 * 4, "training (in-sample)": 60, "test": 3 * 5}[split]
    assert m.loc["overall", "n"] == n


def test_target_without_task_is_one_task(schools, tmp_path, capsys):
    code, out, err = fit_cli(capsys, schools, "--target", "y", "--drop", "school,sex", out=tmp_path)
    assert code == 0, err
    m = pd.read_csv(tmp_path / "metrics.csv", index_col="task")
    assert list(m.index) == ["y", "overall", "mean over tasks"] and m.loc["y", "n"] == 12
    assert "features (1): ses" in out


def test_divergence_saves_the_model_and_one_line(schools, tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("stale")                     # from an earlier run: must not sit beside the new model
    code, out, err = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--drop", "sex", "--lr", "1e12", out=tmp_path)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("adaptive-mtl fit: error: non-finite loss") and "Traceback" not in err
    assert str(tmp_path / "model.pt") in err and str(tmp_path / "history.csv") in err
    assert not (tmp_path / "metrics.csv").exists()
    model = load(tmp_path / "model.pt")
    assert model.task_names == ["0101", "101", "00101"]
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.model.parameters())
    assert len(pd.read_csv(tmp_path / "history.csv")) == len(model.history) >= 1


def test_out_is_checked_before_any_fit(schools, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("keep me")
    for out, words in ((tmp_path / "file.txt", "is a file"), (tmp_path / "file.txt" / "run", "cannot be created")):
        start = time.perf_counter()
        code, out_text, err = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--dummies", "sex", out=out)
        assert code == 2 and err.count("\n") == 1 and words in err
        assert out_text == "" and time.perf_counter() - start < 1                    # stopped before reading or fitting
    assert (tmp_path / "file.txt").read_text() == "keep me"


def test_existing_out_folder_is_replaced_with_a_note(schools, tmp_path, capsys):
    for _ in range(2): code, out, _ = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--dummies", "sex", out=tmp_path)
    assert code == 0 and f"replacing metrics.csv, history.csv, model.pt, model_member2.pt, model_member3.pt in {tmp_path}" in out
    code, out, _ = fit_cli(capsys, schools, "--target", "y", "--task", "school", "--dummies", "sex", "--members", "1", out=tmp_path)
    assert code == 0 and not list(tmp_path.glob("model_member*.pt"))          # one member now: the old members' files are gone


@pytest.mark.parametrize("argv, message", [
    (["fit", "x.csv", "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["fit", "x.csv", "--patience", "0"], "argument --patience: must be a positive integer, got '0'"),
    (["fit", "x.csv", "--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    (["fit", "x.csv", "--val", "1.5"], "argument --val: must be a fraction in [0, 1), got '1.5'"),
    (["fit", "x.csv", "--test", "-0.1"], "argument --test: must be a fraction in [0, 1), got '-0.1'"),
    (["fit", "x.csv", "--lr", "0"], "argument --lr: must be a positive number, got '0'"),
    (["fit", "x.csv", "--lr", "nan"], "argument --lr: must be a positive number, got 'nan'"),
    (["fit", "x.csv", "--hidden", "32,0"], "argument --hidden: must be comma-separated positive integers"),
    (["fit", "x.csv", "--seed", "-1"], "argument --seed: must be a non-negative integer, got '-1'"),
    (["fit", "x.csv", "--method", "mtl"], "argument --method: invalid choice: 'mtl'"),
    (["simulate", "--reps", "0"], "argument --reps: must be a positive integer, got '0'"),
    (["simulate", "--reps", "-3"], "argument --reps: must be a positive integer, got '-3'"),
    (["simulate", "--jobs", "0"], "argument --jobs: must be a positive integer, got '0'")])
def test_bad_option_values_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as e: main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--target", "y", "--task", "school", "--drop", "sex", "--val", "0.6", "--test", "0.5"], "must leave rows for training"),
    (["--task", "school"], "--task needs --target"),
    (["--target", "y", "--targets", "y,ses"], "not both"),
    (["--target", "nope", "--task", "school"], "unknown column 'nope'"),
    (["--target", "y", "--task", "school", "--dummies", "ses,y"], "--dummies y: not among the features"),
    (["--target", "y", "--task", "school", "--dummies", "sex", "--device", "cuda:7"], "device 'cuda:7'")])
def test_mistakes_are_one_line(schools, tmp_path, capsys, args, message):
    code, _, err = fit_cli(capsys, schools, *args, out=tmp_path / "run")
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run").exists()


def test_csv_positional_or_option(schools, tmp_path, capsys):
    assert main(["fit", "--csv", str(schools), "--target", "y", "--task", "school", "--dummies", "sex", "--epochs", "2",
                 "--quiet", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["fit", "--target", "y"]) == 2 and "give the data file" in capsys.readouterr().err
    assert main(["fit", str(schools), "--csv", "other.csv", "--target", "y"]) == 2 and "two data files" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "missing.csv"), "--target", "y"]) == 2 and "no CSV file" in capsys.readouterr().err


def test_family_counts_and_yes_no(tmp_path, capsys):
    "--family poisson reports the mean Poisson deviance, --family bernoulli log loss, Brier and AUC; targets that do not fit are named."
    rng = np.random.default_rng(1); x = rng.normal(size=240); g = np.repeat(["a", "b", "c"], 80)
    path = tmp_path / "outcomes.csv"
    pd.DataFrame({"g": g, "x": x, "visits": rng.poisson(np.exp(0.5 * x)), "used": rng.binomial(1, 1 / (1 + np.exp(-x)))}).to_csv(path, index=False)
    code, out, _ = fit_cli(capsys, path, "--target", "visits", "--task", "g", "--drop", "used", "--family", "poisson", "--members", "1", out=tmp_path / "p")
    assert code == 0 and np.isfinite(pd.read_csv(tmp_path / "p" / "metrics.csv", index_col=0).loc["overall", "deviance"])
    code, out, _ = fit_cli(capsys, path, "--target", "used", "--task", "g", "--drop", "visits", "--family", "bernoulli", "--members", "1", out=tmp_path / "b")
    m = pd.read_csv(tmp_path / "b" / "metrics.csv", index_col=0)
    assert code == 0 and {"log_loss", "brier", "auc"} <= set(m.columns) and 0 < m.loc["overall", "log_loss"] < 1.5
    code, _, err = fit_cli(capsys, path, "--target", "visits", "--task", "g", "--drop", "used", "--family", "bernoulli", out=tmp_path / "x")
    assert code == 2 and "its targets must be 0 or 1" in err


def test_simulate_counts_and_yes_no(tmp_path, capsys):
    "simulate --family bernoulli: the quick preset on 0/1 outcomes, summarised by test deviance, resumable like the Gaussian study."
    code = main(["simulate", "--family", "bernoulli", "--reps", "1", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "test deviance" in out and "_bernoulli" in out
    res = pd.read_csv(tmp_path / "results.csv")
    assert set(res.setting) == {"related_n100_bernoulli", "mixed_n100_bernoulli"} and len(res) == 5 * (4 + 6)
    assert "deviance (2 x log loss)" in (tmp_path / "summary.md").read_text()


def test_exposure_and_offset_columns(tmp_path, capsys):
    "--exposure COL models counts as exposure x rate (its log is the offset, not a feature); --offset COL takes the log directly; bad values are named."
    rng = np.random.default_rng(2); x = rng.normal(size=300); g = np.repeat(["a", "b", "c"], 100); years = np.exp(rng.uniform(-1, 1, 300))
    path = tmp_path / "claims.csv"
    df = pd.DataFrame({"g": g, "x": x, "years": years, "log_years": np.log(years), "claims": rng.poisson(years * np.exp(0.5 * x))})
    df.to_csv(path, index=False)
    code, out, _ = fit_cli(capsys, path, "--target", "claims", "--task", "g", "--exposure", "years", "--drop", "log_years", "--family", "poisson",
                           "--members", "1", out=tmp_path / "e")
    assert code == 0 and "features (1): x" in out
    code, out, _ = fit_cli(capsys, path, "--target", "claims", "--task", "g", "--offset", "log_years", "--drop", "years", "--family", "poisson",
                           "--members", "1", out=tmp_path / "o")
    a, b = (pd.read_csv(tmp_path / d / "metrics.csv", index_col=0).loc["overall", "deviance"] for d in ("e", "o"))
    assert code == 0 and np.isclose(a, b, rtol=1e-6)
    df.loc[4, "years"] = 0; df.to_csv(path, index=False)
    code, _, err = fit_cli(capsys, path, "--target", "claims", "--task", "g", "--exposure", "years", "--drop", "log_years", "--family", "poisson", out=tmp_path / "z")
    assert code == 2 and "column 'years' has 1 value(s) that are not positive numbers (rows 4)" in err
