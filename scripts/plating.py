"""Rule `plating`: Study B's plating mechanics on one plating mesh at one current density and constraint case.

    mpiexec -n 2 python scripts/plating.py --mesh mesh.msh --geometry geometry.json \\
        --parameters '{"constraint": "top", "current_density": 40.0}' \\
        --history history.csv --summary summary.json --fields fields.bp --vtu fields.vtu \\
        [--calibration plating_calibration.json] [--log solve.log]

``--parameters`` is a JSON object with the fields of :class:`lisse.plating.mechanics.PlatingParameters`
(SI units: A/m², m, Pa, K, s) and an optional ``"petsc_options"`` dict (keys without the
``pl_`` prefix); it may also be the path of a file holding that object.  ``--calibration`` takes
the deposition time from a calibration record (scripts/plating_calibration.py).  Outputs are
written only after a successful solve; a solve that fails exits with status 1 and names
the step, time, reason and residual.
"""

import json
import sys
from pathlib import Path

from lisse.plating.mechanics import PlatingConvergenceError, PlatingParameters, run_plating
from lisse.workflow import cli


def calibration_argument(parser):
    parser.add_argument("--calibration", default=None, help="calibration record: its deposition time is the run's")


def with_calibrated_duration(values: dict, args) -> dict:
    if args.calibration:
        values = dict(values, duration=json.loads(Path(args.calibration).read_text())["duration_s"])
    return values


if __name__ == "__main__":
    sys.exit(cli.main("plating", PlatingParameters, run_plating, PlatingConvergenceError, adjust=with_calibrated_duration,
                      extra_arguments=calibration_argument, table="history", with_provenance=True))
