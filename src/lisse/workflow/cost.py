"""A cost guard: the size of every mesh, estimated from the geometry and mesh parameters before meshing.

The background size of the cell meshes (:func:`lisse.cell.geometry._set_size_field`) is
h(d) = min(h_max, h0 + (g - 1) d) at a distance d from the interface, so the number of
elements is about c ∫ dV / h(d)^D, here summed over slabs of the interface's true area on
its two sides (D = 2: triangles, D = 3: tetrahedra), plus the refinement around the fillets
where their element is finer than the interface's.  The constants c are fitted on the
study's meshes (Frontal-Delaunay in 2D, Delaunay in 3D); the estimate is within a factor
of about 2, enough to stop a mesh that would run for days before it is built.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lisse.workflow.config import GeometryCase, Study

# elements per h^D of area (triangles) / volume (tetrahedra), fitted on the default and paper
# studies' meshes: the 2D estimates are within 0.7-1.3 of the meshes, the 3D grids' within 0.9-1.3
# (the 10 um grid, whose channels are a few elements wide, 2.3; small planar cells 0.3-0.5)
ELEMENTS_PER_SIZE = {2: 2.6, 3: 4.2}
DOFS_PER_ELEMENT = {2: 2.4, 3: 3.0}  # of the steady mechanics (the largest solve) on those meshes


def _inverse_size_integral(start: float, end: float, h0: float, slope: float, h_max: float, dimension: int) -> float:
    """∫_start^end dd / h(d)^D with h(d) = min(h_max, h0 + slope d)."""
    k, knee = dimension, (h_max - h0) / slope if slope > 0 else 0.0  # where h reaches h_max
    graded = max(0.0, min(end, knee) - start)
    integral = 0.0
    if graded > 0:
        integral = ((h0 + slope * start) ** (1 - k) - (h0 + slope * (start + graded)) ** (1 - k)) / (slope * (k - 1))
    return integral + (end - start - graded) / min(h_max, h0 + slope * max(start, min(end, knee))) ** k


def estimated_elements(case: GeometryCase) -> int:
    """Elements of one cell's mesh, estimated from its geometry and mesh sizing (metres).

    Each side of the interface is a layer of the interface's true area, as thick as holds the
    patterned part of that side (the Li in the channels, the SSE pillars or lands), then the
    flat rest of that side (the Li above the lands, the SSE below the channel floor) over the
    projected area, farther from the interface."""
    g, s = case.geometry, case.sizing
    dimension, a = g.dimension, g.half_width
    h0, slope, h_max = s.interface_element, s.growth_rate - 1.0, s.max_element
    projected = a ** (dimension - 1)
    channel = sum(right - left for left, right in g.channel_spans()) if dimension == 2 else \
        a**2 - (a - g.channel_width / 2) ** 2  # the channels' share of the projected area
    if g.is_planar:
        channel = 0.0
    walls = len(g.channel_spans()) if dimension == 2 else 2 * (a - g.channel_width / 2)
    true_area = projected + (walls * g.channel_depth if not g.is_planar else 0.0)
    depth = 0.0 if g.is_planar else g.channel_depth
    elements = 0.0
    for patterned, flat in ((channel * depth, g.li_thickness), ((projected - channel) * depth, g.sse_half_thickness - depth)):
        near = patterned / true_area
        elements += true_area * _inverse_size_integral(0.0, near, h0, slope, h_max, dimension)
        elements += projected * _inverse_size_integral(near, near + flat, h0, slope, h_max, dimension)
    h_fillet = s.fillet_element(g.fillet_radius)
    if not g.is_planar and h_fillet < h0 and slope > 0:  # the cone of finer elements around each fillet
        if dimension == 2:
            elements += 2 * len(g.channel_spans()) * 2 * math.pi / slope**2 * math.log(h0 / h_fillet)
        else:
            fillet_length = 2 * g.channel_depth + 4 * a  # the pillar's vertical edge, its top and foot edges
            elements += fillet_length * math.pi / slope**2 * (1 / h_fillet - 1 / h0)
    return round(ELEMENTS_PER_SIZE[dimension] * elements)


def estimated_dofs(case: GeometryCase) -> int:
    """DOFs of the steady mechanics (the largest solve of a cell) on that mesh."""
    return round(DOFS_PER_ELEMENT[case.geometry.dimension] * estimated_elements(case))


def cost_problems(study: Study) -> list[str]:
    """Every mesh above the guard, config key ``solver.max_elements_per_mesh``, each naming the
    sizing keys that set it."""
    limit = study.config["solver"]["max_elements_per_mesh"]
    problems = []
    for case in _all_cases(study):
        elements = estimated_elements(case)
        if elements > limit:
            section, s = ("mesh" if case.geometry.dimension == 2 else "unit_cell_3d"), case.sizing
            problems.append(
                f"the {case.geometry.dimension}D mesh of {case.label} would have about {elements:,} elements, above config key "
                f"'solver.max_elements_per_mesh' = {limit:,} (allowed: at most that). Coarsen {section}.interface_element_um = "
                f"{s.interface_element * 1e6:g}, {section}.growth_rate = {s.growth_rate:g} or {section}.max_element_um = "
                f"{s.max_element * 1e6:g}, or raise solver.max_elements_per_mesh if you mean it")
    return problems


def _all_cases(study: Study) -> list[GeometryCase]:
    """The cells of the model of record, the model forms, the sensitivity variants and the design map."""
    models = [*study.forms.values(), *study.variants.values()]
    cases = {**study.geometries, **{g: c for model in models for g, c in model.geometries.items()}, **study.design}
    return list(cases.values())


def print_cost_estimate(study: Study, stream=sys.stderr) -> None:
    """One line per mesh (elements, mechanics DOFs), printed when the workflow is planned (also on a dry run)."""
    if not study.runs("cells"):
        return
    cases = _all_cases(study)
    parts = [f"{case.label} ~{estimated_elements(case):,} ({estimated_dofs(case):,} DOFs)" for case in cases]
    print(f"lisse: estimated mesh elements per cell: {'; '.join(parts)}", file=stream)
