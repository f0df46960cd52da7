"""Rule `plating_geometry`: mesh one Study B cross-section (one flaw size) and render its preview."""

import json
import logging

from lisse.core import logs, provenance
from lisse.plating.geometry import PlatingGeometry, PlatingMeshSizing, plating_preview, write_plating_geometry

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
params = snakemake.params  # noqa: F821
geometry = PlatingGeometry(**params.geometry)
sizing = PlatingMeshSizing(**params.sizing)
log.info("plating geometry %s: %s", params.label, json.dumps(params.geometry))
facts = write_plating_geometry(geometry, sizing, snakemake.output.mesh, snakemake.output.facts,  # noqa: F821
                               provenance=provenance.collect(label=params.label))
mesh = facts["mesh"]
log.info("mesh: %d cells, %d vertices, element size %.2e..%.2e m, %d edges on the pit tip, worst quality "
         "(minSICN) %.3f", mesh["cells"], mesh["vertices"], mesh["min_element_size_m"], mesh["max_element_size_m"],
         mesh["pit_tip_edges"], mesh["worst_quality_min_sicn"])
log.info("pit: depth %.3g m, tip radius %.3g m, half-width %.3g m; Li area %.3g m2", facts["flaw_size_m"],
         facts["pit_tip_radius_m"], facts["pit_half_width_m"], facts["li_area_m2"])
plating_preview(snakemake.output.mesh, snakemake.output.preview, tuple(params.zoom_box_nm),  # noqa: F821
                title=f"{params.label}: {mesh['cells']} cells")
logging.shutdown()
