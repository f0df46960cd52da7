"""What every solver step shares: the command line, MPI-safe error handling and atomic outputs.

A solver module provides ``Parameters.from_dict``, a convergence error class and a result
with ``interface`` (DataFrame), ``summary`` (dict), ``write_fields(path)`` (VTX) and
``write_vtu(path)``; :func:`main` turns that into a workflow step that runs under
``mpiexec -n N`` and writes nothing unless the solve succeeded.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)
from mpi4py import MPI

from lisse import logs
from lisse.atomic import temporary_sibling, write_atomically, write_json_atomically


def write_outputs(result, comm: MPI.Comm, table_csv, summary_json, fields_dir=None, vtu_path=None,
                  table: str = "interface") -> None:
    """Write the fields, the result's table (``result.<table>``) and, last, the summary, each
    under a temporary name first."""
    if fields_dir is not None:
        fields_dir = Path(fields_dir)
        tmp_fields = fields_dir.with_name(fields_dir.name + ".tmp")
        if comm.rank == 0:
            shutil.rmtree(tmp_fields, ignore_errors=True)
            tmp_fields.parent.mkdir(parents=True, exist_ok=True)
        comm.barrier()
        result.write_fields(tmp_fields)
        comm.barrier()
        if comm.rank == 0:
            shutil.rmtree(fields_dir, ignore_errors=True)
            os.replace(tmp_fields, fields_dir)
    if vtu_path is not None:
        vtu_path = Path(vtu_path)
        tmp_vtu = temporary_sibling(vtu_path)
        result.write_vtu(tmp_vtu)
        if comm.rank == 0:
            os.replace(tmp_vtu, vtu_path)
    if comm.rank == 0:
        frame = getattr(result, table)
        write_atomically(Path(table_csv), lambda p: frame.to_csv(p, index=False, float_format="%.12e"))
        write_json_atomically(summary_json, result.summary)
    comm.barrier()


def parameters_from_dict(cls, values: dict, kind: str):
    """``cls(**values)`` for a parameters dataclass; an unknown key is an error, not ignored
    (a misspelt key would otherwise leave its parameter silently at the default)."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise KeyError(f"unknown {kind} parameters {unknown}; known: {sorted(known)}")
    return cls(**values)


def read_parameters(text: str) -> tuple[dict, dict]:
    """SI parameter values and PETSc options from a JSON object (or a file holding one)."""
    values = json.loads(text if text.lstrip().startswith("{") else Path(text).read_text())
    return values, values.pop("petsc_options", None) or {}


def main(kind: str, parameters_class, run: Callable, convergence_error: type[Exception],
         adjust: Callable[[dict, argparse.Namespace], dict] | None = None,
         extra_arguments: Callable[[argparse.ArgumentParser], None] | None = None, argv=None) -> int:
    """Parse the step's arguments, solve, write outputs; return the exit status.

    A convergence failure is raised on every rank, so every rank returns 1 cleanly; any other
    error on one rank aborts the MPI job instead of leaving the others waiting forever.
    """
    comm = MPI.COMM_WORLD
    parser = argparse.ArgumentParser(description=f"Solve the {kind} of one cell mesh (a workflow step).")
    parser.add_argument("--mesh", required=True, help="cell mesh (.msh, metres) from the geometry step")
    parser.add_argument("--geometry", required=True, help="geometry facts JSON (holds the interface profile)")
    parser.add_argument("--parameters", required=True, help="JSON object (or a file holding one), SI units, "
                        "with an optional 'petsc_options' dict")
    parser.add_argument("--interface", required=True, help="output CSV: fields along the interface")
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
        logger.info("%s of %s on %d rank(s): %s, petsc_options %s", kind, args.mesh, comm.size, params, petsc_options)
        run(args.mesh, args.geometry, params, petsc_options, interface_csv=args.interface,
            summary_json=args.summary, fields_dir=args.fields, vtu_path=args.vtu, comm=comm)
    except convergence_error as error:
        logger.error("%s", error)
        return 1
    except Exception:
        logging.getLogger("lisse").exception("unexpected failure on rank %d", comm.rank)
        if comm.size > 1:
            comm.Abort(1)
        raise
    return 0


