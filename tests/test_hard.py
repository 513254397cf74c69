"Unit tests for adaptive hard parameter sharing (adaptive_mtl.hard, SplittableLinear, AHPS)."
import math, tempfile
from pathlib import Path
import pytest
import torch
from adaptive_mtl.layers import MultiTaskMLP, SplittableLinear
from adaptive_mtl.hard import (row_grads, sign_statistic, cosine_statistic, snr_statistic, NodeController,
                               transfer_optimizer_state, check_optimizer, n_params)
from adaptive_mtl.methods import AHPS, HPS
from adaptive_mtl.data import make_simulation
from adaptive_mtl.trainer import fit, load


def _loop_grads(model, x, y, layer):
    losses = ((model(x) - y) ** 2).mean(1)
    out = []
    for k in range(model.n_tasks):
        gw, gb, tw, tb = torch.autograd.grad(losses[k], [layer.weight, layer.bias, layer.task_weight, layer.task_bias], retain_graph=True, allow_unused=True, materialize_grads=True)
        m = layer.split_mask
        out.append(torch.cat([torch.where(m[:, None], tw[k], gw), torch.where(m, tb[k], gb)[:, None]], -1))
    return torch.stack(out)


@pytest.mark.parametrize("K,split", [(2, []), (5, []), (5, [0, 3, 4]), (8, list(range(7)))])
def test_one_backward_equals_k_backwards(K, split):
    torch.manual_seed(K)
    net = MultiTaskMLP(4, K, hidden=(7, 5), sharing="adaptive").double()
    for l in net.trunk: l.track = True
    net.trunk[0].split(split); net.trunk[1].split(split[:2])
    x, y = torch.randn(K, 9, 4, dtype=torch.double), torch.randn(K, 9, dtype=torch.double)
    ((net(x) - y) ** 2).mean(1).sum().backward()
    one = [row_grads(l) for l in net.trunk]
    for l, g in zip(net.trunk, one):
        torch.testing.assert_close(g, _loop_grads(net, x, y, l), rtol=1e-10, atol=1e-12)


def test_function_preserved_at_split():
    torch.manual_seed(0)
    net = MultiTaskMLP(6, 4, hidden=(10, 10), sharing="adaptive")
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = torch.randn(4, 12, 6), torch.randn(4, 12)
    for _ in range(5):
        opt.zero_grad(); ((net(x) - y) ** 2).mean(1).sum().backward(); opt.step()
    before = net(x).detach()
    for l in net.trunk: transfer_optimizer_state(opt, l, l.split([1, 2, 9]))
    assert torch.equal(net(x).detach(), before)


def test_sign_statistic_hand_made():
    g = torch.tensor([[[1., 0.], [1., 0.]], [[1., 1.], [-3., 0.]]])
    # node 0: G=(2,1), both positive; node 1: G=(-2,0), task 0 opposes it
    v = sign_statistic(g)
    assert v[0] > 0 and v[1] == pytest.approx(-1.0)


def test_cosine_statistic_hand_made():
    g = torch.tensor([[[1., 0.]], [[0., 1.]], [[-1., 0.]]])
    assert cosine_statistic(g)[0] == pytest.approx(-1.0)
    assert cosine_statistic(g[:2])[0] == pytest.approx(0.0)


def test_snr_statistic_noise_vs_signal():
    torch.manual_seed(1)
    beta, m, s = 0.9, torch.zeros(3, 2, 5), torch.zeros(3, 2)
    for t in range(300):
        g = torch.randn(3, 2, 5)
        g[:, 1, 0] += torch.tensor([4., -2., -2.])          # node 1: task 0 against tasks 1 and 2
        m = beta * m + (1 - beta) * g; s = beta * s + (1 - beta) * (g * g).sum(-1)
    q = snr_statistic(m, s, 300, beta)
    assert q[0] < 0.25 and q[1] > 0.4                        # mean of about 0.76, 0.44, 0.44


def _feed(net, g):
    l = net.trunk[0]
    l.eff_weight = g[..., :-1].clone().requires_grad_(); l.eff_bias = g[..., -1].clone().requires_grad_()
    l.eff_weight.grad, l.eff_bias.grad = g[..., :-1].clone(), g[..., -1].clone()


def _grads():
    calm = torch.ones(2, 6, 3); fight = calm.clone(); fight[1] *= -2
    return calm, fight


def test_run_length_reset_and_warmup():
    net = MultiTaskMLP(2, 2, hidden=(6,), sharing="adaptive")
    ctl = NodeController("sign", warmup=4, sign_threshold=3); ctl.attach(net)
    calm, fight = _grads()
    seq = [fight, fight, fight, fight, calm, fight, fight]          # steps 0..6: conflicts all through warm-up, reset at 4
    for g in seq:
        _feed(net, g); assert ctl.update(net) == []
    assert ctl.run[0].tolist() == [2] * 6
    _feed(net, fight); ev = ctl.update(net)                            # step 7: run length 3
    assert len(ev) == 6 and ev[0]["step"] == 7


def test_no_split_before_warmup():
    net = MultiTaskMLP(2, 2, hidden=(6,), sharing="adaptive")
    ctl = NodeController("always", warmup=10, sign_threshold=1); ctl.attach(net)
    calm, _ = _grads()
    for t in range(10):
        _feed(net, calm); assert ctl.update(net) == []
    _feed(net, calm); assert len(ctl.update(net)) == 6


def test_cap_and_layers_and_window():
    net = MultiTaskMLP(2, 2, hidden=(6,), sharing="adaptive")
    ctl = NodeController("always", warmup=0, sign_threshold=1, max_split_fraction=0.34); ctl.attach(net)
    calm, _ = _grads()
    for t in range(5): _feed(net, calm); ctl.update(net)
    assert net.trunk[0].n_split == 2                                    # floor(0.34 * 6)
    net2 = MultiTaskMLP(2, 2, hidden=(6, 6), sharing="adaptive")
    ctl2 = NodeController("always", warmup=0, sign_threshold=1, layers=[1], window=3); ctl2.attach(net2)
    assert not net2.trunk[0].track and net2.trunk[1].track
    x = torch.randn(2, 4, 2)
    for t in range(5):
        net2.zero_grad(); net2(x).sum().backward(); ctl2.update(net2)
    assert net2.trunk[0].n_split == 0 and net2.trunk[1].n_split == 6
    assert not ctl2.active and not net2.trunk[1].track                   # window closed: tracking off


@pytest.mark.parametrize("opt_cls", [torch.optim.Adam, torch.optim.AdamW])
def test_optimizer_state_transfer(opt_cls):
    torch.manual_seed(0)
    net = MultiTaskMLP(3, 3, hidden=(5,), sharing="adaptive")
    opt = opt_cls(net.parameters(), lr=1e-2)
    x, y = torch.randn(3, 8, 3), torch.randn(3, 8)
    for _ in range(4):
        opt.zero_grad(); ((net(x) - y) ** 2).mean(1).sum().backward(); opt.step()
    l = net.trunk[0]
    st = {k: v[[0, 2]].clone() for k, v in opt.state[l.weight].items() if k != "step"}
    stb = {k: v[[0, 2]].clone() for k, v in opt.state[l.bias].items() if k != "step"}
    transfer_optimizer_state(opt, l, l.split([0, 2]))
    for k, v in st.items():
        assert torch.equal(opt.state[l.task_weight][k][:, [0, 2]], v.expand(3, 2, 3))
        assert opt.state[l.weight][k][[0, 2]].abs().sum() == 0
    for k, v in stb.items():
        assert torch.equal(opt.state[l.task_bias][k][:, [0, 2]], v.expand(3, 2))
        assert opt.state[l.bias][k][[0, 2]].abs().sum() == 0
    assert torch.equal(opt.state[l.weight]["step"], opt.state[l.task_weight]["step"])


def test_unsupported_optimizer_refused():
    net = MultiTaskMLP(3, 2, hidden=(5,), sharing="adaptive")
    with pytest.raises(ValueError, match="cannot transfer the state of optimizer LBFGS"):
        NodeController().attach(net, torch.optim.LBFGS(net.parameters()))
    with pytest.raises(ValueError, match="SplittableLinear"):
        NodeController().attach(MultiTaskMLP(3, 2, sharing="hard"))


def test_n_params_counts_split_copies():
    net = MultiTaskMLP(3, 4, hidden=(5,), sharing="adaptive")
    hps = MultiTaskMLP(3, 4, hidden=(5,), sharing="hard")
    assert n_params(net) == sum(p.numel() for p in hps.parameters())
    net.trunk[0].split([0, 1])
    assert n_params(net) == sum(p.numel() for p in hps.parameters()) + 2 * 3 * (3 + 1)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_fit_save_load_keeps_splits(optimizer):
    sim = make_simulation("mixed", n_train=60, seed=3)
    r = fit(AHPS(statistic="always", warmup=4, sign_threshold=1, max_split_fraction=0.5), sim.train, sim.val,
            seed=0, progress=False, epochs=15, optimizer=optimizer)
    assert r.best_epoch * 2 >= 4
    assert len(r.events) == sum(l.n_split for l in r.model.trunk) > 0
    assert {"split_l0", "split_l1", "split_frac"} <= set(r.history.columns)
    with tempfile.TemporaryDirectory() as d:
        b = load(r.save(Path(d) / "m.pt"))
    for la, lb in zip(r.model.trunk, b.model.trunk): assert torch.equal(la.split_mask, lb.split_mask)
    assert (b.predict(sim.test) == r.predict(sim.test)).all()
    assert b.events.equals(r.events) and b.n_params == r.n_params
