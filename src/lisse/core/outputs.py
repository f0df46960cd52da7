"""A solver's outputs written atomically under MPI: fields, table and summary, summary last.

A result provides its table (``interface`` or ``history``, a DataFrame on every rank),
``summary`` (a JSON-serialisable dict), ``write_fields(path)`` (VTX) and ``write_vtu(path)``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mpi4py import MPI

from lisse.core.atomic import temporary_sibling, write_atomically, write_json_atomically


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
