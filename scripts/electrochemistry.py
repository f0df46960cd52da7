"""Solve the SSE electrochemistry of one cell mesh at one applied current (a workflow step).

    mpiexec -n 2 python scripts/electrochemistry.py --mesh cell.msh --geometry cell.json \\
        --parameters '{"applied_current_density": 5.0, "temperature": 298.15}' \\
        --interface interface.csv --summary summary.json --fields fields.bp [--vtu fields.vtu] [--log solve.log]

``--parameters`` is a JSON object with the fields of
:class:`lisse.electrochemistry.ElectrochemistryParameters` (SI units) and an optional
``"petsc_options"`` dict (keys without the ``ec_`` prefix); it may also be the path of a
file holding that object.  Outputs are written only after a converged solve.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)
from mpi4py import MPI

from lisse.electrochemistry import ElectrochemistryConvergenceError, ElectrochemistryParameters, run_electrochemistry


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mesh", required=True, help="cell mesh (.msh, metres) from the geometry step")
    parser.add_argument("--geometry", required=True, help="geometry facts JSON (holds the interface profile)")
    parser.add_argument("--parameters", required=True, help="JSON object (or a file holding one), SI units")
    parser.add_argument("--interface", required=True, help="output CSV: current density along the interface")
    parser.add_argument("--summary", required=True, help="output JSON: cell voltage, segment means, solver facts")
    parser.add_argument("--fields", default=None, help="output VTX directory (.bp) with potential and current density")
    parser.add_argument("--vtu", default=None, help="output .vtu with the same fields (read by the figures)")
    parser.add_argument("--log", default=None, help="also write the log to this file")
    return parser.parse_args(argv)


def read_parameters(text: str) -> tuple[ElectrochemistryParameters, dict]:
    values = json.loads(text if text.lstrip().startswith("{") else Path(text).read_text())
    petsc_options = values.pop("petsc_options", None) or {}
    return ElectrochemistryParameters.from_dict(values), petsc_options


def configure_logging(comm: MPI.Comm, log_file: str | None) -> None:
    """INFO on rank 0 (stderr and the log file); other ranks only report problems."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None and comm.rank == 0:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=logging.INFO if comm.rank == 0 else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s", handlers=handlers)


def main(argv=None) -> int:
    comm = MPI.COMM_WORLD
    args = parse_arguments(argv)
    configure_logging(comm, args.log)
    logger = logging.getLogger("electrochemistry")
    params, petsc_options = read_parameters(args.parameters)
    if comm.rank == 0:
        logger.info("%s on %d rank(s): %s, petsc_options %s", args.mesh, comm.size, params, petsc_options)
    try:
        run_electrochemistry(args.mesh, args.geometry, params, petsc_options,
                             interface_csv=args.interface, summary_json=args.summary, fields_dir=args.fields,
                             vtu_path=args.vtu, comm=comm)
    except ElectrochemistryConvergenceError as error:  # raised collectively: every rank exits cleanly
        if comm.rank == 0:
            logger.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:
        # An error on one rank only would leave the others waiting forever
        logging.getLogger("electrochemistry").exception("unexpected failure on rank %d", MPI.COMM_WORLD.rank)
        if MPI.COMM_WORLD.size > 1:
            MPI.COMM_WORLD.Abort(1)
        raise
    sys.exit(status)
