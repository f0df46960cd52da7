"""Rule `plating_figure_fracture_map`: fracture maps over (current density, flaw size), one panel per case."""

import pandas as pd

from lisse.core import logs
from lisse.plating.plots import fracture_maps

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
fracture_maps(pd.read_csv(snakemake.input.map), snakemake.output.png)  # noqa: F821
