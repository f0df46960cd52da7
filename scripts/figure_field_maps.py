"""Rule `figure_field_maps`: Li flux arrows in the SSE and equivalent stress in the Li, planar vs grid."""

from lisse.cell import plots
from lisse.core import logs

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params = snakemake.input, snakemake.params  # noqa: F821
panels = [{"label": label, "electrochemistry": ec, "mechanics": me, "window_um": window}
          for label, ec, me, window in zip(params.labels, inputs.ec, inputs.me, params.windows)]
plots.field_maps(panels, snakemake.output.png)  # noqa: F821
