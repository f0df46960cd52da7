"""Rule `electrochemistry`: steady Butler-Volmer current distribution on one cell mesh.

    mpiexec -n 2 python scripts/electrochemistry.py --mesh cell.msh --geometry cell.json \\
        --parameters '{"applied_current_density": 5.0}' --interface interface.csv \\
        --summary summary.json [--fields fields.bp] [--vtu fields.vtu] [--log solve.log]

``--parameters`` holds the fields of :class:`lisse.cell.electrochemistry.ElectrochemistryParameters`
(SI) and optional ``petsc_options`` (without the ``ec_`` prefix). Outputs are written only
after a converged solve.
"""

import sys

from lisse.cell.electrochemistry import (
    ElectrochemistryConvergenceError,
    ElectrochemistryParameters,
    run_electrochemistry,
)
from lisse.workflow import cli

if __name__ == "__main__":
    sys.exit(cli.main("electrochemistry", ElectrochemistryParameters, run_electrochemistry,
                             ElectrochemistryConvergenceError))
