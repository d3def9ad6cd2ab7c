"""Scatter-and-add transposed convolution vs torch, the adjoint identity, and the worked example."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import ROOT

from srnet.analysis.transposed import (
    conv_matrix,
    scatter_add_conv_transpose2d,
    tap_counts,
    worked_example,
    worked_example_markdown,
)


def test_worked_example_numbers():
    ex = worked_example()
    assert ex.x.tolist() == [[1, 2], [3, 4]] and ex.kernel.tolist() == [[1, 0], [2, 3]]
    assert len(ex.copies) == 4
    assert torch.equal(sum(grid for _, _, grid in ex.copies), ex.output)
    # worked by hand: 1*k at (0,0), 2*k at (0,1), 3*k at (1,0), 4*k at (1,1), overlaps summed
    assert ex.output.tolist() == [[1, 2, 0], [5, 11, 6], [6, 17, 12]]
    ref = F.conv_transpose2d(ex.x[None, None], ex.kernel[None, None], stride=1)[0, 0]
    assert torch.equal(ex.output, ref)


def test_stride_equal_to_kernel_tiles_the_copies():
    ex = worked_example(stride=2)
    assert ex.output.tolist() == [[1, 0, 2, 0], [2, 3, 4, 6], [3, 0, 4, 0], [6, 9, 8, 12]]


def test_tap_counts_show_the_checkerboard():
    assert tap_counts(2, 2, 1).tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    even = tap_counts(4, 4, 2)[2:-2, 2:-2]  # interior, kernel a multiple of the stride
    assert torch.all(even == 4)
    odd = tap_counts(4, 3, 2)[1:-1, 1:-1]
    assert set(odd.unique().tolist()) == {1, 2, 4}


@pytest.mark.parametrize("seed", range(12))
def test_scatter_add_matches_torch(seed):
    """Random sizes, per-axis strides, paddings and output paddings, batched, multi-channel."""
    g = torch.Generator().manual_seed(seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    n, c_in, c_out, h, w = r(1, 2), r(1, 3), r(1, 3), r(1, 5), r(1, 5)
    kh, kw, sh, sw = r(1, 5), r(1, 5), r(1, 4), r(1, 4)
    stride, out_pad = (sh, sw), (r(0, sh - 1), r(0, sw - 1))
    # padding may not remove the whole result
    ph = r(0, min(((h - 1) * sh + kh + out_pad[0] - 1) // 2, 3))
    pw = r(0, min(((w - 1) * sw + kw + out_pad[1] - 1) // 2, 3))
    padding = (ph, pw)
    x = torch.randn(n, c_in, h, w, generator=g, dtype=torch.float64)
    wt = torch.randn(c_in, c_out, kh, kw, generator=g, dtype=torch.float64)
    ours = scatter_add_conv_transpose2d(x, wt, stride, padding, out_pad)
    ref = F.conv_transpose2d(x, wt, stride=stride, padding=padding, output_padding=out_pad)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


def test_scatter_add_rejects_bad_arguments():
    x, wt = torch.ones(1, 2, 3, 3), torch.ones(2, 1, 2, 2)
    with pytest.raises(ValueError, match="C_in"):
        scatter_add_conv_transpose2d(x, torch.ones(3, 1, 2, 2))
    with pytest.raises(ValueError, match="output_padding"):
        scatter_add_conv_transpose2d(x, wt, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="padding=3"):
        scatter_add_conv_transpose2d(x, wt, padding=3)


@pytest.mark.parametrize("stride,padding,k", [(1, 0, 3), (2, 1, 4), (3, 2, 5), (2, 0, 3)])
def test_adjoint_identity(stride, padding, k):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> in float64, ours and torch's."""
    g = torch.Generator().manual_seed(stride * 10 + k)
    x = torch.randn(2, 3, 11, 9, generator=g, dtype=torch.float64)
    w = torch.randn(4, 3, k, k, generator=g, dtype=torch.float64)  # conv2d: (C_out, C_in, k, k)
    cx = F.conv2d(x, w, stride=stride, padding=padding)  # (2, 4, h', w')
    y = torch.randn(cx.shape, generator=g, dtype=torch.float64)
    # conv2d's input size is not unique under stride; output_padding picks the original one
    op = tuple((x.shape[d] + 2 * padding - k) % stride for d in (2, 3))
    ty = F.conv_transpose2d(y, w, stride=stride, padding=padding, output_padding=op)
    assert ty.shape == x.shape
    lhs, rhs = (cx * y).sum(), (x * ty).sum()
    torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-10)
    ours = scatter_add_conv_transpose2d(y, w, stride, padding, op)
    torch.testing.assert_close((x * ours).sum(), lhs, rtol=1e-12, atol=1e-10)
    # and it is exactly the gradient autograd computes for conv2d's input
    xg = x.clone().requires_grad_(True)
    (F.conv2d(xg, w, stride=stride, padding=padding) * y).sum().backward()
    torch.testing.assert_close(xg.grad, ty, rtol=1e-12, atol=1e-12)


def test_conv_matrix_transpose_is_conv_transpose():
    g = torch.Generator().manual_seed(0)
    k = torch.randn(3, 2, generator=g, dtype=torch.float64)
    c = conv_matrix(k, (5, 6), stride=2, padding=1)
    img = torch.randn(5, 6, generator=g, dtype=torch.float64)
    out = F.conv2d(img[None, None], k[None, None], stride=2, padding=1)
    torch.testing.assert_close(c @ img.flatten(), out.flatten())
    y = torch.randn(out.shape, generator=g, dtype=torch.float64)
    t = F.conv_transpose2d(y, k[None, None], stride=2, padding=1)  # (1, 1, 5, 6)
    torch.testing.assert_close(c.T @ y.flatten(), t.flatten())


def test_docs_page_is_generated_and_current():
    page = ROOT / "docs" / "transposed_convolution.md"
    assert page.read_text() == worked_example_markdown(), (
        f"{page} is stale: regenerate with python -m srnet.analysis.transposed > {page.relative_to(ROOT)}")
