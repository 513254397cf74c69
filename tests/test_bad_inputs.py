"""Bad inputs and faults, one row per case (id, input, expected): the data containers, the scaler, the split, the CSV
reader, and (second table) the command line and the study runner's results file.

Each case either raises a ValueError whose message contains the expected text (naming the column, task, rows or
duplicate), or returns a result that the expected check accepts. Nothing is silently dropped or merged."""
import math, tempfile, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from adaptive_mtl.data import MultiTaskData, Scaler
from adaptive_mtl.cli import main, read_csv_data
from adaptive_mtl.experiment import read_results, run_study
from adaptive_mtl.trainer import fit, load
from adaptive_mtl.replicates import fit_replicates
import contextlib, io

TMP = Path(tempfile.mkdtemp())
X = pd.DataFrame({"age": np.arange(12.0), "female": [0, 1] * 6})
Y = np.linspace(0, 3, 12) ** 2
T = ["a"] * 6 + ["b"] * 6

def csv(text, **kw):
    "Write `text` to a fresh CSV file and read it with the CLI reader."
    path = TMP / f"case{len(list(TMP.iterdir()))}.csv"; path.write_text(text)
    return read_csv_data(path, **kw)

def groups(**kw): return MultiTaskData.from_groups(**{"X": X, "y": Y, "task": T, **kw})
def targets(Yt, **kw): return MultiTaskData.from_targets(X, Yt, **kw)

def split_quiet(d, **kw):
    with warnings.catch_warnings(): warnings.simplefilter("ignore"); return d.split(**kw)

SCHOOLS = "school,ses,y\n" + "".join(f"{s},{j},{(j * 7) % 5}\n" for s in ("0101", "101", "00101") for j in range(5))
ORTHODONT = "Subject,age,distance\n" + "".join(
    f"{s},{a},{d}\n" for s, ds in (("M14", [25.5] * 4), ("M01", [26, 25, 29, 31]), ("F01", [21, 20, 21.5, 23]))
    for a, d in zip((8, 10, 12, 14), ds))
KIDS = MultiTaskData.from_groups(np.arange(9.)[:, None], [25.5] * 3 + [20, 21, 22, 24, 26, 28], ["M14"] * 3 + ["F01"] * 3 + ["F02"] * 3)
VP = (3 * np.var([20, 21, 22]) + 3 * np.var([24, 26, 28])) / 6          # pooled within-task variance of the varying children
def shrunk(n, v, vp, prior=10): return math.sqrt((n * v + prior * vp) / (n + prior))

CASES = [
    # 1. a constant training target fits on the pooled scale of the other tasks
    ("constant_target_pooled_scale", lambda: Scaler.fit(KIDS),
     lambda sc: np.isclose(sc.y_std[0], np.sqrt(VP)) and sc.y_mean[0] == 25.5
     and np.isclose(sc.y_std[1], shrunk(3, np.var([20, 21, 22]), VP))),
    ("all_targets_constant_pooled_1", lambda: Scaler.fit(groups(y=[1.0] * 6 + [2.0] * 6)),
     lambda sc: np.allclose(sc.y_std, 1.0)),
    ("one_training_row_task_pooled", lambda: Scaler.fit(groups(task=["a"] * 11 + ["b"])),
     lambda sc: np.isclose(sc.y_std[1], Y[:11].std()) and sc.y_mean[1] == Y[11]),
    ("targets_layout_constant_column", lambda: Scaler.fit(targets(np.c_[Y, np.full(12, 4.0)])),
     lambda sc: np.isclose(sc.y_std[1], Y.std()) and sc.y_mean[1] == 4.0),
    ("orthodont_csv_constant_child_fits", lambda: Scaler.fit(csv(ORTHODONT, target="distance", task="Subject")),
     lambda sc: np.isfinite(sc.y_std).all() and sc.y_std[0] > 0),
    # 2. a task too small for a per-task split stays in training, and the split says so
    ("tiny_task_kept_in_training", lambda: split_quiet(groups(task=["a"] * 10 + ["tiny"] * 2)),
     lambda s: s[0].info["kept_in_training"] == {"tiny": 2} and s[1].observed()[1] == 0 and s[2].observed()[1] == 0
     and sum(len(p) for p in s) == 12),
    ("tiny_task_warns_with_name_and_count", lambda: _warning_of(lambda: groups(task=["a"] * 10 + ["tiny"] * 2).split()),
     lambda msg: "'tiny' (2 rows)" in msg and "1 task(s)" in msg),
    ("every_task_too_small", lambda: groups().split(val=0.01, test=0.01), "every task has too few rows"),
    ("targets_layout_too_few_rows", lambda: targets(np.c_[Y]).subset([0, 1]).split(), "too few for a split"),
    ("ordinary_split_no_kept_entry", lambda: groups().split(), lambda s: "kept_in_training" not in s[0].info),
    # 3. data checks report every offender at once
    ("nan_in_two_feature_columns", lambda: groups(X=X.assign(age=[np.nan] * 2 + list(range(10)), female=[np.inf] + [0] * 11)),
     "feature column 'age' has 2 NaN/inf value(s) (rows 0, 1); feature column 'female' has 1 NaN/inf value(s) (rows 0)"),
    ("nan_rows_first_few", lambda: groups(X=X.assign(age=np.nan)), "has 12 NaN/inf value(s) (rows 0, 1, 2, 3, 4, ...)"),
    ("non_numeric_columns_all_named", lambda: groups(X=X.assign(city=["x", "y"] * 6, sector=["p", "c"] * 6)),
     "'city', 'sector' is not numeric"),
    ("task_labels_missing_count_rows", lambda: groups(task=[None, "a"] * 6), "task labels have 6 missing value(s) (rows 0, 2, 4, 6, 8, ...)"),
    ("missing_targets_per_task", lambda: groups(y=np.r_[np.nan, Y[1:6], np.nan, np.nan, Y[8:]]),
     "target has 3 NaN/inf value(s) (first in task 'a'; per task 'a': 1, 'b': 2)"),
    ("unknown_tasks_listed", lambda: groups(task_names=["a"]), "unknown task 'b'"),
    ("targets_inf_all_named", lambda: targets(np.c_[np.r_[np.inf, Y[1:]], np.r_[Y[:-1], -np.inf]]),
     "target 'task0' has 1 infinite value(s); target 'task1' has 1 infinite value(s)"),
    ("targets_empty_all_named", lambda: targets(np.full((12, 2), np.nan)), "target 'task0', 'task1' has no observed value"),
    # 4. task ids are text, exactly as written
    ("csv_numeric_looking_ids_stay_apart", lambda: csv(SCHOOLS, target="y", task="school"),
     lambda d: d.task_names == ["0101", "101", "00101"] and list(d.observed()) == [5, 5, 5]),
    ("csv_ids_leading_zeros_kept", lambda: csv("id,x,y\n007,1,2\n007,2,3\n7,3,1\n7,4,5\n", target="y", task="id"),
     lambda d: d.task_names == ["007", "7"]),
    ("csv_missing_task_label", lambda: csv("g,x,y\na,1,2\n,2,3\nb,3,1\n", target="y", task="g"), "task labels have 1 missing value(s) (rows 1)"),
    # 5. a non-numeric cell in a numeric column names the column and the first rows
    ("csv_question_mark_in_feature", lambda: csv("g,ses,y\n" + "a,1,1\na,?,2\na,3,3\na,?,4\n", target="y", task="g"),
     "'ses' (2 cell(s) such as '?', rows 1, 3)"),
    ("csv_na_text_in_feature", lambda: csv("g,ses,y\n" + "a,1,1\na,n/a,2\na,3,3\n", target="y", task="g"),
     "feature column 'ses' has 1 NaN/inf value(s) (rows 1)"),
    ("csv_question_mark_in_target", lambda: csv("g,x,y\n" + "a,1,1\na,2,?\na,3,3\n", target="y", task="g"), "'y' (1 cell(s) such as '?', rows 1)"),
    ("csv_question_mark_in_targets_layout", lambda: csv("x,a,b\n1,1,2\n2,?,3\n3,4,5\n", targets="a,b"), "'a' (1 cell(s) such as '?', rows 1)"),
    ("object_feature_mostly_numbers", lambda: groups(X=X.assign(age=["1", "2", "x"] + ["4"] * 9)), "'age' (1 cell(s) such as 'x', rows 2)"),
    ("array_target_with_text", lambda: groups(y=np.array(["1.5"] * 11 + ["n/a"], dtype=object)), "(1 cell(s) such as 'n/a', rows 11)"),
    ("csv_missing_target_rows", lambda: csv("g,x,y\na,1,1\na,2,\na,3,3\n", target="y", task="g"), "1 missing value(s) (rows 1)"),
    # 6. duplicate names; the target or task column among the features
    ("duplicate_feature_names", lambda: groups(feature_names=["age", "age"]), "duplicate feature name(s) ['age']"),
    ("duplicate_dataframe_columns", lambda: groups(X=pd.DataFrame(np.ones((12, 2)), columns=["a", "a"])), "duplicate feature name(s) ['a']"),
    ("duplicate_task_names", lambda: groups(task_names=["a", "b", "a"]), "duplicate task name(s) ['a']"),
    ("duplicate_target_names", lambda: targets(np.c_[Y, Y], task_names=["gp", "gp"]), "duplicate target name(s) ['gp']"),
    ("duplicate_target_columns", lambda: targets(pd.DataFrame(np.c_[Y, Y], columns=["gp", "gp"])), "duplicate target name(s) ['gp']"),
    ("csv_duplicate_header", lambda: csv("g,x,x,y\na,1,2,3\na,2,3,4\n", target="y", task="g"), "duplicate CSV column name(s) ['x']"),
    ("csv_duplicate_in_features_flag", lambda: csv(SCHOOLS, target="y", task="school", features="ses,ses"), "duplicate feature name(s) ['ses']"),
    ("csv_duplicate_in_targets_flag", lambda: csv("x,a,b\n1,1,2\n2,2,3\n", targets="a,a"), "duplicate target name(s) ['a']"),
    ("target_series_among_features", lambda: groups(y=X["age"]), "the target column 'age' is also a feature"),
    ("task_series_among_features", lambda: groups(task=X["female"]), "the task column 'female' is also a feature"),
    ("targets_layout_target_among_features", lambda: targets(X[["female"]]), "the target column 'female' is also a feature"),
    ("csv_target_in_features", lambda: csv(SCHOOLS, target="y", task="school", features="ses,y"), "the target column 'y' is also a feature"),
    ("csv_task_in_features", lambda: csv("g,x,y\n1,1,2\n2,2,3\n", target="y", task="g", features="x,g"), "the task column 'g' is also a feature"),
    # 7. non-finite scales, complex numbers, a target with no training value
    ("feature_variance_overflows", lambda: Scaler.fit(groups(X=X.assign(age=X.age * 1e307))), "feature column 'age': the spread overflows"),
    ("target_variance_overflows", lambda: Scaler.fit(groups(y=np.r_[Y[:6], [1e308, -1e308] * 3])), "target of task 'b': the spread overflows"),
    ("complex_feature_array", lambda: groups(X=np.ones((12, 2)) * (1 + 1j)), "features hold complex numbers"),
    ("complex_feature_column", lambda: groups(X=X.assign(z=np.ones(12) * 1j)), "['z'] hold complex numbers"),
    ("complex_target", lambda: groups(y=Y * (1 + 1j)), "target(s) ['y'] hold complex numbers"),
    ("complex_targets_layout", lambda: targets(np.c_[Y, Y * 1j]), "hold complex numbers"),
    ("target_without_training_value", lambda: Scaler.fit(targets(np.c_[Y, np.r_[[np.nan] * 11, 1.0]]).subset(np.arange(11))),
     "target 'task1' has no observed value in the training rows"),
    ("task_without_training_rows", lambda: Scaler.fit(groups().subset(np.arange(6))), "task 'b' has no training rows"),
    # 8. a task whose history columns would be the mean loss columns that early stopping reads
    ("task_named_loss", lambda: fit("stl", groups(task=["loss"] * 6 + ["b"] * 6), epochs=1, progress=False), "a task is named 'loss'"),
    ("task_named_loss_replicates", lambda: fit_replicates("stl", (groups(task=["loss"] * 6 + ["b"] * 6), None), [0, 1], epochs=1),
     "a task is named 'loss'"),
]

def _warning_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always"); call()
    assert len(caught) == 1, [str(w.message) for w in caught]
    return str(caught[0].message)

@pytest.mark.parametrize("make, expected", [pytest.param(m, e, id=i) for i, m, e in CASES])
def test_bad_input(make, expected):
    if isinstance(expected, str):
        with pytest.raises(ValueError) as err: make()
        assert expected in str(err.value), str(err.value)
    else:
        assert expected(make())

def test_case_ids_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# ---- the command line and the results file: unusable output locations, split options, divergence, torn files ----
GROUPS_CSV = TMP / "groups.csv"
GROUPS_CSV.write_text("g,x,y\n" + "".join(f"g{i % 3},{i},{i * 7 % 11}\n" for i in range(60)))
(TMP / "a_file").write_text("")

def cli(*argv):
    "Run `adaptive-mtl` in-process: `(exit code, stderr)`."
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try: code = main([str(a) for a in argv])
        except SystemExit as e: code = e.code                       # argparse's errors
    return code, err.getvalue()

def fit_cli(out, *more): return cli("fit", GROUPS_CSV, "--target", "y", "--task", "g", "--out", out, "--quiet", *more)

def torn(tail: str, name: str):
    "A results file of two seeds whose bytes `tail` cuts or extends, resumed by `run_study`: `(first run, resumed run, file)`."
    path = TMP / f"{name}.csv"
    spec = {"mixed": dict(scenario="mixed", n_train=20)}
    full = run_study(["stl"], spec, n_reps=2, out=path, progress=False, fit_kwargs=dict(epochs=2))
    path.write_bytes(tail(path.read_bytes()))
    again = run_study(["stl"], spec, n_reps=2, out=path, progress=False, fit_kwargs=dict(epochs=2))
    return full, again, read_results(path)

def same_rows(r): return len(r[1]) == len(r[0]) == len(r[2]) and (r[1].sort_values(["seed", "task"]).test_mse.to_numpy()
                                                                   == r[0].sort_values(["seed", "task"]).test_mse.to_numpy()).all()

RUN_CASES = [
    ("out_is_an_existing_file", lambda: fit_cli(TMP / "a_file"), lambda r: r[0] == 2 and "is a file; give a folder" in r[1]),
    ("out_not_writable", lambda: fit_cli("/proc/no_such_folder"), lambda r: r[0] == 2 and "is not writable" in r[1]),
    ("out_checked_before_training", lambda: fit_cli(TMP / "a_file", "--epochs", "100000"), lambda r: r[0] == 2),
    ("val_0_test_0_fits_in_sample", lambda: (fit_cli(TMP / "vt0", "--val", "0", "--test", "0", "--epochs", "3"),
                                             pd.read_csv(TMP / "vt0" / "metrics.csv")),
     lambda r: r[0][0] == 0 and set(r[1].split) == {"training (in-sample)"} and "test" not in " ".join(r[1].columns)),
    ("test_0_labelled_validation", lambda: (fit_cli(TMP / "t0", "--test", "0", "--epochs", "3"), pd.read_csv(TMP / "t0" / "metrics.csv")),
     lambda r: r[0][0] == 0 and set(r[1].split) == {"validation"}),
    ("divergence_saves_model_exit_2", lambda: (fit_cli(TMP / "div", "--lr", "1e12"), load(TMP / "div" / "model.pt")),
     lambda r: r[0][0] == 2 and r[0][1].count("\n") == 1 and "non-finite loss" in r[0][1] and "model.pt" in r[0][1]
     and all(bool(p.isfinite().all()) for p in r[1].model.parameters())),
    ("device_cuda_without_gpu", lambda: fit_cli(TMP / "cuda", "--device", "cuda"),
     lambda r: r[0] == 2 and "no CUDA device" in r[1] and r[1].count("\n") == 1),
    ("reps_0", lambda: cli("simulate", "--reps", "0", "--out", TMP / "sim0"), lambda r: r[0] == 2 and "--reps" in r[1]),
    ("epochs_0", lambda: fit_cli(TMP / "e0", "--epochs", "0"), lambda r: r[0] == 2 and "--epochs" in r[1]),
    ("hidden_text", lambda: fit_cli(TMP / "h", "--hidden", "sixty"), lambda r: r[0] == 2 and "--hidden" in r[1]),
    ("results_last_line_without_newline", lambda: torn(lambda b: b.rstrip(b"\n"), "no_newline"), same_rows),
    ("results_torn_last_line", lambda: torn(lambda b: b[:-40], "torn_line"), same_rows),
    ("results_torn_inside_a_character", lambda: torn(lambda b: b + "mixed_n20_K6,STL,1,task0,True,20,0.5,λ".encode()[:-1], "torn_char"), same_rows),
]

@pytest.mark.parametrize("make, expected", [pytest.param(m, e, id=i) for i, m, e in RUN_CASES])
def test_run_fault(make, expected):
    assert expected(make())

def test_run_case_ids_unique():
    ids = [c[0] for c in CASES + RUN_CASES]
    assert len(ids) == len(set(ids))
