"""The README's real-photo figure (:mod:`srnet.analysis.real_photo`).

    python scripts/real_photo_figure.py [photo=<file>] [scale=2] [quality=50] \\
        [out=docs/figures/real_photo.png]
"""

from __future__ import annotations

import sys

from kvargs import parse_kv

from srnet.analysis.real_photo import figure

if __name__ == "__main__":
    a = parse_kv("real_photo_figure.py", {"photo": None, "scale": 2, "quality": 50,
                                          "out": "docs/figures/real_photo.png"}, sys.argv[1:])
    img, scores = figure(a["photo"], int(a["scale"]), int(a["quality"]))
    img.save(a["out"])
    print("\n".join(f"{k}: {v:.2f} dB" for k, v in scores.items()), f"\nwrote {a['out']}")
