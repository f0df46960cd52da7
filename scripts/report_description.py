"""Rule `report_description`: the report's first page (study, configuration, calibration, score, reading order)."""

from pathlib import Path

from lisse.core import logs
from lisse.workflow.report import description_rst, read_optional

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs = snakemake.input  # noqa: F821
results = {name: read_optional(getattr(inputs, name, None))
           for name in ("calibration", "validation", "ccd", "plating", "plating_calibration", "plating_vs_paper")}
page = description_rst(snakemake.params.config, snakemake.params.figures, **results)  # noqa: F821
Path(snakemake.output.page).write_text(page)  # noqa: F821
log.info("report description: %d lines", page.count("\n"))
