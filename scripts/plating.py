"""Rule `plating`: Study B's plating mechanics on one plating mesh at one current density and constraint case.

    mpiexec -n 2 python scripts/plating.py --mesh mesh.msh --geometry geometry.json \\
        --parameters '{"constraint": "top", "current_density": 40.0}' \\
        --history history.csv --summary summary.json --fields fields.bp --vtu fields.vtu [--log solve.log]

``--parameters`` is a JSON object with the fields of :class:`lisse.plating.mechanics.PlatingParameters`
(SI units: A/m², m, Pa, K) and an optional ``"petsc_options"`` dict (keys without the
``pl_`` prefix); it may also be the path of a file holding that object.  Outputs are
written only after a successful solve; a solve that fails exits with status 1 and names
the step, time, reason and residual.
"""

import sys

from lisse.plating.mechanics import PlatingConvergenceError, PlatingParameters, run_plating
from lisse.workflow import cli

if __name__ == "__main__":
    sys.exit(cli.main("plating", PlatingParameters, run_plating, PlatingConvergenceError, table="history",
                      with_provenance=True))
