"""Transposed convolution by its definition, "scatter and add", with a worked example.

A transposed convolution with stride s does not slide a window over its input. Each input element
scales the whole kernel; the scaled copy is placed in the output at s times the element's position;
where copies overlap they are added; finally ``padding`` rows/columns are cut from every side.
:func:`scatter_add_conv_transpose2d` does exactly that with explicit loops (slow, for teaching);
``tests/test_transposed.py`` checks it against ``torch.nn.functional.conv_transpose2d``.

The same operator is the adjoint (transpose) of ``conv2d`` with the same weights, stride and
padding: if ``conv2d`` is the matrix C acting on flattened images, ``conv_transpose2d`` is C^T,
which is why autograd uses it for conv2d's input gradient.

``python -m srnet.analysis.transposed`` prints the worked example as Markdown; it is what
``docs/transposed_convolution.md`` holds (regenerate with ``... > docs/transposed_convolution.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def scatter_add_conv_transpose2d(x: Tensor, weight: Tensor, stride: int | tuple[int, int] = 1,
                                 padding: int | tuple[int, int] = 0,
                                 output_padding: int | tuple[int, int] = 0) -> Tensor:
    """Transposed convolution written as scatter-and-add (same arguments as ``F.conv_transpose2d``).

    Args:
        x: input (N, C_in, H, W).
        weight: kernels (C_in, C_out, kH, kW), ``F.conv_transpose2d``'s layout.
        stride: spacing of the kernel copies in the output; an int or (rows, columns).
        padding: rows/columns removed from each side of the full result.
        output_padding: extra rows/columns added at the bottom/right (to pick one of the
            sizes that a strided conv2d maps to the same input size); must be < stride.

    Returns:
        (N, C_out, (H - 1) * stride - 2 * padding + kH + output_padding, ... same for W).
    """
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[0]:
        raise ValueError(f"expected x (N, C_in, H, W) and weight (C_in, C_out, kH, kW), got "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    (sh, sw), (ph, pw), (oh, ow) = _pair(stride), _pair(padding), _pair(output_padding)
    if min(sh, sw) < 1 or min(ph, pw) < 0 or not (0 <= oh < sh and 0 <= ow < sw):
        raise ValueError(f"need stride >= 1, padding >= 0, 0 <= output_padding < stride; got "
                         f"stride={stride}, padding={padding}, output_padding={output_padding}")
    n, c_in, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    full_h, full_w = (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow
    full = x.new_zeros(n, c_out, full_h, full_w)  # (N, C_out, full_h, full_w), before cropping
    for b in range(n):
        for c in range(c_in):
            for i in range(h):
                for j in range(w):
                    top, left = i * sh, j * sw  # where this element's copy goes
                    # x[b, c, i, j] scales every output channel's kernel; the copy is added in.
                    full[b, :, top:top + kh, left:left + kw] += x[b, c, i, j] * weight[c]
    out_h, out_w = full_h - 2 * ph, full_w - 2 * pw
    if out_h < 1 or out_w < 1:
        raise ValueError(f"padding={padding} removes the whole {full_h}x{full_w} result")
    return full[..., ph:ph + out_h, pw:pw + out_w]


def conv_matrix(weight: Tensor, in_size: tuple[int, int], stride: int = 1,
                padding: int = 0) -> Tensor:
    """The matrix C of ``conv2d`` (one channel in and out) on flattened (H, W) images.

    ``C @ img.flatten() == F.conv2d(img, weight).flatten()``; rows are output pixels, columns input
    pixels. ``weight`` is (kH, kW).
    """
    h, w = in_size
    basis = torch.eye(h * w, dtype=weight.dtype).view(h * w, 1, h, w)  # one image per input pixel
    cols = F.conv2d(basis, weight[None, None], stride=stride, padding=padding)  # (H*W, 1, h', w')
    return cols.flatten(1).T  # (h' * w', H * W)


def tap_counts(size: int, kernel: int, stride: int) -> Tensor:
    """How many kernel copies cover each output pixel: all-ones (size, size) input and kernel."""
    ones = torch.ones(1, 1, size, size)
    return scatter_add_conv_transpose2d(ones, torch.ones(1, 1, kernel, kernel), stride)[0, 0]


@dataclass
class WorkedExample:
    """The 2x2 input / 2x2 kernel / stride 1 example and its intermediate copies."""

    x: Tensor  # (2, 2)
    kernel: Tensor  # (2, 2)
    stride: int
    copies: list[tuple[int, int, Tensor]]  # (i, j, kernel * x[i, j] placed in the output grid)
    output: Tensor  # (3, 3), the sum of the copies


def worked_example(x: Tensor | None = None, kernel: Tensor | None = None,
                   stride: int = 1) -> WorkedExample:
    """Build the example: defaults x = [[1, 2], [3, 4]], kernel = [[1, 0], [2, 3]], stride 1."""
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]) if x is None else x
    kernel = torch.tensor([[1.0, 0.0], [2.0, 3.0]]) if kernel is None else kernel
    (h, w), (kh, kw) = x.shape, kernel.shape
    copies = []
    for i in range(h):
        for j in range(w):
            grid = torch.zeros((h - 1) * stride + kh, (w - 1) * stride + kw)
            grid[i * stride:i * stride + kh, j * stride:j * stride + kw] = x[i, j] * kernel
            copies.append((i, j, grid))
    output = scatter_add_conv_transpose2d(x[None, None], kernel[None, None], stride)[0, 0]
    return WorkedExample(x, kernel, stride, copies, output)


def _grid(t: Tensor) -> str:
    """A 2-D tensor as an indented text block, integers printed without decimals."""
    rows = [[f"{v:g}" for v in row.tolist()] for row in t]
    width = max(len(v) for row in rows for v in row)
    return "\n".join("    " + " ".join(v.rjust(width) for v in row) for row in rows)


def worked_example_markdown() -> str:
    """The Markdown page ``docs/transposed_convolution.md`` (every number computed here)."""
    ex = worked_example()
    torch_out = F.conv_transpose2d(ex.x[None, None], ex.kernel[None, None], stride=ex.stride)
    tiled = worked_example(stride=2)
    c = conv_matrix(ex.kernel, (3, 3))
    adjoint = (c.T @ ex.x.flatten()).view(3, 3)
    parts = [
        "# Transposed convolution, worked by hand",
        "",
        "Generated by `python -m srnet.analysis.transposed > docs/transposed_convolution.md`; "
        "`tests/test_transposed.py` checks that this page is up to date.",
        "",
        "A transposed convolution does not slide a window over its input. Each input element "
        "scales the whole kernel, the scaled copy is placed at (stride x the element's position), "
        "and where copies overlap they are summed. The example: a 2x2 input, a 2x2 kernel, "
        f"stride {ex.stride}, no padding -> a 3x3 output.",
        "",
        "Input x:", "", _grid(ex.x), "", "Kernel k:", "", _grid(ex.kernel), "",
        "## 1. One scaled copy per input element",
        "",
    ]
    for i, j, grid in ex.copies:
        parts += [f"x[{i},{j}] = {ex.x[i, j].item():g}, so {ex.x[i, j].item():g} * k placed at "
                  f"row {i * ex.stride}, column {j * ex.stride}:", "", _grid(grid), ""]
    parts += [
        "## 2. Sum the copies",
        "",
        "How many copies overlap each output pixel (the same operation on an all-ones input and "
        "kernel):",
        "",
        _grid(tap_counts(2, 2, ex.stride)),
        "",
        "and the sum:",
        "",
        _grid(ex.output),
        "",
        f"`torch.nn.functional.conv_transpose2d(x, k, stride={ex.stride})` gives the same:",
        "",
        _grid(torch_out[0, 0]),
        "",
        "## 3. Stride 2: the copies tile without overlapping",
        "",
        "With stride 2 the four copies are placed 2 pixels apart; a 2x2 kernel then covers each "
        "2x2 output block exactly once (kernel size a multiple of the stride, as srnet's "
        "`deconv` tail requires; otherwise some pixels get more taps than others, the "
        "checkerboard):",
        "",
        _grid(tiled.output),
        "",
        "With a 3x3 kernel at stride 2 (3 is not a multiple of 2) the copies overlap unevenly. "
        "Taps per output pixel for a 3x3 input:",
        "",
        _grid(tap_counts(3, 3, 2)),
        "",
        "A flat input therefore gives an output with a period-2 pattern of 1, 2 and 4 taps.",
        "",
        "## 4. The transpose of a convolution",
        "",
        "A 2x2-kernel conv2d (stride 1) takes a 3x3 image to a 2x2 one. As a matrix C on flattened "
        "images (rows: output pixels, columns: input pixels; `srnet.analysis.transposed.conv_matrix`), C "
        "is:",
        "",
        _grid(c),
        "",
        "Multiplying the flattened x by C^T and reshaping to 3x3 gives the transposed "
        "convolution again:",
        "",
        _grid(adjoint),
        "",
        "So conv_transpose2d is the adjoint of conv2d: <conv2d(a, k), b> = <a, conv_transpose2d(b, "
        "k)> for all a, b, and it is what autograd uses to pass gradients back through a conv2d.",
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(worked_example_markdown(), end="")
