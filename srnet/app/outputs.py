"""Where ``infer.py`` writes: output names, the checks before a write, and provenance text.

An output is never an input file, never the output of two inputs, and never an existing file
unless ``overwrite=true``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from srnet.app.provenance import provenance
from srnet.infer.upscaler import Upscaler


@dataclass
class Outputs:
    """Output naming and write checks of one run.

    Attributes:
        out_file: the single output file (one input, ``output=<name.ext>``), else None.
        out_dir: the output folder.
        suffix: appended to output stems (``suffix=``).
        ext: the output format (``ext=``) or None for the input's.
        overwrite: replace existing outputs.
        metadata: embed provenance (``metadata=``).
        protected: resolved input paths, never written.
    """

    out_file: Path | None
    out_dir: Path | None
    suffix: str = ""
    ext: str | None = None
    overwrite: bool = False
    metadata: bool = True
    protected: set[Path] = field(default_factory=set)
    planned: set[Path] = field(default_factory=set)

    def dst(self, src: Path, ext: str) -> Path:
        """The output path for ``src`` with suffix ``ext`` (or the single output file)."""
        return self.out_file or self.out_dir / f"{src.stem}{self.suffix}{ext}"

    def target(self, path: Path) -> Path:
        """Check that ``path`` may be written; refusals raise with the reason."""
        if path.resolve() in self.protected:
            raise FileExistsError(f"refusing to write {path}: it is an input file (choose another "
                                  f"output folder, suffix= or ext=)")
        if path.resolve() in self.planned:
            raise FileExistsError(f"{path} is also the output of another input; set suffix= or ext=")
        if path.exists() and not self.overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=true to replace it")
        self.planned.add(path.resolve())
        return path

    def text(self, model: Upscaler, source: str, in_wh: tuple[int, int],
             out_wh: tuple[int, int]) -> dict[str, str] | None:
        """Provenance to embed, or None with ``metadata=false``."""
        return provenance(model, source, in_wh, out_wh) if self.metadata else None
