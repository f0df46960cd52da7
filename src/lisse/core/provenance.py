"""Provenance of a result: package versions, git commit, host, time, and the parameter digest in its path."""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("lisse", "dolfinx-solver-real", "fenics-basix", "fenics-ffcx", "fenics-ufl",
            "petsc4py", "mpi4py", "gmsh", "numpy", "pandas", "snakemake")


def parameter_digest(parameters) -> str:
    """Six hex digits naming a set of parameters (JSON-serialisable) in result paths: two runs
    that differ in any parameter never share files."""
    return hashlib.sha1(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:6]


def git_commit(path: str | Path = ".", paths: tuple[str, ...] = ()) -> str:
    """The commit of the workflow checkout, with ``-dirty`` if it has uncommitted changes
    (only changes under ``paths`` count, if given)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *paths], cwd=path,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions() -> dict[str, str]:
    """Versions of the stack; DOLFINx is reported under ``dolfinx`` (the PyPI wheel
    ``dolfinx-solver-real`` ships it without a ``fenics-dolfinx`` distribution)."""
    found = {}
    try:
        import dolfinx_solver

        found["dolfinx"] = dolfinx_solver.DOLFINX_VERSION
    except ImportError:
        pass
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def collect(**extra) -> dict:
    return {"created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "git_commit": git_commit(), "python": platform.python_version(), "host": platform.node(),
            "versions": versions(), **extra}
