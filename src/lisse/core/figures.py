"""The figures' one style (matplotlib, off-screen) and their atomic PNG + PDF output."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lisse.core.atomic import write_atomically  # noqa: E402

STYLE: dict = {
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.6,
}
plt.rcParams.update(STYLE)


def save(fig: plt.Figure, png_path: str | Path) -> None:
    """Write ``png_path`` and the PDF beside it, atomically (no partial figure on failure)."""
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    for path in (png_path, png_path.with_suffix(".pdf")):
        write_atomically(path, fig.savefig)
    plt.close(fig)
