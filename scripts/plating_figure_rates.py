"""Rule `plating_figure_rates`: p in the Li and sigma_1 at the pit tip vs current density (log-log), with the
values the study reports."""

import pandas as pd

from lisse.core import logs
from lisse.plating.comparison import REPORTED
from lisse.plating.plots import stress_vs_current

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
stress_vs_current(pd.read_csv(snakemake.input.table), snakemake.output.png, reported=REPORTED)  # noqa: F821
