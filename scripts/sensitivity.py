"""Rule `sensitivity`: CCD and agreement score per variant of each uncertain input, and the tornado figure."""

from lisse.cell import analysis, design
from lisse.core import logs

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
table = design.sensitivity_table(analysis.model_form_table(params.variants, inputs.experiments, params.config),
                                 params.channel_widths_um)
table.to_csv(output.table, index=False)
design.tornado_figure(table, output.png)
for row in table.itertuples():
    log.info("%s %s: eps_dot_0 %.3e 1/s, CCD %.3g mA/cm2 (x %.2f of the baseline), %d of %d experiments", row.form,
             row.geometry, row.eps_dot_0_per_s, row.ccd_mA_cm2, row.ccd_relative, row.agree, row.scored)
