"""Rule `design_map`: the predicted CCD over the grid's width, depth and land ratio, and its figure."""

from lisse.cell import design
from lisse.core import logs

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
table = design.design_map_table(params.points, inputs.calibration, params.dimension, params.pressure_MPa,
                                params.temperature_C, params.config)
table.to_csv(output.table, index=False)
design.design_map_figure(table, params.measured, output.png)
best = table[table["label"] != "planar"].sort_values("ccd_mA_cm2", ascending=False).iloc[0]
log.info("design map: %d cells at %g MPa, %g C; best %s: CCD %.3g mA/cm2 (true area x %.2f)", len(table) - 1,
         params.pressure_MPa, params.temperature_C, best["label"], best["ccd_mA_cm2"], best["true_area_ratio"])
