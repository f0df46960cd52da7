"""Rule `plating_summary`: one table of every plating run (case, flaw size, current, p, sigma_1, solver facts)."""

from lisse.core import logs
from lisse.plating.plots import collect_summaries, write_table

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
table = collect_summaries(snakemake.input.summaries)  # noqa: F821
write_table(table, snakemake.output.table)  # noqa: F821
log.info("%d plating runs -> %s", len(table), snakemake.output.table)  # noqa: F821
