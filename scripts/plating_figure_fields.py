"""Rule `plating_figure_fields`: Li pressure and LLZO sigma_1 fields per case at a low and a high current."""

from lisse.core import logs
from lisse.plating.plots import stress_fields

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params = snakemake.input, snakemake.params  # noqa: F821
panels = [{**panel, "vtu": inputs[name]} for name, panel in params.panels.items()]  # one named VTU per panel
stress_fields(panels, snakemake.output.png)  # noqa: F821
