"""Rule `mechanics`: Li creep stress under stack pressure on one cell mesh (steady flow or transient).

    mpiexec -n 1 python scripts/mechanics.py --mesh cell.msh --geometry cell.json \\
        --parameters '{"stack_pressure": 1e6}' --interface interface.csv --summary summary.json \\
        [--fields fields.bp] [--vtu fields.vtu] [--calibration calibration.json] [--log solve.log]

``--parameters`` holds the fields of :class:`lisse.cell.mechanics.MechanicsParameters` (SI,
``method`` steady or transient) and optional ``petsc_options`` (without the ``me_`` prefix). With
``--calibration`` (transient only) the creep prefactor is the calibrated one (refused if it was fitted
on a planar cell of another dimension): the 2D channel Li
relaxes along a creep tail at t_eval, so its stress depends on eps_dot_0 (the planar cell's does
not, which is why the calibration can use the planar solve). Outputs are written only after a
successful solve.
"""

import json
import sys

from lisse.cell import analysis
from lisse.cell.mechanics import MechanicsConvergenceError, MechanicsParameters, run_mechanics
from lisse.core.units import kelvin
from lisse.workflow import cli


def calibration_argument(parser):
    parser.add_argument("--calibration", default=None, help="calibration.json: use its eps_dot_0")


def calibrated(values: dict, args) -> dict:
    if args.calibration is None:
        return values
    calibration = json.loads(open(args.calibration).read())
    dimension = json.loads(open(args.geometry).read())["geometry"]["dimension"]
    # the fitted eps_dot_0 holds at the calibration temperature: make that the Arrhenius reference
    return {**values, "creep_rate_ref": analysis.read_eps_dot_0(args.calibration, dimension),
            "reference_temperature": kelvin(calibration["temperature_C"])}


if __name__ == "__main__":
    sys.exit(cli.main("mechanics", MechanicsParameters, run_mechanics, MechanicsConvergenceError,
                             adjust=calibrated, extra_arguments=calibration_argument))
