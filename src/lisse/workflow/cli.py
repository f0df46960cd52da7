"""The command line of every solver step: arguments, parameters, MPI-safe error handling.

A solver module provides ``Parameters.from_dict``, a convergence error class and a ``run``
function that solves and writes its outputs (:func:`lisse.core.outputs.write_outputs`);
:func:`main` turns that into a workflow step that runs under ``mpiexec -n N`` and writes
nothing unless the solve succeeded.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)

from mpi4py import MPI

from lisse.core import logs, provenance


def read_parameters(text: str) -> tuple[dict, dict]:
    """SI parameter values and PETSc options from a JSON object (or a file holding one)."""
    values = json.loads(text if text.lstrip().startswith("{") else Path(text).read_text())
    return values, values.pop("petsc_options", None) or {}


TABLES = {"interface": "output CSV: fields along the interface",
          "history": "output CSV: p, sigma_1 and more per time step"}


def main(kind: str, parameters_class, run: Callable, convergence_error: type[Exception],
         adjust: Callable[[dict, argparse.Namespace], dict] | None = None,
         extra_arguments: Callable[[argparse.ArgumentParser], None] | None = None, argv=None,
         table: str = "interface", with_provenance: bool = False) -> int:
    """Parse the step's arguments, solve, write outputs; return the exit status.

    ``table`` names the result's table and its option (``--interface`` for Study A's solvers,
    ``--history`` for Study B's plating); ``with_provenance`` adds versions and the git commit
    to the summary.

    A convergence failure is raised on every rank, so every rank returns 1 cleanly; any other
    error on one rank aborts the MPI job instead of leaving the others waiting forever.
    """
    comm = MPI.COMM_WORLD
    parser = argparse.ArgumentParser(description=f"Solve the {kind} of one mesh (a workflow step).")
    parser.add_argument("--mesh", required=True, help="mesh (.msh, metres) from the geometry step")
    parser.add_argument("--geometry", required=True, help="geometry facts JSON of that mesh")
    parser.add_argument("--parameters", required=True, help="JSON object (or a file holding one), SI units, "
                        "with an optional 'petsc_options' dict")
    parser.add_argument(f"--{table}", required=True, help=TABLES[table])
    parser.add_argument("--summary", required=True, help="output JSON: summary numbers and solver facts")
    parser.add_argument("--fields", default=None, help="output VTX directory (.bp) for ParaView")
    parser.add_argument("--vtu", default=None, help="output .vtu of the main fields (read by the figures)")
    parser.add_argument("--log", default=None, help="also write the log to this file")
    if extra_arguments is not None:
        extra_arguments(parser)
    args = parser.parse_args(argv)
    logger = logs.setup(args.log)
    try:
        values, petsc_options = read_parameters(args.parameters)
        if adjust is not None:
            values = adjust(values, args)
        params = parameters_class.from_dict(values)
        logger.info("%s of %s on %d rank(s), parameters in SI: %s, petsc_options %s", kind, args.mesh, comm.size, params,
                    petsc_options)
        extra = {"provenance": provenance.collect() if comm.rank == 0 else None} if with_provenance else {}
        run(args.mesh, args.geometry, params, petsc_options=petsc_options, summary_json=args.summary, fields_dir=args.fields,
            vtu_path=args.vtu, comm=comm, **{f"{table}_csv": getattr(args, table)}, **extra)
    except convergence_error as error:
        logger.error("%s", error)
        return 1
    except Exception:
        logging.getLogger("lisse").exception("unexpected failure on rank %d", comm.rank)
        if comm.size > 1:
            comm.Abort(1)
        raise
    return 0
