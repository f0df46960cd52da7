"""Rule `figure_unit_cell_3d`: the 3D unit cells beside the 2D cross-sections of the same grid."""

import json
import tempfile
from pathlib import Path

from lisse.cell import analysis, plots
from lisse.core import logs, preview
from lisse.core.units import MA_CM2
from lisse.workflow.sweep import input_name

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
current, cells = params.current_mA_cm2, params.cells  # cells: geometry label -> its table columns


def summaries(solver: str) -> dict[str, list[dict]]:
    """Geometry label -> the summaries of its solves, in sweep order."""
    return {label: [json.loads(Path(path).read_text()) for path in inputs[input_name(label, f"{solver}_summaries")]]
            for label in cells}


table = plots.unit_cell_3d_table(summaries("electrochemistry"), cells)
table.to_csv(output.table, index=False, float_format="%.8g")
log.info("3D vs 2D electrochemistry:\n%s", table.to_string(index=False))

mechanics = plots.unit_cell_3d_mechanics_table(summaries("mechanics"), cells)
if len(mechanics):
    eps_dot_0 = analysis.read_eps_dot_0(inputs.calibration)
    responses = {label: analysis.response(inputs[input_name(label, "electrochemistry")], params.currents_A_m2,
                                          inputs[input_name(label, "mechanics")], params.pressures_Pa)
                 for label in cells}
    criterion = analysis.unit_cell_3d_stability(responses, cells, params.report_pressures_Pa, eps_dot_0, current,
                                                params.config)
    if (mechanics["method"] == "steady").all():  # one solve per cell, sigma / P at every reported pressure
        mechanics = mechanics.drop(columns="stack_pressure_MPa")
    mechanics = mechanics.merge(criterion.rename(columns={"stable_fraction": f"stable_fraction_at_{current:g}_mA_cm2"}))
    log.info("3D vs 2D mechanics and the criterion (eps_dot_0 = %.4e 1/s):\n%s", eps_dot_0,
             mechanics.to_string(index=False))
mechanics.to_csv(output.mechanics_table, index=False, float_format="%.8g")
with tempfile.TemporaryDirectory() as scratch:  # the 3D render is only a panel of the figure
    render = Path(scratch) / "render.png"
    preview.current_density_render_3d(inputs.render_vtu, render, current * MA_CM2)
    plots.unit_cell_3d_comparison(table, render, current, output.png, mechanics, params.pressure_MPa)
