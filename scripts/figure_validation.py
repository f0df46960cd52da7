"""Rule `figure_validation`: the validation table as a figure."""

import pandas as pd

from lisse.cell import plots
from lisse.core import logs

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
plots.validation_table_figure(pd.read_csv(snakemake.input.table), snakemake.output.png)  # noqa: F821
