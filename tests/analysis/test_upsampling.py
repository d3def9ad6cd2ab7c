"""The fixed upsamplers on tiny hand-made tensors, with values worked out by hand."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from srnet.analysis import upsampling as up

X = torch.tensor([[[[0.25, 0.5], [0.75, 1.0]]]])  # (1, 1, 2, 2)


def _separable(a: torch.Tensor) -> torch.Tensor:
    """Apply the 1-D interpolation matrix ``a`` (out, in) along both axes of X."""
    return (a @ X[0, 0] @ a.T)[None, None]


def test_nearest_copies_each_pixel_into_a_block():
    assert up.nearest(X, 2)[0, 0].tolist() == [[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5],
                                               [0.75, 0.75, 1.0, 1.0], [0.75, 0.75, 1.0, 1.0]]
    assert up.nearest(X, 3)[0, 0, :, 2:4].tolist() == [[0.25, 0.5]] * 3 + [[0.75, 1.0]] * 3


def test_bilinear_exact():
    # output pixel j sits at input coordinate (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25;
    # beyond the ends the edge pixel is repeated
    a = torch.tensor([[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])
    torch.testing.assert_close(up.bilinear(X, 2), _separable(a), rtol=0, atol=1e-7)
    assert up.bilinear(X, 2)[0, 0, 1].tolist() == [0.375, 0.4375, 0.5625, 0.625]


def test_bicubic_exact():
    # Keys cubic, a = -0.5: W(0.25) = 111/128, W(0.75) = 29/128, W(1.25) = -9/128; taps outside
    # the image are dropped and the rest renormalised (Pillow's / MATLAB-like antialiased kernel)
    a = torch.tensor([[111 / 102, -9 / 102], [111 / 140, 29 / 140],
                      [29 / 140, 111 / 140], [-9 / 102, 111 / 102]])
    expected = _separable(a).clamp(0, 1)
    torch.testing.assert_close(up.bicubic(X, 2), expected, rtol=0, atol=1e-6)
    assert up.bicubic(X, 2)[0, 0, -1, -1] == 1.0  # 1.0147... before clamping


def test_bed_of_nails_places_pixels_at_block_top_left():
    assert up.bed_of_nails(X, 2)[0, 0].tolist() == [[0.25, 0, 0.5, 0], [0, 0, 0, 0],
                                                    [0.75, 0, 1.0, 0], [0, 0, 0, 0]]
    out = up.bed_of_nails(X, 3)[0, 0]
    assert out.shape == (6, 6) and out[::3, ::3].tolist() == X[0, 0].tolist()
    assert out.sum() == X.sum() and (out != 0).sum() == 4


def test_bed_of_nails_is_a_1x1_transposed_convolution():
    x = torch.rand(2, 3, 5, 4)
    w = torch.eye(3).view(3, 3, 1, 1)  # identity per channel
    for s in (2, 3, 4):
        ref = F.conv_transpose2d(x, w, stride=s, output_padding=s - 1)
        assert torch.equal(up.bed_of_nails(x, s), ref)


def test_max_unpool_puts_values_back_where_the_maxima_were():
    hr = torch.tensor([[[[1, 9, 2, 0],
                         [3, 4, 0, 8],
                         [7, 0, 0, 1],
                         [6, 5, 6, 0]]]], dtype=torch.float32) / 10
    pooled, idx = up.max_pool(hr, 2)
    assert (pooled[0, 0] * 10).round().tolist() == [[9, 8], [7, 6]]
    assert idx[0, 0].tolist() == [[1, 7], [8, 14]]  # flat positions in the 4x4 plane
    # the LR values (here X) are placed at the recorded positions, zeros elsewhere
    assert up.max_unpool(X, idx, 2)[0, 0].tolist() == [[0, 0.25, 0, 0], [0, 0, 0, 0.5],
                                                       [0.75, 0, 0, 0], [0, 0, 1.0, 0]]
    # unpooling the pooled values keeps the maxima and zeroes the rest
    kept = up.max_unpool(pooled, idx, 2)
    assert torch.equal(kept, torch.where(kept > 0, hr, 0))


def test_max_unpool_batched_multichannel():
    hr = torch.rand(2, 3, 6, 9)
    pooled, idx = up.max_pool(hr, 3)
    out = up.max_unpool(pooled, idx, 3)
    assert out.shape == hr.shape
    assert torch.equal(F.max_pool2d(out, 3), pooled)  # one non-zero per block, the maximum
    assert ((out != 0).view(2, 3, 2, 3, 3, 3).sum((3, 5)) == 1).all()
    with pytest.raises(ValueError, match="indices"):
        up.max_unpool(pooled, idx[:, :1], 3)


def test_transposed_bilinear_exact_and_equal_to_bilinear_inside():
    # s = 2: kernel taps [1/4, 3/4, 3/4, 1/4], padding 1; the border sees zeros outside the image
    a = torch.tensor([[0.75, 0], [0.75, 0.25], [0.25, 0.75], [0, 0.75]])
    torch.testing.assert_close(up.transposed_bilinear(X, 2), _separable(a), rtol=0, atol=1e-7)
    img = torch.rand(2, 3, 7, 8)
    for s in (2, 3, 4):
        k = up.bilinear_kernel(s)
        assert k.shape[0] == 2 * s - s % 2
        torch.testing.assert_close(k.sum(), torch.tensor(float(s * s)))  # each phase sums to 1
        t, b = up.transposed_bilinear(img, s), up.bilinear(img, s)
        assert t.shape == b.shape == (2, 3, 7 * s, 8 * s)
        torch.testing.assert_close(t[..., s:-s, s:-s], b[..., s:-s, s:-s], rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", up.METHODS)
def test_upsample_dispatch_shapes(method):
    lr = torch.rand(2, 3, 4, 5)
    _, idx = up.max_pool(torch.rand(2, 3, 12, 15), 3)
    out = up.upsample(lr, 3, method, idx)
    assert out.shape == (2, 3, 12, 15) and out.dtype == lr.dtype


def test_upsample_errors_name_the_choices():
    with pytest.raises(ValueError, match="choose one of"):
        up.upsample(X, 2, "lanczos")
    with pytest.raises(ValueError, match="indices"):
        up.upsample(X, 2, "max_unpool")
    with pytest.raises(ValueError, match="N, C, H, W"):
        up.nearest(X[0], 2)
