"""The trainer never loses or mislabels a result: a table of faults, each with the named error it gives or the right result.

Each case is `(id, run, expect)`: `run(ctx)` does the faulty thing; `expect` is either the substring of the `ValueError`
(one line) it must raise, or a function `check(ctx, value)` of what `run` returned."""
import math
import numpy as np, pytest, torch
from adaptive_mtl.data import MultiTaskData
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.methods import HPS
from adaptive_mtl.trainer import TrainingError, fit, load


class FailsAt(HPS):
    "HPS whose penalty turns NaN from step `at` on: a divergence on cue."
    def __init__(self, at): super().__init__(); self.at = at
    def penalty(self, model, info): return super().penalty(model, info) + (math.nan if info.step >= self.at else 0.0)


class Ctx:
    "A small simulation, a model fitted on it (features x0..x4), one on named features, and a saved model file."
    def __init__(self, tmp):
        self.sim = make_simulation("mixed", n_train=40, n_test=30, n_features=5, seed=0)
        self.res = fit("hps", self.sim.train, self.sim.val, seed=0, epochs=20, progress=False)
        self.named = self.rename(self.sim.train, ["age", "dose", "weight", "height", "score"])
        self.named_res = fit("hps", self.named, seed=0, epochs=5, progress=False)
        self.file = self.res.save(tmp / "model.pt")
        self.saved, self.tmp = torch.load(self.file, weights_only=True), tmp

    @staticmethod
    def rename(d, names, order=None):
        "`d` with its features named `names` (the columns taken in `order`)."
        order = list(range(d.n_features)) if order is None else order
        return MultiTaskData(d.X[:, order], d.y, d.task, d.task_names, list(names), d.layout, d.info)

    def altered(self, **changes):
        "Load a copy of the saved file with entries changed (a value of `None` drops the entry)."
        d = {k: v for k, v in {**self.saved, **changes}.items() if v is not None}
        torch.save(d, self.tmp / "altered.pt")
        return load(self.tmp / "altered.pt")

    def diverged(self, *args, **kw):
        "The `TrainingError` of a fit that must fail."
        with pytest.raises(TrainingError) as info: fit(*args, progress=False, **kw)
        return info.value


@pytest.fixture(scope="module")
def ctx(tmp_path_factory): return Ctx(tmp_path_factory.mktemp("faults"))


def _same_predictions(ctx, value): np.testing.assert_array_equal(value, ctx.res.predict(ctx.sim.test))
def _loaded_predicts(ctx, value): np.testing.assert_array_equal(value.predict(ctx.sim.test), ctx.res.predict(ctx.sim.test))

def _best_of_30_epochs(ctx, err):
    "What a divergence at epoch 30 keeps is the early-stopping state of the 30 good epochs."
    stopped = fit("hps", ctx.sim.train, ctx.sim.val, seed=0, epochs=30, progress=False)
    assert "non-finite loss at step" in str(err) and "(epoch 30)" in str(err), err
    np.testing.assert_array_equal(err.result.predict(ctx.sim.test), stopped.predict(ctx.sim.test))
    assert (err.result.best_epoch, len(err.result.history)) == (stopped.best_epoch, 30)

def _last_finite_of_7_epochs(ctx, err):
    "Without validation, what a divergence at epoch 7 keeps is the weights after the 7th epoch."
    stopped = fit("hps", ctx.sim.train, seed=0, epochs=7, progress=False)
    np.testing.assert_array_equal(err.result.predict(ctx.sim.test), stopped.predict(ctx.sim.test))
    assert (err.result.best_epoch, len(err.result.history)) == (6, 7)

def _initial_weights(ctx, err):
    "A divergence before the first epoch ends keeps the initial weights: finite predictions, epoch -1, empty history."
    assert (err.result.best_epoch, len(err.result.history)) == (-1, 0)
    assert np.isfinite(err.result.predict(ctx.sim.test)).all()

def _finite_best(ctx, err):
    "A real divergence (lr = 1e6): finite weights and predictions, and a saved result loads back."
    assert all(torch.isfinite(p).all() for p in err.result.model.parameters())
    assert np.isfinite(err.result.predict(ctx.sim.test)).all()
    back = load(err.result.save(ctx.tmp / "diverged.pt"))
    np.testing.assert_array_equal(back.predict(ctx.sim.test), err.result.predict(ctx.sim.test))


def _not_by_position(ctx, value):
    "Values of x1 labelled x0 and of x0 labelled x1 are put back by name: the predictions differ from the unlabelled ones."
    assert not np.array_equal(value, ctx.res.predict(ctx.sim.test))
    swapped = ctx.rename(ctx.sim.test, ["x0", "x1", "x2", "x3", "x4"], [1, 0, 2, 3, 4])
    np.testing.assert_array_equal(value, ctx.res.predict(swapped))


def _targets(d):
    "The groups-layout split `d` as the targets layout (a row per task row, NaN elsewhere)."
    Y = np.full((len(d), d.n_tasks), np.nan); Y[np.arange(len(d)), d.task] = d.y
    return MultiTaskData.from_targets(d.X, Y, d.feature_names, d.task_names)


CASES = [
    # --- predictions match features by name, never by position
    ("columns_reordered_predict", lambda c: c.res.predict(c.rename(c.sim.test, ["x4", "x3", "x2", "x1", "x0"], [4, 3, 2, 1, 0])),
     _same_predictions),
    ("columns_swapped_two", lambda c: c.res.predict(c.rename(c.sim.test, ["x1", "x0", "x2", "x3", "x4"], [1, 0, 2, 3, 4])),
     _same_predictions),
    ("columns_reordered_evaluate", lambda c: c.res.evaluate(c.rename(c.sim.test, ["x2", "x0", "x1", "x4", "x3"], [2, 0, 1, 4, 3])),
     lambda c, v: np.testing.assert_array_equal(v.to_numpy(), c.res.evaluate(c.sim.test).to_numpy())),
    ("columns_reordered_targets_layout", lambda c: fit("hps", _targets(c.sim.train), seed=0, epochs=3, progress=False),
     lambda c, r: np.testing.assert_array_equal(
         r.predict(c.rename(_targets(c.sim.test), ["x3", "x4", "x0", "x1", "x2"], [3, 4, 0, 1, 2])), r.predict(_targets(c.sim.test)))),
    ("columns_positional_names_swapped_values_not", lambda c: c.res.predict(c.rename(c.sim.test, ["x1", "x0", "x2", "x3", "x4"])),
     _not_by_position),
    ("column_renamed", lambda c: c.res.predict(c.rename(c.sim.test, ["x0", "x1", "x2", "x3", "age"])), "missing ['x4']; unknown ['age']"),
    ("column_missing", lambda c: c.res.predict(MultiTaskData.from_groups(c.sim.test.X[:, :4], c.sim.test.y, np.array(c.sim.test.task_names)[c.sim.test.task],
                                                                          feature_names=["x0", "x1", "x2", "x3"])), "missing ['x4']"),
    ("column_extra", lambda c: c.res.predict(MultiTaskData.from_groups(np.c_[c.sim.test.X, c.sim.test.X[:, :1]], c.sim.test.y,
                                                                        np.array(c.sim.test.task_names)[c.sim.test.task])), "unknown ['x5']"),
    ("named_model_array_data", lambda c: c.named_res.predict(c.sim.test), "pass feature_names"),
    ("named_model_reordered", lambda c: c.named_res.predict(c.rename(c.sim.test, ["score", "height", "weight", "dose", "age"], [4, 3, 2, 1, 0])),
     lambda c, v: np.testing.assert_array_equal(v, c.named_res.predict(c.rename(c.sim.test, ["age", "dose", "weight", "height", "score"])))),
    ("array_data_array_model", lambda c: fit("hps", MultiTaskData.from_groups(c.sim.train.X, c.sim.train.y, c.sim.train.task), seed=0, epochs=3,
                                             progress=False).predict(MultiTaskData.from_groups(c.sim.test.X, c.sim.test.y, c.sim.test.task)),
     lambda c, v: np.isfinite(v).all() or pytest.fail("no prediction")),
    ("evaluate_column_renamed", lambda c: c.res.evaluate(c.rename(c.sim.test, ["a", "x1", "x2", "x3", "x4"])), "missing ['x0']; unknown ['a']"),
    ("val_columns_renamed", lambda c: fit("hps", c.sim.train, c.rename(c.sim.val, ["x0", "x1", "x2", "x3", "z"]), epochs=2, progress=False),
     "unknown ['z']"),
    # --- divergence: the result holds the best weights seen, or the last finite ones
    ("nan_after_30_epochs_with_val", lambda c: c.diverged(FailsAt(2 * 30), c.sim.train, c.sim.val, seed=0), _best_of_30_epochs),
    ("nan_after_7_epochs_no_val", lambda c: c.diverged(FailsAt(2 * 7), c.sim.train, seed=0, epochs=20), _last_finite_of_7_epochs),
    ("nan_at_first_step", lambda c: c.diverged(FailsAt(0), c.sim.train, c.sim.val, seed=0), _initial_weights),
    ("lr_1e6_diverges", lambda c: c.diverged("hps", c.sim.train, c.sim.val, lr=1e6, seed=0), _finite_best),
    ("lr_1e12_no_val", lambda c: c.diverged("hps", c.sim.train, lr=1e12, seed=0, epochs=30), _finite_best),
    # --- malformed arguments of fit
    ("hidden_string", lambda c: fit("hps", c.sim.train, hidden="64"), "hidden must be a positive integer or a list"),
    ("hidden_zero", lambda c: fit("hps", c.sim.train, hidden=0), "got 0"),
    ("hidden_negative_width", lambda c: fit("hps", c.sim.train, hidden=(32, -4)), "got (32, -4)"),
    ("hidden_empty", lambda c: fit("hps", c.sim.train, hidden=()), "hidden must be"),
    ("hidden_float_width", lambda c: fit("hps", c.sim.train, hidden=(32.5,)), "hidden must be"),
    ("hidden_bool", lambda c: fit("hps", c.sim.train, hidden=True), "hidden must be"),
    ("hidden_list_and_numpy_int_ok", lambda c: fit("hps", c.sim.train, hidden=[np.int64(8), 4], epochs=2, progress=False),
     lambda c, r: r.config["hidden"] == (8, 4) or pytest.fail(r.config)),
    ("epochs_float", lambda c: fit("hps", c.sim.train, epochs=2.5), "epochs must be an integer >= 1, got 2.5"),
    ("epochs_string", lambda c: fit("hps", c.sim.train, epochs="10"), "epochs must be an integer >= 1"),
    ("epochs_zero", lambda c: fit("hps", c.sim.train, epochs=0), "epochs must be an integer >= 1"),
    ("batch_size_zero", lambda c: fit("hps", c.sim.train, batch_size=0), "batch_size must be an integer >= 1"),
    ("patience_negative", lambda c: fit("hps", c.sim.train, patience=-3), "patience must be an integer >= 1"),
    ("min_epochs_negative", lambda c: fit("hps", c.sim.train, min_epochs=-1), "min_epochs must be an integer >= 0"),
    ("lr_nan", lambda c: fit("hps", c.sim.train, lr=float("nan")), "lr must be positive and finite"),
    ("lr_string", lambda c: fit("hps", c.sim.train, lr="0.01"), "lr must be positive"),
    ("weight_decay_negative", lambda c: fit("hps", c.sim.train, weight_decay=-0.1), "weight_decay must be >= 0"),
    ("dropout_one", lambda c: fit("hps", c.sim.train, dropout=1.0), "dropout must be in [0, 1)"),
    ("val_array", lambda c: fit("hps", c.sim.train, c.sim.val.X), "val must be a MultiTaskData or None"),
    ("device_unknown", lambda c: fit("hps", c.sim.train, device="gpu"), "unknown device 'gpu'"),
    pytest.param("device_cuda_without_gpu", lambda c: fit("hps", c.sim.train, device="cuda"), "no CUDA device is available",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")),
    # --- load: a model file with missing, unknown or inconsistent entries
    ("load_missing_entry", lambda c: c.altered(scaler=None), "missing entries ['scaler']"),
    ("load_missing_two_entries", lambda c: c.altered(history=None, layout=None), "missing entries ['layout', 'history']"),
    ("load_unknown_entry", lambda c: c.altered(optimizer_state={"lr": 1.0}), "unknown entries ['optimizer_state']"),
    ("load_model_state_wrong_shape", lambda c: c.altered(model_state={**c.saved["model_state"], "head.weight": c.saved["model_state"]["head.weight"][:2]}),
     "entry 'model_state'"),
    ("load_model_state_missing_tensor", lambda c: c.altered(model_state={k: v for k, v in c.saved["model_state"].items() if k != "head.bias"}),
     "entry 'model_state'"),
    ("load_model_config_unknown_key", lambda c: c.altered(model_config={**c.saved["model_config"], "depth": 3}), "entry 'model_config'"),
    ("load_method_config_unknown_option", lambda c: c.altered(method_config={"lam": 1.0}), "entry 'method_config'"),
    ("load_scaler_wrong_shape", lambda c: c.altered(scaler={**c.saved["scaler"], "x_mean": torch.zeros(3)}), "x_mean has shape (3,)"),
    ("load_scaler_missing_vector", lambda c: c.altered(scaler={k: v for k, v in c.saved["scaler"].items() if k != "y_std"}), "entry 'scaler'"),
    ("load_task_names_wrong_count", lambda c: c.altered(task_names=c.saved["task_names"][:2]), "entry 'task_names'"),
    ("load_bad_layout", lambda c: c.altered(layout="wide"), "entry 'layout'"),
    pytest.param("load_device_cuda_without_gpu", lambda c: load(c.file, device="cuda"), "no CUDA device is available",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")),
    ("load_round_trip", lambda c: load(c.file), _loaded_predicts),
    ("load_auto_device", lambda c: load(c.file, device="auto"), _loaded_predicts),
]


def _params(cases):
    "The table as pytest parameters, the first field as the id (marks kept)."
    for c in cases:
        if hasattr(c, "values"): yield pytest.param(*c.values[1:], id=c.values[0], marks=c.marks)
        else: yield pytest.param(*c[1:], id=c[0])


@pytest.mark.parametrize("run,expect", list(_params(CASES)))
def test_fault(ctx, run, expect):
    if isinstance(expect, str):
        with pytest.raises(ValueError) as info: run(ctx)
        assert expect in str(info.value), str(info.value)
        assert "\n" not in str(info.value), "the error should be one line"
    else:
        expect(ctx, run(ctx))
