"""Over-parameterised training convs merge into, and collapse back to, the plain FSRCNN exactly."""

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize

from srnet.io.checkpoints import load_net, read, save_weights
from srnet.nets.fsrcnn import build_net
from srnet.nets.overparam import (
    Branches,
    branches_of,
    collapse_state,
    edge_masks,
    merge,
    overparametrize,
    split,
)
from srnet.train.module import SRSystem

NET = {"scale": 3, "d": 8, "s": 4, "m": 2, "skip": "bicubic"}


def perturb(net: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g, dtype=p.dtype))


def test_overparametrize_keeps_the_function_and_names_the_convs() -> None:
    torch.manual_seed(0)
    net, x = build_net(NET), torch.rand(2, 1, 13, 11)
    before = net(x)
    names = overparametrize(net)
    assert names == ["body.0", "body.4", "body.6"]  # the 5x5 head and the two 3x3 mapping convs
    assert torch.equal(net(x), before)
    assert not parametrize.is_parametrized(net.body[2])  # 1x1 convs stay as they are
    keys = [k for k in net.state_dict() if k.startswith("body.0.")]
    assert keys == ["body.0.bias"] + [f"body.0.parametrizations.weight.original{i}" for i in range(4)]
    assert overparametrize(net) == []  # twice is once


def test_merge_is_the_sum_of_scaled_centred_branches() -> None:
    g = torch.Generator().manual_seed(1)
    w3, w1 = torch.randn(4, 4, 3, 3, generator=g), torch.randn(4, 4, 1, 1, generator=g)
    scales = torch.randn(3, 4, generator=g)  # 3x3, 1x1, identity
    x = torch.randn(1, 4, 9, 9, generator=g)
    branches = (scales[0, None, :, None, None] * F.conv2d(x, w3, padding=1)
                + scales[1, None, :, None, None] * F.conv2d(x, w1)
                + scales[2, None, :, None, None] * x)
    torch.testing.assert_close(F.conv2d(x, merge([w3, w1, scales]), padding=1), branches)
    # no identity row: c_in != c_out
    assert Branches(8, 1, 5).identity is False and len(Branches(8, 1, 5).right_inverse(
        torch.zeros(8, 1, 5, 5))) == 4  # 5x5, 3x3, 1x1 and their scales


def test_even_or_1x1_kernels_are_refused() -> None:
    for k in (1, 4):
        with pytest.raises(ValueError, match=f"odd kernel of 3 or more, got {k}"):
            Branches(4, 4, k)


def test_trained_branches_collapse_to_the_same_outputs() -> None:
    torch.manual_seed(0)
    net, x = build_net(NET), torch.rand(2, 1, 12, 12)
    overparametrize(net)
    perturb(net)  # every branch and scale moved, as training would
    plain = build_net(NET)
    plain.load_state_dict(collapse_state(net.state_dict()), strict=True)
    torch.testing.assert_close(plain(x), net(x), rtol=1e-5, atol=1e-6)


def test_every_part_gets_a_gradient_after_a_step() -> None:
    torch.manual_seed(0)
    net = build_net(NET)
    overparametrize(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.rand(2, 1, 10, 10)
    for _ in range(2):  # the zero branches get a gradient only through their scales at first
        opt.zero_grad()
        net(x).square().mean().backward()
        opt.step()
    grads = {k: p.grad for k, p in net.named_parameters() if "parametrizations" in k}
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads.values())


def test_collapse_state_refuses_missing_parts() -> None:
    net = build_net(NET)
    overparametrize(net)
    state = net.state_dict()
    del state["body.0.parametrizations.weight.original1"]
    with pytest.raises(ValueError, match=r"body.0: over-parameterised weight with parts \[0, 2, 3\]"):
        collapse_state(state)


def test_system_trains_overparametrised_and_exports_the_plain_net(tmp_path) -> None:
    system = SRSystem(NET, overparam=True)
    perturb(system.net)
    x = torch.rand(1, 1, 9, 9)
    out = save_weights(system, tmp_path / "w.pt")
    net = load_net(out)
    assert set(net.state_dict()) == set(build_net(NET).state_dict())
    torch.testing.assert_close(net(x), system.net(x), rtol=1e-5, atol=1e-6)
    # a Lightning-style checkpoint of the over-parameterised system reads as the plain net too
    torch.save({"srnet": {"net": system.net.cfg.to_dict(), "format": 1},
                "state_dict": system.state_dict()}, tmp_path / "run.ckpt")
    _, _, state, _ = read(tmp_path / "run.ckpt")
    assert state.keys() == net.state_dict().keys()
    # init_from such a checkpoint starts a new over-parameterised system at the same function
    again = SRSystem(NET, overparam=True, init_from=str(tmp_path / "run.ckpt"))
    torch.testing.assert_close(again.net(x), system.net(x), rtol=1e-5, atol=1e-6)


def test_overparam_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="model.overparam='yes': choose true or false"):
        SRSystem(NET, overparam="yes")


SLIM = {"scale": 2, "d": 8, "s": None, "m": 2, "first_kernel": 3, "shrink": False,
        "skip": "bicubic"}


def test_seq_and_edge_branches_are_the_convs_they_stand_for() -> None:
    g = torch.Generator().manual_seed(2)
    c = 4
    w3, w1 = torch.randn(c, c, 3, 3, generator=g), torch.randn(c, c, 1, 1, generator=g)
    s1, s3 = torch.randn(2 * c, c, 1, 1, generator=g), torch.randn(c, 2 * c, 3, 3, generator=g)
    e = torch.randn(3, c, c, generator=g)
    scales = torch.randn(7, c, generator=g)  # 3x3, 1x1, seq, 3 edges, identity
    x = torch.randn(1, c, 9, 9, generator=g)
    masks = edge_masks(3)

    def scaled(i: int, y: torch.Tensor) -> torch.Tensor:
        return scales[i, None, :, None, None] * y

    want = (scaled(0, F.conv2d(x, w3, padding=1)) + scaled(1, F.conv2d(x, w1))
            + scaled(2, F.conv2d(F.conv2d(x, s1), s3, padding=1)) + scaled(6, x))
    for j in range(3):  # a 1x1, then the mask per channel (depthwise)
        mid = F.conv2d(x, e[j][:, :, None, None])
        want = want + scaled(3 + j, F.conv2d(mid, masks[j].expand(c, 1, 3, 3), padding=1, groups=c))
    got = F.conv2d(x, merge([w3, w1, s1, s3, e, scales]), padding=1)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    assert split([w3, w1, s1, s3, e, scales])["seq"] == [s1, s3]


@pytest.mark.parametrize("extra", [["seq"], ["edges"], ["seq", "edges"]])
def test_slim_net_with_extra_branches_starts_at_and_collapses_to_the_plain_net(tmp_path,
                                                                               extra) -> None:
    torch.manual_seed(0)
    net, x = build_net(SLIM), torch.rand(2, 1, 11, 13)
    before = net(x)
    overparametrize(net, extra)
    torch.testing.assert_close(net(x), before, rtol=0, atol=1e-6)  # the extras start at zero
    perturb(net)
    assert branches_of(net.state_dict()) == extra
    plain = build_net(SLIM)
    plain.load_state_dict(collapse_state(net.state_dict()), strict=True)
    assert (plain(x) - net(x)).abs().max() < 1e-5
    system = SRSystem(SLIM, overparam=True, branches=extra)
    perturb(system.net)
    loaded = load_net(save_weights(system, tmp_path / "w.pt"))
    assert (loaded(x) - system.net(x)).abs().max() < 1e-5


def test_branches_need_overparam_and_known_names() -> None:
    with pytest.raises(ValueError, match=r"model.branches=\['seq'\] needs model.overparam=true"):
        SRSystem(SLIM, branches=["seq"])
    with pytest.raises(ValueError, match=r"model.branches=\['sobel'\]: choose from"):
        SRSystem(SLIM, overparam=True, branches=["sobel"])
