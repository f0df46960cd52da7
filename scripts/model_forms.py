"""Rule `model_forms`: CCD and agreement score of each form of the model, each calibrated in its own dimension."""

from lisse.cell import analysis, plots
from lisse.cell.experiments import read_experiments
from lisse.core import logs

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
table = analysis.model_form_table(params.forms, inputs.experiments, params.config)
table.to_csv(output.table, index=False)
experiments = read_experiments(inputs.experiments, default_temperature_C=params.config["temperature_C"])
plots.model_forms_figure(table, experiments, params.config["stability"]["current_range_mA_cm2"][0], output.png)
for _, rows in table.groupby("form", sort=False):
    log.info("%s (eps_dot_0 = %.3e 1/s): %d of %d experiments; CCD at %g MPa: %s mA/cm2", rows["model"].iloc[0],
             rows["eps_dot_0_per_s"].iloc[0], rows["agree"].iloc[0], rows["scored"].iloc[0], rows["pressure_MPa"].iloc[0],
             ", ".join(f"{r.geometry} {r.ccd_mA_cm2:.3g}" for r in rows.itertuples()))
