"""Study B geometry: LLZO plate with a surface pit, Li interphase layer, rigid current-collector tip.

The cross-section (Study B: Nat. Commun. 2022; README, "Study B"), 2D plane strain, mirror-symmetric
about the pit axis x = 0; coordinates in metres in every output, nanometres inside Gmsh:

* LLZO plate: 0 <= x <= W, -H <= y <= 0, its top surface at y = 0.
* Surface pit (the flaw): half of a semi-ellipse of depth ``a`` (the flaw size) and
  half-width ``b = sqrt(a rho)``, so that the radius of curvature at its tip (0, -a)
  is exactly ``rho = b^2 / a`` (choice: an elliptical notch has a closed-form stress
  concentration, Inglis' 1 + 2 sqrt(a / rho), and one parameter per feature).
* The pit is filled with Li (choice: plated Li conforms to the LLZO surface; pressurised
  Li in the pit is what wedges the flaw open).
* Li interphase layer: between the LLZO surface and the rigid current-collector (CC)
  tip, an arc of radius R whose apex is ``h0`` above the surface,
  y_cc(x) = h0 + R - sqrt(R^2 - x^2), for 0 <= x <= c (c: contact half-width).  At
  x = c the Li ends in a vertical free edge.  The CC is rigid, so it is not meshed:
  it is the Li boundary ``li_cc``.
* The line y = 0 across the pit mouth splits the Li into the layer above the LLZO
  surface (which grows when Li is plated, see :mod:`lisse.plating.mechanics`) and the Li in the
  pit (which does not); both are the cell group ``li``.

Physical groups.  Cells: ``llzo`` (1), ``li`` (2).  Facets: ``li_cc`` (Li/CC contact),
``li_llzo`` (flat Li/LLZO interface), ``pit_wall`` and ``pit_tip`` (the Li/LLZO interface
in the pit; ``pit_tip`` is the cap of the notch within ``rho / 2`` of the axis, i.e.
+-30 degrees of the osculating circle), ``li_free`` (lateral Li edge), ``llzo_free``
(LLZO surface outside the contact), ``llzo_bottom``, ``llzo_sides`` (x = W),
``li_symmetry`` and ``llzo_symmetry`` (x = 0), ``pit_mouth`` (Li/Li line y = 0 over the pit).

Mesh: graded toward the pit tip (``tip_element`` there, growing linearly with the
distance), ``li_element`` in the Li and along its boundaries, capped at ``max_element``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import gmsh
import numpy as np

from lisse.core.gmsh_mesh import mesh_statistics, write_gmsh_mesh
from lisse.core.units import NM  # gmsh builds the plating model in nanometres
from lisse.plating.fracture import griffith_critical_stress

CELL_GROUPS = {"llzo": 1, "li": 2}
FACET_GROUPS = {
    "li_cc": 11,
    "li_llzo": 12,
    "pit_wall": 13,
    "pit_tip": 14,
    "li_free": 15,
    "llzo_free": 16,
    "llzo_bottom": 17,
    "llzo_sides": 18,
    "li_symmetry": 19,
    "llzo_symmetry": 20,
    "pit_mouth": 21,
}
LI_LLZO_INTERFACE = ("li_llzo", "pit_wall", "pit_tip")


@dataclass(frozen=True)
class PlatingGeometry:
    """Cross-section of the Li | LLZO contact under the CC tip, lengths in metres."""

    flaw_size: float = 10e-9  # a: pit depth
    pit_tip_radius: float = 2e-9  # rho: radius of curvature at the pit tip
    li_thickness: float = 20e-9  # h0: Li thickness under the CC apex (the growth length h_layer)
    contact_half_width: float = 100e-9  # c: lateral half-extent of the Li under the CC
    cc_tip_radius: float = 300e-9  # R: radius of the CC tip arc
    llzo_half_width: float = 800e-9  # W
    llzo_thickness: float = 800e-9  # H

    def __post_init__(self):
        a, rho, c = self.flaw_size, self.pit_tip_radius, self.contact_half_width
        problems = []
        if min(a, rho, self.li_thickness, c, self.cc_tip_radius, self.llzo_half_width, self.llzo_thickness) <= 0:
            problems.append("every length must be positive")
        elif rho >= a:
            problems.append(f"pit_tip_radius {rho:.3g} m must be below the flaw size {a:.3g} m (a sharp pit)")
        elif self.pit_half_width > 0.5 * c:
            problems.append(f"pit half-width sqrt(a rho) = {self.pit_half_width:.3g} m must be at most half the "
                            f"contact half-width {c:.3g} m")
        if c >= 0.8 * self.cc_tip_radius:
            problems.append(f"contact_half_width {c:.3g} m must be below 0.8 cc_tip_radius {self.cc_tip_radius:.3g} m")
        if c >= 0.5 * self.llzo_half_width:
            problems.append(f"contact_half_width {c:.3g} m must be below half of llzo_half_width")
        if a >= 0.5 * self.llzo_thickness:
            problems.append(f"flaw_size {a:.3g} m must be below half of llzo_thickness")
        if problems:
            raise ValueError("invalid plating geometry: " + "; ".join(problems))

    @property
    def pit_half_width(self) -> float:
        """b = sqrt(a rho): the semi-axis of the elliptical pit along the surface."""
        return math.sqrt(self.flaw_size * self.pit_tip_radius)

    def cc_height(self, x):
        """y of the CC tip arc above the LLZO surface (the Li top) at lateral position x."""
        R = self.cc_tip_radius
        return self.li_thickness + R - np.sqrt(R * R - np.asarray(x, dtype=float) ** 2)

    @property
    def tip_cap_half_width(self) -> float:
        """Lateral half-width of the ``pit_tip`` facet group: rho / 2."""
        return 0.5 * self.pit_tip_radius


@dataclass(frozen=True)
class PlatingMeshSizing:
    """Element sizes in metres."""

    tip_element: float = 0.5e-9  # at the pit tip
    li_element: float = 4e-9  # inside the Li and along its boundaries
    growth_rate: float = 1.3  # size grows as h0 + (growth_rate - 1) * distance
    max_element: float = 100e-9

    def __post_init__(self):
        if not 0 < self.tip_element <= self.li_element <= self.max_element:
            raise ValueError("need 0 < tip_element <= li_element <= max_element")
        if self.growth_rate <= 1.0:
            raise ValueError("growth_rate must exceed 1")


def geometric_facts(geometry: PlatingGeometry) -> dict:
    """Closed-form facts (SI): pit shape, Li layer area and volume, reference stresses."""
    g = geometry
    a, rho, b, c, R, h0 = (g.flaw_size, g.pit_tip_radius, g.pit_half_width, g.contact_half_width,
                           g.cc_tip_radius, g.li_thickness)
    # area under the CC arc: int_0^c (h0 + R - sqrt(R^2 - x^2)) dx
    arc_integral = 0.5 * (c * math.sqrt(R * R - c * c) + R * R * math.asin(c / R))
    layer_area = c * (h0 + R) - arc_integral
    pit_area = 0.25 * math.pi * a * b  # a quarter of the ellipse (half of the half-pit mirror image)
    return {
        "flaw_size_m": a,
        "pit_tip_radius_m": rho,
        "pit_half_width_m": b,
        "pit_tip_m": [0.0, -a],
        "tip_cap_half_width_m": g.tip_cap_half_width,
        "li_thickness_m": h0,
        "li_edge_thickness_m": float(g.cc_height(c)),
        "contact_half_width_m": c,
        "cc_tip_radius_m": R,
        "li_layer_area_m2": layer_area,
        "li_pit_area_m2": pit_area,
        "li_area_m2": layer_area + pit_area,
        "llzo_area_m2": g.llzo_half_width * g.llzo_thickness - pit_area,
        # Inglis: hoop stress at the tip of an elliptical hole, remote tension S: S (1 + 2 a/b)
        "inglis_stress_concentration": 1.0 + 2.0 * a / b,
        "griffith_critical_stress_Pa": float(griffith_critical_stress(a)),
        "symmetry": "mirror about x = 0 (half model)",
    }


# --------------------------------------------------------------------------------------
# Gmsh model and mesh
# --------------------------------------------------------------------------------------


def _build_model(geometry: PlatingGeometry, sizing: PlatingMeshSizing) -> dict[str, list[int]]:
    """Create the OCC model (nanometres) and its mesh-size fields; return curve tags per group."""
    occ = gmsh.model.occ
    g = geometry
    a, b = g.flaw_size / NM, g.pit_half_width / NM
    h0, c, R = g.li_thickness / NM, g.contact_half_width / NM, g.cc_tip_radius / NM
    W, H = g.llzo_half_width / NM, g.llzo_thickness / NM
    y_edge = float(g.cc_height(g.contact_half_width)) / NM

    def point(x, y):
        return occ.addPoint(x, y, 0.0)

    origin, tip, mouth = point(0, 0), point(0, -a), point(b, 0)
    # the tip cap ends where x = rho/2 on the ellipse x = b sin(phi), y = -a cos(phi)
    phi = math.asin(g.tip_cap_half_width / g.pit_half_width)
    cap = point(b * math.sin(phi), -a * math.cos(phi))
    li_edge_bottom, li_edge_top = point(c, 0), point(c, y_edge)
    apex, cc_centre = point(0, h0), point(0, h0 + R)
    llzo_top_right, llzo_bottom_right, llzo_bottom_left = point(W, 0), point(W, -H), point(0, -H)

    def ellipse_arc(start, end):
        if math.isclose(a, b):
            return occ.addCircleArc(start, origin, end)
        major = tip if a > b else mouth  # OCC wants a point on the major axis
        return occ.addEllipseArc(start, origin, major, end)

    curves = {name: [] for name in FACET_GROUPS}
    pit_wall = ellipse_arc(mouth, cap)
    pit_tip = ellipse_arc(cap, tip)
    mouth_line = occ.addLine(origin, mouth)
    flat = occ.addLine(mouth, li_edge_bottom)
    free = occ.addLine(li_edge_bottom, li_edge_top)
    cc = occ.addCircleArc(li_edge_top, cc_centre, apex)
    li_axis = occ.addLine(apex, origin)
    pit_axis = occ.addLine(origin, tip)
    llzo_free = occ.addLine(li_edge_bottom, llzo_top_right)
    llzo_sides = occ.addLine(llzo_top_right, llzo_bottom_right)
    llzo_bottom = occ.addLine(llzo_bottom_right, llzo_bottom_left)
    llzo_axis = occ.addLine(llzo_bottom_left, tip)
    for name, tag in [("pit_wall", pit_wall), ("pit_tip", pit_tip), ("pit_mouth", mouth_line), ("li_llzo", flat),
                      ("li_free", free), ("li_cc", cc), ("li_symmetry", li_axis), ("li_symmetry", pit_axis),
                      ("llzo_free", llzo_free), ("llzo_sides", llzo_sides), ("llzo_bottom", llzo_bottom),
                      ("llzo_symmetry", llzo_axis)]:
        curves[name].append(tag)

    layer = occ.addPlaneSurface([occ.addCurveLoop([mouth_line, flat, free, cc, li_axis])])
    pit = occ.addPlaneSurface([occ.addCurveLoop([mouth_line, pit_wall, pit_tip, pit_axis])])
    llzo = occ.addPlaneSurface([occ.addCurveLoop([pit_tip, pit_wall, flat, llzo_free, llzo_sides, llzo_bottom,
                                                  llzo_axis])])
    occ.synchronize()

    gmsh.model.addPhysicalGroup(2, [llzo], CELL_GROUPS["llzo"], name="llzo")
    gmsh.model.addPhysicalGroup(2, [layer, pit], CELL_GROUPS["li"], name="li")
    for name, tags in curves.items():
        gmsh.model.addPhysicalGroup(1, tags, FACET_GROUPS[name], name=name)

    li_curves = [pit_wall, pit_tip, mouth_line, flat, free, cc, li_axis, pit_axis]
    _set_size_fields(sizing, tip, li_curves, [layer, pit], longest=max(a, c, h0 + R) * 2)
    return curves


def _set_size_fields(sizing: PlatingMeshSizing, tip: int, li_curves: list[int], li_surfaces: list[int],
                     longest: float) -> None:
    """Element sizes (nm): graded from the pit tip and from the Li's boundary, ``li_element`` inside the Li."""
    # h(d) = h0 + (growth - 1) d: a geometric progression of ratio `growth` between neighbours
    slope = sizing.growth_rate - 1.0
    h_tip, h_li, h_max = sizing.tip_element / NM, sizing.li_element / NM, sizing.max_element / NM
    field = gmsh.model.mesh.field
    tip_distance = field.add("Distance")
    field.setNumbers(tip_distance, "PointsList", [tip])
    tip_size = field.add("MathEval")
    field.setString(tip_size, "F", f"min({h_max}, {h_tip} + {slope} * F{tip_distance})")
    li_distance = field.add("Distance")
    field.setNumbers(li_distance, "CurvesList", li_curves)
    field.setNumber(li_distance, "Sampling", max(50, math.ceil(2 * longest / h_li)))
    li_size = field.add("MathEval")
    field.setString(li_size, "F", f"min({h_max}, {h_li} + {slope} * F{li_distance})")
    li_inside = field.add("Constant")
    field.setNumbers(li_inside, "SurfacesList", li_surfaces)
    field.setNumber(li_inside, "VIn", h_li)
    field.setNumber(li_inside, "VOut", h_max)
    minimum = field.add("Min")
    field.setNumbers(minimum, "FieldsList", [tip_size, li_size, li_inside])
    field.setAsBackgroundMesh(minimum)
    for option in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(option, 0)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay, as the Study A meshes


def _mesh_statistics(curves: dict[str, list[int]]) -> dict:
    """Mesh statistics of the current gmsh model (SI), the Li/LLZO interface as the interface,
    and the edges on the pit tip."""
    stats = mesh_statistics({name: curves[name] for name in LI_LLZO_INTERFACE}, 2, NM)
    # the tip: the shortest edge on the pit_tip curve
    node_tags, coords, _ = gmsh.model.mesh.getNodes()
    xyz = np.zeros((int(node_tags.max()) + 1, 3))
    xyz[node_tags.astype(int)] = coords.reshape(-1, 3)
    tip_edges = []
    for tag in curves["pit_tip"]:
        _, _, nodes = gmsh.model.mesh.getElements(dim=1, tag=tag)
        pairs = np.concatenate(nodes).astype(int).reshape(-1, 2)
        tip_edges.append(np.linalg.norm(xyz[pairs[:, 1]] - xyz[pairs[:, 0]], axis=1) * NM)
    tip_edges = np.concatenate(tip_edges)
    stats["pit_tip_edges"] = int(len(tip_edges))
    stats["max_pit_tip_edge_m"] = float(tip_edges.max())
    return stats


def write_plating_geometry(geometry: PlatingGeometry, sizing: PlatingMeshSizing, msh_path: str | Path,
                           json_path: str | Path | None = None, provenance: dict | None = None) -> dict:
    """Build, mesh and write one geometry: ``msh_path`` (Gmsh 4.1, metres) and its facts JSON."""

    def mesh_model() -> dict:
        curves = _build_model(geometry, sizing)
        gmsh.model.mesh.generate(2)
        return {"mesh": _mesh_statistics(curves), "physical_groups": {"cells": CELL_GROUPS, "facets": FACET_GROUPS}}

    facts = {"geometry": asdict(geometry), "sizing": asdict(sizing), **geometric_facts(geometry)}
    return write_gmsh_mesh(mesh_model, NM, msh_path, json_path, facts, provenance)


def zoom_box_nm(geometry: PlatingGeometry) -> tuple[float, float, float, float]:
    """Preview window (x0, x1, y0, y1) in nm: the Li under the CC and the pit."""
    c = geometry.contact_half_width / NM
    top = float(geometry.cc_height(geometry.contact_half_width)) / NM
    depth = geometry.flaw_size / NM
    return (0.0, 1.3 * c, -max(1.3 * depth, 0.3 * c), 1.2 * top)


def plating_preview(msh_path: str | Path, png_path: str | Path, zoom_box: tuple[float, float, float, float],
                    title: str = "") -> None:
    """Study A's two-panel mesh preview, in nm: the whole slice and a zoom on the Li and the pit."""
    from lisse.core.preview import mesh_preview

    mesh_preview(msh_path, png_path, zoom_box, title=title, unit="nm")
