"""Rule `geometry`: mesh one half-cell cross-section (or 3D unit cell) and render its preview."""

import json
import logging

from lisse.cell.geometry import CellGeometry, MeshSizing, write_geometry
from lisse.core import logs, provenance
from lisse.core.preview import mesh_preview, mesh_preview_3d

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
params = snakemake.params  # noqa: F821
geometry = CellGeometry(**params.geometry)
sizing = MeshSizing(**params.sizing)
log.info("geometry %s: %s", params.label, json.dumps(params.geometry))
facts = write_geometry(geometry, sizing, snakemake.output.mesh, snakemake.output.facts,  # noqa: F821
                       provenance=provenance.collect(label=params.label))
mesh = facts["mesh"]
log.info("mesh: %d cells, %d vertices, element size %.2e..%.2e m, worst quality (minSICN) %.3f",
         mesh["cells"], mesh["vertices"], mesh["min_element_size_m"], mesh["max_element_size_m"],
         mesh["worst_quality_min_sicn"])
title = f"{params.label}: {mesh['cells']} cells"
if geometry.dimension == 3:
    log.info("interface area per nominal area: %.4f", facts["interface_area_per_nominal_area"])
    mesh_preview_3d(snakemake.output.mesh, snakemake.output.preview, title=title)  # noqa: F821
else:
    log.info("interface length per nominal width: %.4f", facts["interface_length_per_nominal_width"])
    mesh_preview(snakemake.output.mesh, snakemake.output.preview, tuple(params.zoom_box_um),  # noqa: F821
                 title=title)
logging.shutdown()
