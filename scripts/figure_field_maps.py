"""Rule `figure_field_maps`: Li flux arrows in the SSE and equivalent stress in the Li, planar vs grid."""

from lisse.cell import plots
from lisse.core import logs
from lisse.workflow.sweep import input_name

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params = snakemake.input, snakemake.params  # noqa: F821
panels = [{"label": label, "window_um": window, "electrochemistry": inputs[input_name(label, "electrochemistry")],
           "mechanics": inputs[input_name(label, "mechanics")]} for label, window in params.windows_um.items()]
plots.field_maps(panels, snakemake.output.png, params.stress_scale)  # noqa: F821
