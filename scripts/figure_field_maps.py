"""Rule `figure_field_maps`: Li flux in the SSE and equivalent stress in the Li, planar vs grid (2D
cross-sections: the cell near the interface at one scale; 3D cells: oblique views near the interface)."""

from lisse.cell import plots
from lisse.core import logs
from lisse.workflow.sweep import input_name

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
panels = [{"label": label, "window_um": window, "depth_um": params.depths_um[label],
           "channel_width_um": params.channel_widths_um[label],
           "electrochemistry": inputs[input_name(label, "electrochemistry")],
           "mechanics": inputs[input_name(label, "mechanics")]} for label, window in params.windows_um.items()]
field_maps = plots.field_maps_3d if params.dimension == 3 else plots.field_maps
field_maps(panels, output.png, params.current_mA_cm2, params.pressure_MPa, params.stress_scale, params.temperature_C)
