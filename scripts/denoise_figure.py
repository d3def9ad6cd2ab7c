"""The denoise curve: Y-PSNR gain over bicubic along ``denoise=`` from an evaluate.py run.

    python scripts/evaluate.py ckpt_path=x2 'denoise=[0,0.25,0.5,0.75,1]' datasets=[holdout] \\
        'degradation=[bicubic,jpeg,jpeg_q75,jpeg_q50,noise]' methods=[bicubic] out_dir=logs/dn
    python scripts/denoise_figure.py results=logs/dn/results.json out=docs/figures/denoise_x2.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kvargs import parse_kv

from srnet.analysis.curves import line_chart

if __name__ == "__main__":
    a = parse_kv("denoise_figure.py", {"results": None, "out": "docs/figures/denoise.png"},
                 sys.argv[1:])
    if not a["results"]:
        raise SystemExit("denoise_figure.py: give results=<evaluate.py out_dir>/results.json")
    rows = json.loads(Path(a["results"]).read_text())
    curves = []
    for deg in dict.fromkeys(r["degradation"] for r in rows):
        here = [r for r in rows if r["degradation"] == deg]
        base = next(r["psnr"] for r in here if r["method"] == "bicubic")
        knob = sorted((float(r["method"].rsplit("@", 1)[1]), r["psnr"] - base)
                      for r in here if "@" in r["method"])
        curves.append((deg, [k for k, _ in knob], [v for _, v in knob]))
    sets = ", ".join(dict.fromkeys(f"{r['dataset']} x{r['scale']}" for r in rows))
    line_chart([{"title": f"{sets}: gain over bicubic (dB) along denoise=", "xlabel": "denoise",
                 "ylabel": "dB over bicubic", "curves": curves}], a["out"], size=(560, 380))
    print(f"wrote {a['out']}")
