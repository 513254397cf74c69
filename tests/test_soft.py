"Unit tests for adaptive soft parameter sharing: adaptive_mtl.similarity, adaptive_mtl.soft and methods.ASPS."
import os, tempfile
from pathlib import Path
import numpy as np
import pytest
import torch
from adaptive_mtl.similarity import (cosine_matrix, gradient_cosine, parameter_cosine, prediction_correlation,
                                     task_gradients, SimilarityTracker, auc_vs_truth, pilot_similarity)
from adaptive_mtl.soft import (mean_constraint, mean_constraint_grad, deviation, AdaptiveSoftPenalty, ThetaRule, ConstantRule,
                               LinearRule, SignRule, SimilarityRule, theta_rule)
from adaptive_mtl.layers import MultiTaskMLP
from adaptive_mtl.methods import ASPS, STL, SPS, StepInfo
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit, load


def _info(step, model, K=3, B=16, p=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(K, B, p, generator=g); y = torch.randn(K, B, generator=g)
    pred = model(x); losses = ((pred - y) ** 2).mean(1)
    return StepInfo(step, x, y, torch.ones(K, B, dtype=torch.bool), pred, losses)


def test_penalty_hand_computation():
    W = torch.tensor([[[1., 2.]], [[3., 6.]], [[5., 1.]]])
    b = torch.tensor([[0.], [1.], [2.]])
    pen = lambda *a: 2.0 * mean_constraint(*a)
    # W: deviations (-2,-1),(0,3),(2,-2) -> 22; b: (-1,0,1) -> 2
    assert pen([W, b]).item() == pytest.approx(2.0 * 24)
    # a mask removing task 2's bias term: b mean over tasks 0,1 = 0.5 -> 0.25 + 0.25
    mb = torch.tensor([[True], [True], [False]])
    assert pen([W, b], [torch.ones_like(W, dtype=torch.bool), mb]).item() == pytest.approx(2.0 * (22 + 0.5))
    # task weights
    w = torch.tensor([1., 2., 3.])
    hand = sum(w[k] * ((W[k] - W.mean(0)) ** 2).sum() + w[k] * ((b[k] - b.mean(0)) ** 2).sum() for k in range(3))
    assert pen([W, b], None, w).item() == pytest.approx(2.0 * hand.item())


def test_unmasked_penalty_equals_sps():
    torch.manual_seed(0)
    m = MultiTaskMLP(4, 3, hidden=(5, 6), sharing="soft", identical_init=False)
    by_hand = sum(((p - p.mean(0)) ** 2).sum() for l in m.trunk_layers() for p in (l.weight, l.bias))
    assert mean_constraint(m.trunk_params()).item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert SPS(lam=0.3).penalty(m, _info(0, m)).item() == pytest.approx(0.3 * by_hand.item(), rel=1e-5)


def test_closed_form_gradient_matches_autograd():
    torch.manual_seed(1)
    P = [torch.randn(4, 3, 5, requires_grad=True), torch.randn(4, 3, requires_grad=True)]
    M = [torch.rand(4, 3, 5) > 0.3, torch.rand(4, 3) > 0.3]
    w = torch.rand(4)
    auto = torch.autograd.grad(0.7 * mean_constraint(P, M, w), P)
    for a, c in zip(auto, mean_constraint_grad(P, M, w)): torch.testing.assert_close(a, 0.7 * c, rtol=1e-5, atol=1e-6)


def test_permuting_tasks_is_invariant():
    torch.manual_seed(2)
    P = [torch.randn(5, 3, 4), torch.randn(5, 3)]
    M = [torch.rand(5, 3, 4) > 0.4, torch.rand(5, 3) > 0.4]
    w = torch.rand(5); perm = torch.randperm(5)
    pen = mean_constraint
    assert pen([p[perm] for p in P], [m[perm] for m in M], w[perm]).item() == pytest.approx(pen(P, M, w).item(), rel=1e-6)
    # similarity: permuting the tasks permutes the matrix
    V = torch.randn(5, 7)
    torch.testing.assert_close(cosine_matrix(V[perm]), cosine_matrix(V)[perm][:, perm])


def test_mask_removes_exactly_the_largest_deviations_and_they_stay_removed():
    torch.manual_seed(3)
    model = MultiTaskMLP(4, 3, hidden=(6,), sharing="soft", identical_init=False)
    pen = AdaptiveSoftPenalty(lam0=1.0, similarity="none", theta=LinearRule(theta_max=0.5, warmup=0, ramp=4), update_every=1,
                              coupling="mean")
    pen.attach(model)
    P = model.trunk_params()
    dev0 = [deviation(p.detach()).abs() for p in P]
    info = _info(1, model)
    pen.after_backward(model, info)                      # step 1: theta = 0.5 * 1/4 = 0.125
    for p, m, d in zip(P, pen.masks, dev0):
        k = int(0.125 * p.numel())
        assert int((~m).sum()) == k
        if k: assert set(torch.nonzero(~m.flatten()).flatten().tolist()) == set(d.flatten().topk(k).indices.tolist())
    removed = [(~m).clone() for m in pen.masks]
    # move the parameters so that other terms deviate most: removed terms stay removed
    with torch.no_grad():
        for p in P: p.mul_(-1).add_(torch.randn_like(p))
    for step in range(2, 8): pen.after_backward(model, _info(step, model))
    for r, m in zip(removed, pen.masks): assert not (m & r).any()
    for p, m in zip(P, pen.masks): assert int((~m).sum()) == int(0.5 * p.numel())    # capped at theta_max
    # a removed term contributes nothing to the penalty, nor to the mean of the others
    hand = sum((deviation(p, m) ** 2 * m).sum() for p, m in zip(P, pen.masks))
    assert pen(model, _info(9, model)).item() == pytest.approx(hand.item(), rel=1e-5)


def test_similarity_rule_removes_more_for_dissimilar_tasks():
    torch.manual_seed(4)
    model = MultiTaskMLP(4, 3, hidden=(6,), sharing="soft", identical_init=False)
    pen = AdaptiveSoftPenalty(lam0=1.0, similarity="prediction", theta=SimilarityRule(theta_max=1.0, warmup=0, ramp=1), update_every=1)
    pen.attach(model)
    pen.tracker.update(torch.tensor([[1., .9, 0.], [.9, 1., 0.], [0., 0., 1.]])); pen._refresh()
    pen.after_backward(model, _info(5, model))
    share = [float(sum((~m[k]).sum() for m in pen.masks)) for k in range(3)]
    assert share[2] > share[0] and share[2] > share[1]


@pytest.mark.parametrize("coupling", ["graph", "mean"])
def test_sign_rule_and_state_round_trip(coupling):
    torch.manual_seed(5)
    model = MultiTaskMLP(4, 3, hidden=(6,), sharing="soft", identical_init=False)
    kw = dict(lam0=1.0, similarity="gradient", theta=SignRule(theta_max=0.3, warmup=0, patience=2), update_every=1, coupling=coupling)
    pen = AdaptiveSoftPenalty(**kw)
    pen.attach(model)
    for step in range(6):
        info = _info(step, model, seed=step)
        model.zero_grad(); (info.task_losses.sum() + pen(model, info)).backward(); pen.after_backward(model, info)
    assert 0 < pen.theta_t <= 0.3 + 1e-9
    other = AdaptiveSoftPenalty(**kw)
    other.attach(model); other.load_state_dict(pen.state_dict())
    for a, b in zip(other.masks, pen.masks): assert torch.equal(a, b)
    torch.testing.assert_close(other.lam_star, pen.lam_star)


def test_lam0_zero_is_stl():
    sim = make_simulation("mixed", n_train=30, seed=0)
    a = fit(ASPS(lam0=0.0, theta=SignRule(warmup=0)), sim.train, sim.val, seed=0, progress=False, epochs=8)
    b = fit(STL(), sim.train, sim.val, seed=0, progress=False, epochs=8)
    np.testing.assert_array_equal(a.predict(sim.test), b.predict(sim.test))


def test_asps_fit_history_and_save_load():
    sim = make_simulation("mixed", n_train=40, seed=1)
    r = fit(ASPS(lam0=0.5, theta=SignRule(warmup=4), update_every=2), sim.train, sim.val, seed=0, progress=False, epochs=15, patience=50)
    h = r.history
    assert {"theta"} | {f"lam_{k}" for k in range(6)} <= set(h.columns)
    assert h.theta.is_monotonic_increasing and h.theta.iloc[-1] > 0
    with tempfile.TemporaryDirectory() as tmp:
        back = load(r.save(Path(tmp) / "m.pt"))
    np.testing.assert_array_equal(back.predict(sim.test), r.predict(sim.test))
    assert back.method.config() == r.method.config() and back.method.config()["theta"]["warmup"] == 4
    for a, b in zip(back.method._pen.masks, r.method._pen.masks): assert torch.equal(a, b)
    torch.testing.assert_close(back.method._pen.tracker.matrix, r.method._pen.tracker.matrix)


def test_similarity_properties():
    torch.manual_seed(6)
    net = MultiTaskMLP(5, 4, hidden=(8,), sharing="soft", identical_init=False)
    x = torch.randn(4, 32, 5); y = torch.randn(4, 32)
    losses = ((net(x) - y) ** 2).mean(1)
    params = net.trunk_params()
    for S in (gradient_cosine(task_gradients(losses, params)), parameter_cosine(params),
              prediction_correlation(net, x), parameter_cosine(params, center=True), pilot_similarity(x, y)):
        assert S.shape == (4, 4)
        torch.testing.assert_close(S, S.T)
        torch.testing.assert_close(S.diag(), torch.ones(4))
        assert (S >= -1).all() and (S <= 1).all()
    # rescaling one task's gradient (its loss) leaves gradient cosine unchanged
    S1 = gradient_cosine(task_gradients(losses, params))
    S2 = gradient_cosine(task_gradients(losses * torch.tensor([3., 1., 0.01, 1.]), params))
    torch.testing.assert_close(S1, S2, rtol=1e-4, atol=1e-5)


def _graph_pen(K=4, seed=7, masks=True, A=None):
    torch.manual_seed(seed)
    model = MultiTaskMLP(3, K, hidden=(5,), sharing="soft", identical_init=False)
    pen = AdaptiveSoftPenalty(lam0=0.8, similarity="none", theta="none", coupling="graph"); pen.attach(model)
    if A is None: A = torch.rand(K, K); A = (A + A.T) / 2 - 0.2             # some negative entries: clipped to 0
    pen.tracker.matrix = A.clone().fill_diagonal_(1.0)
    if masks:
        for m in pen.masks: m.copy_(torch.rand(m.shape) > 0.3)
    pen._refresh()
    return model, pen


def _penalty_gradient(pen, model, info):
    "`(penalty, its gradient)` as training applies them: the value without a graph, then `after_backward` adds the gradient (task losses 0 here)."
    value = pen(model, info); assert not value.requires_grad
    for p in model.trunk_params(): p.grad = None
    pen.after_backward(model, info)
    return value, [p.grad.clone() for p in model.trunk_params()]


def test_graph_penalty_hand_computation_and_gradient():
    K = 4; model, pen = _graph_pen(K)
    A = pen.tracker.matrix.clamp(0, 1).fill_diagonal_(1.0)
    P = model.trunk_params()
    hand = sum(A[k, j] * (pen.masks[t][k] * pen.masks[t][j] * (P[t][k] - P[t][j]) ** 2).sum()
               for t in range(len(P)) for k in range(K) for j in range(K)) * 0.8 / (2 * K)
    got, grads = _penalty_gradient(pen, model, _info(1, model, K=K, p=3))
    assert got.item() == pytest.approx(hand.item(), rel=1e-5)
    for a, c in zip(torch.autograd.grad(hand, P), grads): torch.testing.assert_close(c, a, rtol=1e-4, atol=1e-6)
    for a, c in zip(torch.autograd.grad(pen.coupling(), P), grads): torch.testing.assert_close(c, a, rtol=0, atol=0)   # called: autograd's, the same
    # lambda*_k is lam0 times the mean clipped similarity to the other tasks
    torch.testing.assert_close(pen.lam_star, 0.8 * (A.sum(1) - 1) / (K - 1))


def test_graph_penalty_reduces_to_sps_and_frees_an_unrelated_task():
    model, pen = _graph_pen(masks=False, A=torch.ones(4, 4))
    assert pen(model, _info(1, model, K=4, p=3)).item() == pytest.approx(0.8 * mean_constraint(model.trunk_params()).item(), rel=1e-5)
    A = torch.ones(4, 4); A[3, :3] = A[:3, 3] = -0.5                       # task 3 unlike the others: no pull on it
    model, pen = _graph_pen(masks=False, A=A)
    P = model.trunk_params()
    g = _penalty_gradient(pen, model, _info(1, model, K=4, p=3))[1]
    for t in g: assert t[3].abs().max() == 0 and t[:3].abs().max() > 0
    assert pen.lam_star[3] == 0


def test_graph_penalty_is_invariant_to_task_order():
    model, pen = _graph_pen(5, seed=8)
    v = pen(model, _info(1, model, K=5, p=3)).item()
    perm = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        for p in model.trunk_params(): p.copy_(p[perm])
    for m in pen.masks: m.copy_(m[perm])
    pen.tracker.matrix = pen.tracker.matrix[perm][:, perm]; pen._refresh()
    assert pen(model, _info(1, model, K=5, p=3)).item() == pytest.approx(v, rel=1e-5)


def test_pilot_similarity_needs_the_data_and_stays_fixed():
    torch.manual_seed(9)
    model = MultiTaskMLP(3, 3, hidden=(5,), sharing="soft")
    pen = AdaptiveSoftPenalty(); pen.attach(model)
    with pytest.raises(ValueError, match="needs the training data"): pen(model, _info(0, model, p=3))
    info = _info(0, model, p=3)
    pen.prepare(info.x, info.y, info.mask)
    S = pen.tracker.matrix.clone()
    torch.testing.assert_close(S, pilot_similarity(info.x, info.y, info.mask))
    assert pen.tracker.frozen
    pen.tracker.update(torch.eye(3)); torch.testing.assert_close(pen.tracker.matrix, S)   # frozen: later updates ignored
    with pytest.raises(ValueError, match="call attach"): AdaptiveSoftPenalty().prepare(info.x, info.y)


def test_asps_default_separates_the_unrelated_tasks():
    sim = make_simulation("mixed", n_train=50, seed=0)
    r = fit(ASPS(), sim.train, sim.val, seed=0, progress=False, epochs=30)
    pen = r.method._pen
    assert auc_vs_truth(pen.tracker.matrix, sim.truth) >= 0.9
    unrelated = np.flatnonzero(sim.truth.sum(1) == 1)
    assert pen.lam_star[unrelated].max() < pen.lam_star[np.setdiff1d(np.arange(6), unrelated)].min()


def test_auc_and_tracker():
    truth = np.kron(np.eye(2), np.ones((2, 2)))
    assert auc_vs_truth(truth * 0.8 + 0.1, truth) == 1.0
    tr = SimilarityTracker(3, beta=0.5)
    tr.update(torch.eye(3)); tr.update(torch.ones(3, 3))
    torch.testing.assert_close(tr.matrix, 0.5 * torch.eye(3) + 0.5)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown similarity"): AdaptiveSoftPenalty(similarity="psychic")
    with pytest.raises(ValueError, match="theta_max must be in"): AdaptiveSoftPenalty(theta={"rule": "linear", "theta_max": 2})
    with pytest.raises(ValueError, match="unknown theta rule"): AdaptiveSoftPenalty(theta="sometimes")
    with pytest.raises(ValueError, match="unknown coupling"): AdaptiveSoftPenalty(coupling="pairs")
    with pytest.raises(ValueError, match="sharing='soft'"): MultiTaskMLP(3, 2, sharing="hard").trunk_params()


def test_pilot_similarity_task_without_rows_and_targets_layout():
    torch.manual_seed(10)
    x, y = torch.randn(3, 20, 4), torch.randn(3, 20)
    m = torch.ones(3, 20, dtype=torch.bool); m[1] = False                  # task 1 has no observed row
    S = pilot_similarity(x, y, m)
    assert torch.isfinite(S).all() and S[1, 0] == 0 and S[1, 2] == 0 and S[1, 1] == 1
    shared = torch.randn(30, 4).expand(3, 30, 4)                           # targets layout: one x for every task
    ys = torch.stack([torch.tanh(shared[0] @ torch.ones(4)), torch.tanh(shared[0] @ torch.ones(4)) * 2, torch.randn(30)])
    S2 = pilot_similarity(shared, ys)
    assert S2[0, 1] > 0.99 and abs(S2[0, 2]) < 0.9


def test_asps_file_saved_before_coupling_existed_loads_as_mean_coupling():
    sim = make_simulation("mixed", n_train=30, seed=2)
    r = fit(ASPS(similarity="prediction", coupling="mean", theta=SignRule(warmup=2), update_every=2), sim.train, sim.val, seed=0, progress=False, epochs=4)
    with tempfile.TemporaryDirectory() as tmp:
        path = r.save(Path(tmp) / "m.pt")
        d = torch.load(path, weights_only=True); del d["method_config"]["coupling"]; torch.save(d, path)   # an older file
        back = load(path)
    assert back.method.coupling == "mean"
    np.testing.assert_array_equal(back.predict(sim.test), r.predict(sim.test))


RULES = [ThetaRule(), ConstantRule(warmup=5), LinearRule(theta_max=0.4, warmup=5, ramp=20), SignRule(warmup=5, patience=3),
         SimilarityRule(theta_max=0.8, warmup=5, ramp=20)]

@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_theta_rule_keeps_the_invariants(rule):
    "Nothing removed before the warm-up, removed terms stay removed, at most theta_max removed, config round trip."
    torch.manual_seed(11)
    params = [torch.randn(3, 6, 4), torch.randn(3, 6)]
    masks = [torch.ones_like(p, dtype=torch.bool) for p in params]
    rule = theta_rule(rule); rule.attach(params)
    before = [m.clone() for m in masks]
    for step in range(60):
        rule.observe([torch.rand(p.shape) < 0.9 for p in params])
        params = [p + 0.1 * torch.randn_like(p) for p in params]
        rule.remove(step, masks, lambda: [deviation(p) for p in params], torch.tensor([0.9, 0.8, 0.0]))
        share = sum(int((~m).sum()) for m in masks) / sum(m.numel() for m in masks)
        if step < rule.warmup: assert share == 0
        assert share <= getattr(rule, "theta_max", 0.0) + 1e-9
        for b, m in zip(before, masks): assert not (m & ~b).any()
        before = [m.clone() for m in masks]
    assert (share > 0) == (rule.name != "none")
    assert theta_rule(rule.config()) == rule


def test_asps_config_is_plain_and_round_trips():
    a = ASPS(theta=LinearRule(theta_max=0.3, ramp=200), coupling="mean")
    assert a.config()["theta"] == {"rule": "linear", "theta_max": 0.3, "warmup": 20, "ramp": 200}
    assert ASPS(**a.config()).config() == a.config() and ASPS(**ASPS().config()) == ASPS()
    assert ASPS().min_steps() == 20 and ASPS(theta="none").min_steps() == 0
