"""Trainer properties that read badly in a notebook."""
import numpy as np, torch, pytest
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.methods import SPS, STL
from adaptive_mtl.soft import mean_constraint
from adaptive_mtl.trainer import fit

@pytest.fixture(scope="module")
def sim(): return make_simulation("mixed", n_train=40, n_test=50, seed=2)

def test_sps_lambda_zero_is_stl(sim):
    a = fit(STL(), sim.train, sim.val, seed=3, epochs=15, progress=False)
    b = fit(SPS(lam=0.0), sim.train, sim.val, seed=3, epochs=15, progress=False)
    np.testing.assert_array_equal(a.predict(sim.test), b.predict(sim.test))

def test_large_lambda_pulls_trunks_together(sim):
    spread = {lam: mean_constraint(fit(SPS(lam=lam), sim.train, seed=0, epochs=15, progress=False).model.trunk_params()).item()
              for lam in (0.0, 1.0, 100.0)}
    assert spread[100.0] < spread[1.0] < spread[0.0], spread
    assert spread[100.0] < 0.01 * spread[0.0], spread

def test_targets_layout_trains_with_missing_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)); Y = np.c_[X @ [1, 2, 0], X @ [1, 2, 0.5]] + 0.1 * rng.normal(size=(200, 2))
    Y[rng.random(200) < 0.3, 1] = np.nan
    from adaptive_mtl.data import MultiTaskData
    d = MultiTaskData.from_targets(X, Y, task_names=["a", "b"])
    tr, va, te = d.split(seed=0)
    res = fit("hps", tr, va, seed=0, progress=False)
    ev = res.evaluate(te)
    assert ev.loc["b", "n"] == int((~np.isnan(te.y[:, 1])).sum())
    assert ev.loc["overall", "r2"] > 0.9, ev
    assert res.predict(te).shape == (len(te), 2)

def test_reproducible_on_cpu(sim):
    a = fit("sps", sim.train, sim.val, seed=5, epochs=10, progress=False)
    b = fit("sps", sim.train, sim.val, seed=5, epochs=10, progress=False)
    np.testing.assert_array_equal(a.predict(sim.test), b.predict(sim.test))

def test_bad_arguments_are_named(sim):
    with pytest.raises(ValueError, match="lr must be positive"): fit("hps", sim.train, lr=0)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"): fit("hps", sim.train, optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match="train must be a MultiTaskData"): fit("hps", sim.train.X)

def test_asps_file_with_flat_theta_options_loads():
    "A model saved when ASPS kept θ's options (theta_max, warmup, patience) beside `theta` loads into the rule and predicts as saved."
    import numpy as np
    from pathlib import Path
    from adaptive_mtl.datasets import make_simulation
    from adaptive_mtl.trainer import load
    here = Path(__file__).parent / "data"
    r = load(here / "asps_flat_theta_options.pt")
    assert r.method.theta == {"rule": "sign", "theta_max": 0.3, "warmup": 3, "patience": 5}
    test = make_simulation("mixed", n_train=30, n_test=40, seed=0).test
    np.testing.assert_allclose(r.predict(test), np.load(here / "asps_flat_theta_options_pred.npy"), rtol=1e-5, atol=1e-6)   # float32 kernels differ by CPU

def test_random_effects_converge_without_validation(sim):
    "Without a validation split the random-effects part is re-fitted on the training rows to the likelihood's maximum (a second re-fit moves nothing); `refit_random=False` keeps the training-time EM state; replicates agree."
    from adaptive_mtl.data import TaskTensors
    from adaptive_mtl.replicates import fit_replicates
    from adaptive_mtl.trainer import _refit_random
    options = dict(random_effects="intercept", epochs=5, seed=0, progress=False)
    r = fit("hps", sim.train, None, **options)
    G, s2 = r.random.G.clone(), r.random.sigma2.clone()
    _refit_random(r, [TaskTensors(sim.train, r.scaler)])
    torch.testing.assert_close(r.random.G, G, rtol=1e-4, atol=1e-8); torch.testing.assert_close(r.random.sigma2, s2, rtol=1e-5, atol=0)
    em = fit("hps", sim.train, None, refit_random=False, **options).random
    assert (em.G - G).abs().max() > 1e-3                                  # EM's state after training is elsewhere
    alone = fit_replicates("hps", (sim.train, None), [0, 1], **{k: v for k, v in options.items() if k not in ("seed", "progress")})[0].random
    torch.testing.assert_close(alone.G, G, rtol=1e-6, atol=1e-10); torch.testing.assert_close(alone.sigma2, s2, rtol=1e-6, atol=0)
