"""Rule `plating_vs_paper`: Study B against the values the study reports (table and figure)."""

import json

import pandas as pd

from lisse.core import logs
from lisse.plating.comparison import compare_with_study, comparison_figure
from lisse.plating.plots import CASE_COLOURS, CASE_LABELS, write_table

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
calibration = json.loads(open(inputs.calibration[0]).read()) if inputs.calibration else None
comparison = compare_with_study(pd.read_csv(inputs.table), params.flaw_size_nm, params.contact_half_width_m, calibration)
write_table(comparison, output.table)
comparison_figure(comparison, output.png, CASE_COLOURS, CASE_LABELS)
for row in comparison.itertuples():
    log.info("%-14s %-12s %8g mA/cm2: study %.3g Pa, model %.3g Pa, ratio %.3f (%s, %s)", row.quantity, row.constraint,
             row.current_mA_cm2, row.study_Pa, row.model_Pa, row.ratio, row.role, row.model_source)
