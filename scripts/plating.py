"""Solve Study B's plating mechanics on one plating mesh at one current density and constraint case.

    mpiexec -n 2 python scripts/plating.py --mesh mesh.msh --geometry geometry.json \\
        --parameters '{"constraint": "top", "current_density": 40.0}' \\
        --history history.csv --summary summary.json --fields fields.bp --vtu fields.vtu [--log solve.log]

``--parameters`` is a JSON object with the fields of :class:`lisse.plating.PlatingParameters`
(SI units: A/m², m, Pa, K) and an optional ``"petsc_options"`` dict (keys without the
``pl_`` prefix); it may also be the path of a file holding that object.  Outputs are
written only after a successful solve; a solve that fails exits with status 1 and names
the step, time, reason and residual.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)
from mpi4py import MPI

from lisse import logs, provenance
from lisse.plating import PlatingConvergenceError, PlatingParameters, run_plating


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mesh", required=True, help="plating mesh (.msh, metres) from the plating_geometry step")
    parser.add_argument("--geometry", required=True, help="geometry facts JSON of that mesh")
    parser.add_argument("--parameters", required=True, help="JSON object (or a file holding one), SI units")
    parser.add_argument("--history", required=True, help="output CSV: p, sigma_1 and more per time step")
    parser.add_argument("--summary", required=True, help="output JSON: final values, fracture numbers, solver facts")
    parser.add_argument("--fields", default=None, help="output VTX directory (.bp) for ParaView")
    parser.add_argument("--vtu", default=None, help="output .vtu of the final state (for the workflow's figures)")
    parser.add_argument("--log", default=None, help="also write the log to this file")
    return parser.parse_args(argv)


def read_parameters(text: str) -> tuple[PlatingParameters, dict]:
    values = json.loads(text if text.lstrip().startswith("{") else Path(text).read_text())
    petsc_options = values.pop("petsc_options", None) or {}
    return PlatingParameters.from_dict(values), petsc_options


def main(argv=None) -> int:
    comm = MPI.COMM_WORLD
    args = parse_arguments(argv)
    logger = logs.setup(args.log)
    params, petsc_options = read_parameters(args.parameters)
    if comm.rank == 0:
        logger.info("%s on %d rank(s): %s, petsc_options %s", args.mesh, comm.size, params, petsc_options)
    try:
        run_plating(args.mesh, args.geometry, params, history_csv=args.history, summary_json=args.summary,
                    fields_dir=args.fields, vtu_path=args.vtu, petsc_options=petsc_options, comm=comm,
                    provenance=provenance.collect() if comm.rank == 0 else None)
    except PlatingConvergenceError as error:  # raised collectively: every rank exits cleanly
        if comm.rank == 0:
            logger.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:
        # An error on one rank only would leave the others waiting forever
        logging.getLogger("lisse").exception("unexpected failure on rank %d", MPI.COMM_WORLD.rank)
        if MPI.COMM_WORLD.size > 1:
            MPI.COMM_WORLD.Abort(1)
        raise
    sys.exit(status)
