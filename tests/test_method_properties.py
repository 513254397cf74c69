"""Shared properties of every method (the same invariants applied to STL, HPS, SPS, AHPS and ASPS):
the batched forward and loss equal a per-task loop, save/load is exact, a seed fixes the fit,
and a method with its adaptivity switched off equals its baseline."""
import numpy as np
import pytest
import torch
from adaptive_mtl.data import Scaler, TaskTensors
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.methods import STL, HPS, SPS, AHPS, ASPS
from adaptive_mtl.trainer import fit, load, task_losses

torch.set_num_threads(1)
FAST = dict(epochs=6, hidden=(8, 8), batch_size=8, progress=False)     # 4 steps per epoch, 24 in all
# AHPS with a short warm-up so that nodes split within the fit; ASPS with its default warm-up (20 steps) and frequent updates
METHODS = {"STL": lambda: STL(), "HPS": lambda: HPS(), "SPS": lambda: SPS(lam=0.05),
           "AHPS": lambda: AHPS(statistic="sign", warmup=3, sign_threshold=2),
           "ASPS": lambda: ASPS(update_every=2)}
EVERY = pytest.mark.parametrize("name", list(METHODS))

@pytest.fixture(scope="module")
def sim(): return make_simulation("mixed", n_train=30, n_val=15, n_test=40, seed=4)

@pytest.fixture(scope="module")
def fits(sim):
    "One short fit per method, shared by the tests that only read it."
    return {n: fit(m(), sim.train, sim.val, seed=1, **FAST) for n, m in METHODS.items()}

def per_task_forward(model, x):
    "Task k's prediction computed alone: its own (or the shared) weights of every layer, a plain matmul, no batching."
    out = []
    for k in range(model.n_tasks):
        h = x[k]
        for layer in model.trunk_layers():
            w, b = (layer.weight, layer.bias) if layer.weight.dim() == 2 else (layer.weight[k], layer.bias[k])
            h = model.act(h @ w.T + b)
        out.append((h @ model.head.weight[k].T + model.head.bias[k]).squeeze(-1))
    return torch.stack(out)

@EVERY
def test_batched_forward_equals_a_per_task_loop(fits, sim, name):
    r = fits[name]
    x, y, mask = TaskTensors(sim.test, r.scaler).full()
    r.model.eval()
    with torch.no_grad(): batched, alone = r.model(x), per_task_forward(r.model, x)
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)
    # each task's output depends on its own rows only: perturbing task 0's inputs leaves the other tasks unchanged
    x2 = x.clone(); x2[0] += 1.0
    with torch.no_grad(): moved = r.model(x2)
    torch.testing.assert_close(moved[1:], batched[1:], rtol=0, atol=0)

@EVERY
def test_task_losses_equal_per_task_mse(fits, sim, name):
    r = fits[name]
    x, y, mask = TaskTensors(sim.val, r.scaler).full()
    with torch.no_grad(): pred = r.model(x)
    batched = task_losses(pred, y, mask)
    loop = torch.stack([((pred[k][mask[k]] - y[k][mask[k]]) ** 2).mean() for k in range(len(y))])
    torch.testing.assert_close(batched, loop, rtol=1e-6, atol=1e-7)
    # the validation losses the trainer logged at the restored epoch are the per-task MSEs of the restored model
    row = r.history.iloc[r.best_epoch]
    ev = r.evaluate(sim.val, standardized=True)
    np.testing.assert_allclose([row[f"val_{t}"] for t in r.task_names], ev.loc[r.task_names, "mse"], rtol=1e-5)

def same_state(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys(); [same_state(a[k], b[k]) for k in a]
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b); [same_state(u, v) for u, v in zip(a, b)]
    elif isinstance(a, torch.Tensor): torch.testing.assert_close(a, b, rtol=0, atol=0)
    elif isinstance(a, np.ndarray): np.testing.assert_array_equal(a, b)
    else: assert a == b or (a != a and b != b), (a, b)

@EVERY
def test_save_load_round_trip(fits, sim, name, tmp_path):
    r = fits[name]
    back = load(r.save(tmp_path / f"{name}.pt"))
    np.testing.assert_array_equal(back.predict(sim.test), r.predict(sim.test))
    assert back.method.config() == r.method.config() and back.best_epoch == r.best_epoch
    same_state(back.method.state_dict(), r.method.state_dict())
    assert (back.task_names, back.feature_names, back.layout) == (r.task_names, r.feature_names, r.layout)
    assert back.history.drop(columns="seconds").equals(r.history.drop(columns="seconds"))

@EVERY
def test_same_seed_same_fit(fits, sim, name):
    again = fit(METHODS[name](), sim.train, sim.val, seed=1, **FAST)
    r = fits[name]
    np.testing.assert_array_equal(again.predict(sim.test), r.predict(sim.test))
    assert again.history.drop(columns="seconds").equals(r.history.drop(columns="seconds"))
    same_state(again.method.state_dict(), r.method.state_dict())

# adaptivity switched off: no early stopping (the adaptive methods' warm-up would move the first restorable epoch)
OFF = dict(epochs=8, hidden=(8, 8), progress=False, seed=2)

def test_ahps_that_never_splits_is_hps(sim):
    "Identical start, identical (tied) gradients: the per-task copies of an unsplit trunk move like HPS's shared trunk."
    off = fit(AHPS(statistic="sign", warmup=1, sign_threshold=1, max_split_fraction=0.0), sim.train, **OFF)
    hps = fit(HPS(), sim.train, **OFF)
    assert len(off.events) == 0 and off.n_params == hps.n_params
    np.testing.assert_allclose(off.predict(sim.test), hps.predict(sim.test), rtol=0, atol=1e-5)   # summation order only

def test_asps_without_similarity_and_theta_is_sps(sim):
    "θ='none' keeps every term and similarity='none' gives S≡1, so λ*_k = λ0·mean_{j≠k} S_kj = λ0 under the mean coupling."
    lam0 = 0.3
    asps = fit(ASPS(theta="none", similarity="none", coupling="mean", lam0=lam0), sim.train, **OFF)
    sps = fit(SPS(lam=lam0), sim.train, **OFF)
    lam = asps.history.filter(like="lam_").iloc[-1].to_numpy()
    if lam.size: np.testing.assert_allclose(lam, lam0, rtol=1e-6)
    np.testing.assert_allclose(asps.predict(sim.test), sps.predict(sim.test), rtol=1e-6, atol=0)    # bitwise today

def test_sps_without_coupling_is_stl(sim):
    "λ=0 leaves K independent trunks from the same initial draw: exactly STL, bitwise."
    a = fit(SPS(lam=0.0), sim.train, sim.val, seed=2, **FAST)
    b = fit(STL(), sim.train, sim.val, seed=2, **FAST)
    np.testing.assert_array_equal(a.predict(sim.test), b.predict(sim.test))
