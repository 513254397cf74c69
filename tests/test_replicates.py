"""The replicate axis: R seeds of any method (STL, HPS, SPS, AHPS, ASPS) trained as one batched model give each seed what `fit` gives it alone."""
import numpy as np, pandas as pd, pytest
from adaptive_mtl.data import MultiTaskData
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit
from adaptive_mtl.methods import AHPS, ASPS
from adaptive_mtl.decay import SignRule
from adaptive_mtl.replicates import ensemble_predict, fit_replicates

SEEDS = [3, 4, 5]
SIMS = [make_simulation("mixed", n_train=30, seed=s) for s in SEEDS]
KW = dict(epochs=25, patience=4)

def same(batched, alone, tests, eps=1e-5):
    for b, a, te in zip(batched, alone, tests):
        assert b.best_epoch == a.best_epoch and len(b.history) == len(a.history)
        mb, ma = b.evaluate(te).loc["overall", "mse"], a.evaluate(te).loc["overall", "mse"]
        assert abs(mb / ma - 1) <= eps, (mb, ma)
        np.testing.assert_allclose(b.history.train_loss, a.history.train_loss, rtol=1e-5)

@pytest.mark.parametrize("method", ["stl", "hps", "sps", "ahps", "asps"])
@pytest.mark.parametrize("batch_size, with_val", [(8, True), (1000, False)])
def test_replicate_equals_fit_alone(method, batch_size, with_val):
    draws = [(s.train, s.val if with_val else None) for s in SIMS]
    batched = fit_replicates(method, draws, SEEDS, batch_size=batch_size, **KW)
    alone = [fit(method, tr, va, seed=sd, batch_size=batch_size, progress=False, **KW) for (tr, va), sd in zip(draws, SEEDS)]
    same(batched, alone, [s.test for s in SIMS])

@pytest.mark.parametrize("method", [AHPS(warmup=5, window=40, layers=[1]), AHPS(statistic="sign", warmup=5, max_split_fraction=0.3, window=25),
                                    AHPS(statistic="snr-bias", warmup=5, tau=0.05)])
@pytest.mark.parametrize("batch_size", [8, 1000])
def test_ahps_replicates_split_as_alone(method, batch_size):
    "Each replicate splits the same nodes at the same steps as alone, with a decision window and with adapted layers chosen."
    sims = [make_simulation("unrelated", n_train=40, seed=s) for s in SEEDS]
    draws = [(s.train, s.val) for s in sims]
    batched = fit_replicates(method, draws, SEEDS, batch_size=batch_size, **KW)
    alone = [fit(method, tr, va, seed=sd, batch_size=batch_size, progress=False, **KW) for (tr, va), sd in zip(draws, SEEDS)]
    same(batched, alone, [s.test for s in sims])
    assert sum(len(b.method.events) for b in batched) > 0
    for b, a in zip(batched, alone):
        assert b.method.events == a.method.events and b.method.state_dict()["active"] == a.method.state_dict()["active"]
        pd.testing.assert_frame_equal(b.history.drop(columns="seconds"), a.history.drop(columns="seconds"))
        assert [l.track for l in b.model.trunk] == [False, False]            # the returned model ties its own gradients

@pytest.mark.parametrize("method", [ASPS(similarity="gradient", coupling="mean", theta="linear"), ASPS(similarity="early_gradient", update_every=2),
                                    ASPS(similarity="prediction", theta="similarity", update_every=3), ASPS(similarity="parameter", theta="constant")])
@pytest.mark.parametrize("batch_size", [8, 1000])
def test_asps_replicates_keep_their_own_penalty(method, batch_size):
    "Each replicate's similarity, λ* and removed terms evolve as alone, whatever the similarity source, coupling and θ rule."
    for b, a in asps_as_alone(method, batch_size):
        assert bool((b.method.state_dict()["tracker"]["matrix"] == a.method.state_dict()["tracker"]["matrix"]).all())

def asps_as_alone(method, batch_size, sims=SIMS) -> list:
    "`(batched, alone)` fits of each seed of `SEEDS` on its simulation in `sims`, after checking that they agree: test MSE, history, removed terms."
    draws = [(s.train, s.val) for s in sims]
    batched = fit_replicates(method, draws, SEEDS, batch_size=batch_size, **KW)
    alone = [fit(method, tr, va, seed=sd, batch_size=batch_size, progress=False, **KW) for (tr, va), sd in zip(draws, SEEDS)]
    same(batched, alone, [s.test for s in sims])
    for b, a in zip(batched, alone):
        pd.testing.assert_frame_equal(b.history.drop(columns="seconds"), a.history.drop(columns="seconds"))
        assert all(bool((mb == ma).all()) for mb, ma in zip(b.method.state_dict()["masks"], a.method.state_dict()["masks"]))
    return list(zip(batched, alone))

def test_an_asps_ensemble_computes_its_pilot_once(monkeypatch):
    "Members on one data draw share its pilot similarity, computed once; each still gets its fit alone (similarity, history, removed terms)."
    import adaptive_mtl.similarity as similarity
    calls, pilot = [], similarity.shrinkage_similarity
    monkeypatch.setattr(similarity, "shrinkage_similarity", lambda *args, **kw: calls.append(1) or pilot(*args, **kw))
    for b, a in asps_as_alone("asps", 8, sims=[SIMS[0]] * len(SEEDS)):
        assert bool((b.method.state_dict()["tracker"]["matrix"] == a.method.state_dict()["tracker"]["matrix"]).all())
    assert len(calls) == 1 + len(SEEDS)                                   # once for the batch, once for each fit alone

def test_unequal_sizes_in_one_full_batch():
    sims = [make_simulation("related", n_train=n, seed=s) for n, s in ((20, 0), (35, 1))]
    draws = [(s.train, s.val) for s in sims]
    batched = fit_replicates("hps", draws, [0, 1], batch_size=1000, **KW)
    same(batched, [fit("hps", tr, va, seed=s, batch_size=1000, progress=False, **KW) for (tr, va), s in zip(draws, [0, 1])],
         [s.test for s in sims])

def test_targets_layout():
    rng = np.random.default_rng(0); X = rng.normal(size=(60, 3)); Y = X @ rng.normal(size=(3, 2)) + rng.normal(size=(60, 2))
    Y[::7, 1] = np.nan
    d = MultiTaskData.from_targets(X, pd.DataFrame(Y, columns=["a", "b"]))
    draws = [d.split(0.2, 0.2, seed=s)[:2] for s in (0, 1)]
    tests = [d.split(0.2, 0.2, seed=s)[2] for s in (0, 1)]
    for method in ("sps", ASPS(similarity="prediction", update_every=2)):          # the prediction similarity pools the shared rows
        same(fit_replicates(method, draws, [0, 1], **KW), [fit(method, tr, va, seed=s, progress=False, **KW) for (tr, va), s in zip(draws, [0, 1])], tests)

def test_ensemble_members_differ_and_average():
    members = fit_replicates("stl", (SIMS[0].train, SIMS[0].val), seeds=[0, 1, 2], **KW)
    preds = np.stack([m.predict(SIMS[0].test) for m in members])
    assert not np.allclose(preds[0], preds[1])
    np.testing.assert_allclose(ensemble_predict(members, SIMS[0].test), preds.mean(0))

def not_on_the_axis():
    "A method of one's own (here an ASPS renamed) that is not listed in REPLICABLE."
    method = ASPS(); method.name = "Custom"
    return method

@pytest.mark.parametrize("call, message", [
    (lambda: fit_replicates(not_on_the_axis(), [(s.train, s.val) for s in SIMS], SEEDS), "fit its seeds one at a time"),
    (lambda: fit_replicates("stl", [(s.train, s.val) for s in SIMS[:2]], SEEDS), "2 data draws for 3 seeds"),
    (lambda: fit_replicates("stl", [(SIMS[0].train, SIMS[0].val), (make_simulation("related", n_train=30).train, None)], [0, 1]),
     "same tasks, features and layout"),
    (lambda: fit_replicates("stl", [(make_simulation("mixed", n_train=n, seed=0).train, None) for n in (20, 30)], [0, 1], batch_size=8),
     "mini-batches need equal sizes"),
])
def test_what_cannot_be_batched_is_named(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")): call()

def test_asps_replicates_with_the_nearest_neighbour_graph(monkeypatch):
    "Above `GraphCoupling.dense_up_to` tasks the graph is sparse (each task's nearest neighbours); replicates still equal their fits alone."
    from adaptive_mtl.soft import GraphCoupling
    from adaptive_mtl.methods import ASPS
    monkeypatch.setattr(GraphCoupling, "dense_up_to", 4)
    sims = [make_simulation("mixed", n_tasks=10, n_train=30, seed=s) for s in SEEDS]
    draws = [(s.train, s.val) for s in sims]
    batched = fit_replicates(ASPS(neighbours=2), draws, SEEDS, batch_size=8, **KW)
    alone = [fit(ASPS(neighbours=2), tr, va, seed=sd, batch_size=8, progress=False, **KW) for (tr, va), sd in zip(draws, SEEDS)]
    same(batched, alone, [s.test for s in sims])
    coupling = alone[0].method._pen.coupling
    assert coupling.weights.is_sparse and coupling.neighbours == 2 and coupling.weights._nnz() < 10 * 10
    for b, a in zip(batched, alone):
        pd.testing.assert_frame_equal(b.history.drop(columns="seconds"), a.history.drop(columns="seconds"))

@pytest.mark.parametrize("K", [2, 3, 5, 6, 7, 8, 9, 16, 33])
def test_graph_product_rounds_each_replicate_as_alone(K):
    "ASPS's graph product over R stacked replicates gives each replicate's slice the bits of its product alone (with two threads the stacked and the lone products disagree at K = 5, 6, 7, 9; `_subtract_product` runs it on one thread)."
    import torch
    from adaptive_mtl.soft import _subtract_product
    g = torch.Generator().manual_seed(K)
    for P in (17, 330, 1408):
        A, B, U = torch.rand(20, K, K, generator=g), torch.randn(20, K, P, generator=g), torch.randn(20, K, P, generator=g)
        alone = torch.stack([_subtract_product(U[r].clone(), A[r], B[r]) for r in range(20)])
        assert torch.equal(_subtract_product(U.clone(), A, B), alone)
        torch.testing.assert_close(alone[3], U[3] - A[3] @ B[3])                    # and it is U - AB

def test_a_non_finite_loss_names_the_seeds():
    "A replicate whose loss is no longer finite stops the batch with a `TrainingError` naming its seed, at the step its fit alone stops."
    from adaptive_mtl.trainer import TrainingError
    draws = [(s.train, s.val) for s in SIMS]
    for method in ("stl", "sps"):
        with pytest.raises(TrainingError, match=r"non-finite loss at step 1 \(epoch 1\) in the replicate\(s\) of seed \[3, 4, 5\]"):
            fit_replicates(method, draws, SEEDS, lr=1e30, **KW)
        with pytest.raises(TrainingError, match=r"non-finite loss at step 1 \(epoch 1\)"):
            fit(method, *draws[0], seed=SEEDS[0], lr=1e30, progress=False, **KW)

@pytest.mark.parametrize("method", ["asps", ASPS(theta=SignRule(patience=5, warmup=5))])
def test_asps_sign_rules_remove_the_terms_they_remove_alone(method):
    "ASPS with the graph coupling and the sign rule (its defaults, and a rule that removes more): the replicates' removals, decided together, are the terms each removes alone."
    assert all(b.history.theta.max() > 0 for b, _ in asps_as_alone(method, 8))   # every replicate removed terms
