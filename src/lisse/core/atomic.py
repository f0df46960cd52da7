"""Outputs appear whole or not at all.

Every file the workflow writes goes to a temporary sibling first and is renamed into place
once complete, so a failed or killed job never leaves something Snakemake (or a person)
would take for a result.  The sibling keeps the suffix (``mesh.tmp.msh``), because gmsh,
matplotlib and pyvista pick the format from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path


def temporary_sibling(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.tmp{path.suffix}")


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` writes the content; ``path`` then appears in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    write(tmp)
    os.replace(tmp, path)


def write_json_atomically(path: str | Path, record: dict) -> None:
    write_atomically(path, lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
