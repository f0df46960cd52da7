"""The mechanics workflow step: load a cell mesh, solve by the parameters' method, write the files."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

from mpi4py import MPI

from lisse.cell.mechanics.parameters import MechanicsParameters
from lisse.cell.mechanics.solve import MechanicsResult, solve_mechanics
from lisse.cell.mechanics.steady import SteadyMechanicsResult, solve_steady_creep
from lisse.cell.mesh import load_cell_body
from lisse.core.outputs import write_outputs

SOLVERS = {"steady": solve_steady_creep, "transient": solve_mechanics}


def run_mechanics(mesh_path: str | Path, geometry_json_path: str | Path, params: MechanicsParameters,
                  petsc_options: dict | None, interface_csv: str | Path, summary_json: str | Path,
                  fields_dir: str | Path | None, vtu_path: str | Path | None = None,
                  comm: MPI.Comm = MPI.COMM_WORLD, prefix: str = "me_") -> MechanicsResult | SteadyMechanicsResult:
    """Load a cell mesh, solve (``params.method``: steady creep flow or the transient to t_eval),
    and write the interface CSV, the summary JSON and the VTX fields.

    Nothing is written unless the solve succeeded; each output is written under a temporary
    name and renamed into place, so a failure leaves no partial output.
    """
    body, profile = load_cell_body(mesh_path, geometry_json_path, "li", comm)
    result = SOLVERS[params.method](body, profile, params, petsc_options=petsc_options, prefix=prefix)
    result.summary["mesh"] = str(mesh_path)
    result.summary["geometry"] = str(geometry_json_path)
    result.summary["parameters"] = asdict(params)
    result.summary["petsc_options"] = dict(petsc_options or {})
    write_outputs(result, comm, interface_csv, summary_json, fields_dir, vtu_path)
    return result
