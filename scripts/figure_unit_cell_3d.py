"""Rule `figure_unit_cell_3d`: the 3D unit cells beside the 2D cross-sections of the same grid."""

import json
import tempfile
from pathlib import Path

from lisse.cell import analysis, plots
from lisse.core import logs, preview

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
current = params.current_mA_cm2
summaries = [json.loads(Path(path).read_text()) for path in inputs.summaries]
table = plots.unit_cell_3d_table(summaries, params.labels)
table.to_csv(output.table, index=False, float_format="%.8g")
log.info("3D vs 2D electrochemistry:\n%s", table.to_string(index=False))

mechanics = plots.unit_cell_3d_mechanics_table([json.loads(Path(path).read_text())
                                                   for path in inputs.mechanics_summaries], params.mechanics_labels)
if len(mechanics):
    eps_dot_0 = analysis.read_eps_dot_0(inputs.calibration)
    criterion = analysis.unit_cell_3d_stability(inputs.ec_interfaces, params.currents_A_m2, inputs.me_interfaces,
                                                params.pressures_Pa, params.mechanics_labels, eps_dot_0, current,
                                                params.config)
    mechanics = mechanics.merge(criterion.rename(columns={"stable_fraction": f"stable_fraction_at_{current:g}_mA_cm2"}))
    log.info("3D vs 2D mechanics at t_eval and the criterion (eps_dot_0 = %.4e 1/s):\n%s", eps_dot_0,
             mechanics.to_string(index=False))
mechanics.to_csv(output.mechanics_table, index=False, float_format="%.8g")
with tempfile.TemporaryDirectory() as scratch:  # the 3D render is only a panel of the figure
    render = Path(scratch) / "render.png"
    preview.current_density_render_3d(inputs.render_vtu, render, current * 10.0)
    plots.unit_cell_3d_comparison(table, render, current, output.png, mechanics, params.pressure_MPa)
