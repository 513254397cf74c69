"Unit tests for adaptive hard parameter sharing (adaptive_mtl.hard, SplittableLinear, AHPS)."
import math, tempfile
from pathlib import Path
import pytest
import torch
from adaptive_mtl.layers import MultiTaskMLP, SplittableLinear
from adaptive_mtl.conflicts import SignStatistic, CosineStatistic, SnrStatistic
from adaptive_mtl.hard import row_grads, reference_row_grads, NodeController, check_optimizer, n_params
from adaptive_mtl.methods import AHPS, HPS
from adaptive_mtl.datasets import make_simulation
from adaptive_mtl.trainer import fit, load


@pytest.mark.parametrize("K,split", [(2, []), (5, []), (5, [0, 3, 4]), (8, list(range(7)))])
def test_one_backward_equals_k_backwards(K, split):
    torch.manual_seed(K)
    net = MultiTaskMLP(4, K, hidden=(7, 5), sharing="adaptive").double()
    for l in net.trunk: l.track = True
    net.trunk[0].split(split); net.trunk[1].split(split[:2])
    with torch.no_grad():                                   # split rows' copies differ from each other
        for l in net.trunk: l.weight[:, l.split_mask] += 0.1 * torch.randn_like(l.weight[:, l.split_mask])
    x, y = torch.randn(K, 9, 4, dtype=torch.double), torch.randn(K, 9, dtype=torch.double)
    ((net(x) - y) ** 2).mean(1).sum().backward()
    one = [row_grads(l) for l in net.trunk]
    for g, ref in zip(one, reference_row_grads(net, x, y)):
        torch.testing.assert_close(g, ref, rtol=1e-10, atol=1e-12)


def test_function_preserved_at_split():
    torch.manual_seed(0)
    net = MultiTaskMLP(6, 4, hidden=(10, 10), sharing="adaptive")
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = torch.randn(4, 12, 6), torch.randn(4, 12)
    for _ in range(5):
        opt.zero_grad(); ((net(x) - y) ** 2).mean(1).sum().backward(); opt.step()
    before = net(x).detach()
    for l in net.trunk: l.split([1, 2, 9])
    assert torch.equal(net(x).detach(), before)


def test_sign_statistic_hand_made():
    g = torch.tensor([[[1., 0.], [1., 0.]], [[1., 1.], [-3., 0.]]])
    # node 0: G=(2,1), both positive; node 1: G=(-2,0), task 0 opposes it
    v = SignStatistic()(g)
    assert v[0] > 0 and v[1] == pytest.approx(-1.0)


def test_cosine_statistic_hand_made():
    g = torch.tensor([[[1., 0.]], [[0., 1.]], [[-1., 0.]]])
    assert CosineStatistic()(g)[0] == pytest.approx(-1.0)
    assert CosineStatistic()(g[:2])[0] == pytest.approx(0.0)


def test_snr_statistic_noise_vs_signal():
    torch.manual_seed(1)
    snr = SnrStatistic(beta=0.9); snr.start(n_tasks=3, n_nodes=2, n_dims=5)
    for step in range(300):
        g = torch.randn(3, 2, 5)
        g[:, 1, 0] += torch.tensor([4., -2., -2.])          # node 1: task 0 against tasks 1 and 2
        q = snr(g, step)
    assert q[0] < 0.25 and q[1] > 0.4                        # mean of about 0.76, 0.44, 0.44


def _feed(net, g):
    l = net.trunk[0]; l.weight.grad, l.bias.grad = g[..., :-1].clone(), g[..., -1].clone()


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
    assert ctl.run_length.tolist() == [2] * 6
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


@pytest.mark.parametrize("opt_cls", [torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.RMSprop])
def test_optimizer_state_carried_into_split(opt_cls):
    "Unsplit AHPS trains exactly as HPS, state included; at a split every task copy holds the shared row's state."
    torch.manual_seed(0)
    net = MultiTaskMLP(3, 3, hidden=(5, 4), sharing="adaptive"); hps = MultiTaskMLP(3, 3, hidden=(5, 4), sharing="hard")
    with torch.no_grad():
        for la, lh in zip(net.trunk, hps.trunk): lh.weight.copy_(la.weight[0]); lh.bias.copy_(la.bias[0])
    hps.head.load_state_dict(net.head.state_dict())
    kw = {"momentum": 0.9} if opt_cls is torch.optim.SGD else {}
    opt, oh = opt_cls(net.parameters(), lr=1e-2, **kw), opt_cls(hps.parameters(), lr=1e-2, **kw)
    x, y = torch.randn(3, 8, 3), torch.randn(3, 8)
    for _ in range(30):
        for m, o in ((net, opt), (hps, oh)): o.zero_grad(); ((m(x) - y) ** 2).mean(1).sum().backward(); o.step()
    torch.testing.assert_close(net(x), hps(x), rtol=1e-5, atol=1e-5)
    l, lh = net.trunk[0], hps.trunk[0]
    assert torch.equal(l.weight, l.weight[:1].expand_as(l.weight))          # shared copies bitwise identical
    before = {k: v.clone() for k, v in opt.state[l.weight].items()}
    for k, v in oh.state[lh.weight].items():
        torch.testing.assert_close(before[k][0] if v.dim() else before[k], v, rtol=1e-5, atol=1e-7)   # copies' state = HPS row's
    l.split([0, 2])
    for k, v in before.items():                                              # every task copy holds the shared row's state
        assert torch.equal(opt.state[l.weight][k], v)
        if v.dim(): assert torch.equal(v[:, [0, 2]], v[:1, [0, 2]].expand(3, 2, 3))
    for _ in range(5):                                                       # and from now on the copies part ways
        opt.zero_grad(); ((net(x) - y) ** 2).mean(1).sum().backward(); opt.step()
    assert not torch.equal(l.weight[0, 0], l.weight[1, 0]) and torch.equal(l.weight[0, 1], l.weight[2, 1])


def test_state_saved_with_short_names_loads():
    "A controller state saved under the short names (t, run, m, s) restores the same run."
    net = MultiTaskMLP(2, 2, hidden=(6,), sharing="adaptive")
    ctl = NodeController(warmup=100); ctl.attach(net)
    calm, fight = _grads()
    for g in (fight, calm, fight): _feed(net, g); ctl.update(net)
    d = ctl.state_dict()
    short = dict(t=d["step"], active=d["active"], run=d["run_length"], events=d["events"],
                 m=d["statistic"]["gradient_average"], s=d["statistic"]["squared_norm_average"])
    back = NodeController(warmup=100); back.attach(net); back.load_state_dict(short)
    assert back.step == 3 and torch.equal(back.run_length, ctl.run_length)
    assert torch.equal(back.statistic.gradient_average, ctl.statistic.gradient_average)
    with pytest.raises(ValueError, match="this model has"):
        other = NodeController(); other.attach(MultiTaskMLP(2, 2, hidden=(5,), sharing="adaptive")); other.load_state_dict(d)


def test_unsupported_optimizer_refused():
    net = MultiTaskMLP(3, 2, hidden=(5,), sharing="adaptive")
    with pytest.raises(ValueError, match="cannot use optimizer LBFGS"):
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


@pytest.mark.parametrize("scenario", ["related", "unrelated", "mixed"])
def test_fused_controller_fits_as_the_pytorch_ops(scenario, monkeypatch):
    "AHPS with the controller's compiled pass (the default) and with its PyTorch ops: the same splits, the same fit to float rounding."
    import functools, adaptive_mtl.methods as methods
    d = make_simulation(scenario, n_tasks=6, n_train=100, seed=3)
    fused = fit(AHPS(), d.train, d.val, epochs=30, batch_size=32, progress=False, seed=3)
    assert fused.method._ctl._fused_step is not None
    monkeypatch.setattr(methods, "NodeController", functools.partial(NodeController, fused=False))
    plain = fit(AHPS(), d.train, d.val, epochs=30, batch_size=32, progress=False, seed=3)
    assert plain.method._ctl._fused_step is None
    columns = ["step", "layer", "node", "run_length"]
    assert fused.events[columns].equals(plain.events[columns])
    if scenario != "related": assert len(fused.events) > 0                     # decisions were made and agree
    for (name, a), b in zip(fused.model.state_dict().items(), plain.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
