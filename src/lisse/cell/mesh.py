"""A cell of the workflow in DOLFINx: one body of its mesh and its interface profile."""

from __future__ import annotations

import json
from pathlib import Path

from mpi4py import MPI

from lisse.cell.interface import InterfaceProfile
from lisse.core.mesh import Body, load_body, load_mesh


def load_cell_body(mesh_path: str | Path, geometry_json_path: str | Path, cell_group: str,
                   comm: MPI.Comm = MPI.COMM_WORLD) -> tuple[Body, InterfaceProfile | None]:
    """One body (``sse`` or ``li``) of a workflow cell and the cell's interface profile (``None``
    for a 3D cell), from the geometry step's ``.msh`` and facts JSON."""
    facts = json.loads(Path(geometry_json_path).read_text())
    profile = InterfaceProfile.from_json(facts["interface_profile"]) if facts.get("interface_profile") else None
    return load_body(load_mesh(mesh_path, comm), cell_group), profile
