"""Studies of upsamplers: the checkerboard score and figures, the fixed upsamplers side by side,
and transposed convolution by its definition."""
