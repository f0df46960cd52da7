"""Rule `plating_calibration`: fit Study B's deposition time to one pressure the study reports.

    mpiexec -n 1 python scripts/plating_calibration.py --mesh mesh.msh --geometry geometry.json \\
        --parameters '{"constraint": "top_lateral", "current_density": 2e4}' \\
        --target '{"p_max_Pa": 4.9e9, "rtol": 1e-3}' --output plating_calibration.json [--log fit.log]

``--parameters`` are the calibration run's (SI, :class:`lisse.plating.mechanics.PlatingParameters`,
with an optional ``"petsc_options"``); the record (:func:`lisse.plating.calibration.fit_deposition_time`)
is written with its provenance only when the fit succeeded.
"""

import argparse
import json
import logging
import sys

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)

from mpi4py import MPI

from lisse.core import logs, provenance
from lisse.core.atomic import write_json_atomically
from lisse.core.mesh import load_mesh
from lisse.plating.calibration import CalibrationError, fit_deposition_time
from lisse.plating.mechanics import PlatingConvergenceError, PlatingParameters


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mesh", required=True)
    parser.add_argument("--geometry", required=True)
    parser.add_argument("--parameters", required=True, help="JSON object, SI units")
    parser.add_argument("--target", required=True, help='JSON object {"p_max_Pa": ..., "rtol": ...}')
    parser.add_argument("--source", default="", help="where the target value is reported")
    parser.add_argument("--output", required=True)
    parser.add_argument("--log", default=None)
    args = parser.parse_args(argv)
    log = logs.setup(args.log)
    comm = MPI.COMM_WORLD
    values = json.loads(args.parameters)
    petsc_options = values.pop("petsc_options", None) or {}
    params = PlatingParameters.from_dict(values)
    target = json.loads(args.target)
    facts = json.loads(open(args.geometry).read())
    try:
        record = fit_deposition_time(load_mesh(args.mesh, comm), facts, params, target["p_max_Pa"], rtol=target["rtol"],
                                     petsc_options=petsc_options)
    except (CalibrationError, PlatingConvergenceError) as error:
        log.error("plating calibration failed: %s", error)
        return 1
    record.update({"source": args.source, "mesh": args.mesh, "geometry": args.geometry, "n_ranks": comm.size,
                   "provenance": provenance.collect() if comm.rank == 0 else None})
    if comm.rank == 0:
        write_json_atomically(args.output, record)
        log.info("deposition time %.6e s (%.4g nm plated at %.4g mA/cm2): p_max %.6e Pa, target %.6e Pa, %d solves, "
                 "%.1f s", record["duration_s"], record["plated_thickness_m"] * 1e9, record["target"]["current_mA_cm2"],
                 record["achieved"]["p_max_Pa"], target["p_max_Pa"], len(record["solves"]), record["wall_time_s"])
    logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
