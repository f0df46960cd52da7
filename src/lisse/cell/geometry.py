"""Parametric half-cell geometries of Li | LLZO, planar or micropatterned, meshed with Gmsh.

The cross-section (Study A: Adv. Mater. 2021, 2104009; README, Model, "Cell and geometry"), coordinates in metres:

* x is lateral; x = 0 is a mirror plane through the middle of a channel;
* y is vertical; the SSE surface (land top) is at y = 0, the SSE mid-plane at
  y = -sse_half_thickness, channels are cut to y = -channel_depth and filled with
  Li, and the Li foil reaches y = +li_thickness.

The Li/SSE interface is built as an explicit chain of named straight segments
and quarter-circle fillets, shared by both bodies so the mesh is conforming.
Gmsh works in micrometres (its geometric tolerances assume O(1) coordinates);
the mesh is scaled to metres when written.

The 3D unit cell (``dimension = 3``) of the square grid keeps y vertical and adds the
second lateral direction z: it is the quarter x, z in [0, pitch/2] of one period, cut by
the mirror planes x = 0 and z = 0 through the middles of the two crossing channels and
x = z = pitch/2 through the middle of the square pillar.  Its ``ridges`` pattern has the
channels along z only (no cross channels): every z-section is the 2D cross-section, which
is how the 3D model is verified against the 2D one.  Pillar edges are filleted with the
same radius (OCC rolling-ball fillets, blended at the pillar's corners).  The physical
groups are the 2D ones plus ``*_front`` (z = 0) and ``*_back`` (z = pitch/2).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import gmsh

from lisse.cell.interface import InterfaceProfile, Segment
from lisse.core.gmsh_mesh import mesh_statistics, write_gmsh_mesh
from lisse.core.units import UM  # gmsh builds the cell in micrometres

LATERAL_EXTENTS = ("unit_cell", "periods", "pellet")
PATTERNS = ("grid", "ridges")  # 3D: crossing channels around square pillars | channels along z only


@dataclass(frozen=True)
class CellGeometry:
    """Half-cell cross-section, lengths in metres. ``channel_width == 0`` is the planar cell."""

    channel_width: float
    land_width: float
    channel_depth: float
    fillet_radius: float
    sse_half_thickness: float = 800e-6
    li_thickness: float = 500e-6
    lateral_extent: str = "unit_cell"  # mirror unit cell | n_periods full periods | pellet half-width
    n_periods: int = 1
    pellet_radius: float = 5e-3
    planar_width: float = 100e-6  # lateral width of the planar cell's slice (the fields do not vary with x)
    dimension: int = 2  # 2: plane cross-section; 3: quarter unit cell (x, z lateral, y vertical)
    pattern: str = "grid"  # 3D only, see PATTERNS

    def __post_init__(self):
        if self.dimension not in (2, 3):
            raise ValueError(f"dimension must be 2 or 3, not {self.dimension!r}")
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {PATTERNS}, not {self.pattern!r}")
        if self.dimension == 3 and self.lateral_extent != "unit_cell":
            raise ValueError("the 3D geometry is a unit cell: lateral_extent must be 'unit_cell'")

    @property
    def is_planar(self) -> bool:
        return self.channel_width == 0.0

    @property
    def pitch(self) -> float:
        return self.channel_width + self.land_width

    @property
    def half_width(self) -> float:
        """Lateral extent x_R of the modelled slice."""
        if self.lateral_extent == "pellet":
            return self.pellet_radius
        if self.is_planar:
            return self.planar_width
        if self.lateral_extent == "unit_cell":
            return self.pitch / 2
        return self.n_periods * self.pitch

    def channel_spans(self) -> list[tuple[float, float]]:
        """Lateral [left, right] of each channel inside [0, half_width], clipped at the mirror plane.

        Channels sit at x = k * pitch.  In a pellet slice the pattern stops where a
        full channel plus half a land no longer fits before the rim; the rest is flat.
        """
        if self.is_planar:
            return []
        x_right = self.half_width
        spans, k = [], 0
        while True:
            centre = k * self.pitch
            left, right = max(centre - self.channel_width / 2, 0.0), centre + self.channel_width / 2
            if self.lateral_extent == "periods" and right > x_right + 1e-12:
                right = x_right  # last channel cut by the mirror plane at x_R
            elif right + self.land_width / 2 > x_right + 1e-12:
                break
            spans.append((left, right))
            if right >= x_right - 1e-12:
                break
            k += 1
        return spans


@dataclass(frozen=True)
class MeshSizing:
    """Element sizes in metres: ``interface_element`` on the interface, growing by
    ``growth_rate`` per element away from it up to ``max_element``; fillets get
    ``elements_per_fillet`` elements on each quarter arc."""

    interface_element: float
    growth_rate: float = 1.3
    max_element: float = 100e-6
    elements_per_fillet: int = 3

    def fillet_element(self, fillet_radius: float) -> float:
        if fillet_radius <= 0:
            return self.interface_element
        return min(self.interface_element, 0.5 * math.pi * fillet_radius / self.elements_per_fillet)


# --------------------------------------------------------------------------------------
# The interface profile: closed-form geometry, used for the mesh and for the physics
# --------------------------------------------------------------------------------------


def interface_profile(geometry: CellGeometry) -> InterfaceProfile:
    """Chain of named segments from the mirror plane (x = 0) to the right edge (x = x_R)."""
    g, r = geometry, geometry.fillet_radius
    depth, x_right = g.channel_depth, g.half_width
    pieces: list[tuple] = []  # ("line", name, p0, p1) | ("arc", name, p0, centre, p1)

    spans = g.channel_spans()
    x = 0.0
    y = -depth if spans and spans[0][0] == 0.0 else 0.0
    for left, right in spans:
        if left > 0.0:  # descend into the channel: land, upper corner, wall, lower corner
            pieces.append(("line", "interface_land_top", (x, 0.0), (left - r, 0.0)))
            pieces.append(("arc", "interface_upper_corner", (left - r, 0.0), (left - r, -r), (left, -r)))
            pieces.append(("line", "interface_side_wall", (left, -r), (left, -depth + r)))
            pieces.append(("arc", "interface_lower_corner", (left, -depth + r), (left + r, -depth + r), (left + r, -depth)))
            x = left + r
        if right < x_right - 1e-12:  # climb out: floor, lower corner, wall, upper corner
            pieces.append(("line", "interface_channel_floor", (x, -depth), (right - r, -depth)))
            pieces.append(("arc", "interface_lower_corner", (right - r, -depth), (right - r, -depth + r), (right, -depth + r)))
            pieces.append(("line", "interface_side_wall", (right, -depth + r), (right, -r)))
            pieces.append(("arc", "interface_upper_corner", (right, -r), (right + r, -r), (right + r, 0.0)))
            x, y = right + r, 0.0
        else:
            pieces.append(("line", "interface_channel_floor", (x, -depth), (x_right, -depth)))
            x, y = x_right, -depth
    if x < x_right - 1e-12:
        pieces.append(("line", "interface_land_top", (x, y), (x_right, y)))

    segments, s = [], 0.0
    for piece in pieces:
        if piece[0] == "line":
            _, name, p0, p1 = piece
            length = math.dist(p0, p1)
            segments.append(Segment(name, p0, p1, s, length))
        else:
            _, name, p0, centre, p1 = piece
            a0 = math.atan2(p0[1] - centre[1], p0[0] - centre[0])
            sweep = math.remainder(math.atan2(p1[1] - centre[1], p1[0] - centre[0]) - a0, 2 * math.pi)
            length = abs(sweep) * r
            segments.append(Segment(name, p0, p1, s, length, centre, r, a0, a0 + sweep))
        s += length
    return InterfaceProfile(tuple(segments))


def geometric_facts(geometry: CellGeometry) -> dict:
    """Closed-form facts the physics uses (SI): interface length per nominal width, areas."""
    if geometry.dimension == 3:
        return _geometric_facts_3d(geometry)
    profile = interface_profile(geometry)
    x_right = geometry.half_width
    channel_area = sum(right - left for left, right in geometry.channel_spans()) * geometry.channel_depth
    fillet_correction = 0.0  # each convex (upper) fillet adds Li, each concave (lower) one adds SSE
    r = geometry.fillet_radius
    corner_area = r * r * (1 - math.pi / 4)
    names = [seg.name for seg in profile.segments]
    fillet_correction = corner_area * (names.count("interface_upper_corner") - names.count("interface_lower_corner"))
    li_area = x_right * geometry.li_thickness + channel_area + fillet_correction
    sse_area = x_right * geometry.sse_half_thickness - channel_area - fillet_correction
    return {
        "nominal_width_m": x_right,
        "interface_length_m": profile.length,
        "interface_length_per_nominal_width": profile.length / x_right,
        "segment_lengths_m": profile.segment_lengths(),
        "li_area_m2": li_area,
        "sse_area_m2": sse_area,
        "n_channels": len(geometry.channel_spans()),
        "interface_profile": profile.to_json(),
    }


def _geometric_facts_3d(geometry: CellGeometry) -> dict:
    """Closed-form facts of the 3D unit cell with sharp corners (the fillets change the area by
    O(r/d); the exact, filleted areas are measured on the OCC model in :func:`write_geometry`)."""
    g = geometry
    a = g.half_width
    nominal_area = a * a
    if g.is_planar:
        wall_area = 0.0
    elif g.pattern == "ridges":
        wall_area = g.channel_depth * a  # one wall, full z extent
    else:
        wall_area = 2 * g.channel_depth * (a - g.channel_width / 2)  # two walls of the quarter pillar
    return {
        "nominal_area_m2": nominal_area,
        "nominal_width_m": a,
        "interface_area_per_nominal_area_sharp": 1.0 + wall_area / nominal_area,
        "n_channels": 0 if g.is_planar else (1 if g.pattern == "ridges" else 2),
        "interface_profile": None,  # no 1D interface coordinate in 3D: tables carry area weights
    }


# --------------------------------------------------------------------------------------
# Gmsh model and mesh
# --------------------------------------------------------------------------------------

CELL_GROUPS = {"sse": 1, "li": 2}
FACET_GROUPS = {
    "interface_channel_floor": 11,
    "interface_lower_corner": 12,
    "interface_side_wall": 13,
    "interface_upper_corner": 14,
    "interface_land_top": 15,
    "li_top": 21,
    "sse_midplane": 22,
    "sse_left": 23,
    "sse_right": 24,
    "li_left": 25,
    "li_right": 26,
    # 3D only: the faces normal to z
    "sse_front": 27,
    "sse_back": 28,
    "li_front": 29,
    "li_back": 30,
}
INTERFACE_SEGMENTS = tuple(name for name in FACET_GROUPS if name.startswith("interface_"))
"""Names of the Li/SSE interface segments, in the order met walking from the mirror plane
(mid-channel, x = 0) toward the land.  A planar cell has only ``interface_land_top``."""


def _build_model(geometry: CellGeometry, sizing: MeshSizing) -> dict[str, list[int]]:
    """Create the OCC model (micrometres) and its mesh-size fields; return curve tags per group."""
    occ = gmsh.model.occ
    profile = interface_profile(geometry)
    points: dict[tuple[float, float], int] = {}

    def point(xy_m) -> int:
        key = (round(xy_m[0] / UM, 9), round(xy_m[1] / UM, 9))
        if key not in points:
            points[key] = occ.addPoint(key[0], key[1], 0.0)
        return points[key]

    curves: dict[str, list[int]] = {name: [] for name in FACET_GROUPS}
    interface_curves, fillet_curves = [], []
    for seg in profile.segments:
        if seg.is_arc:
            tag = occ.addCircleArc(point(seg.start), point(seg.centre), point(seg.end))
            fillet_curves.append(tag)
        else:
            tag = occ.addLine(point(seg.start), point(seg.end))
        curves[seg.name].append(tag)
        interface_curves.append(tag)

    x_right = geometry.half_width
    start, end = profile.segments[0].start, profile.segments[-1].end
    mid = -geometry.sse_half_thickness
    top = geometry.li_thickness
    sse_right = occ.addLine(point(end), point((x_right, mid)))
    sse_midplane = occ.addLine(point((x_right, mid)), point((0.0, mid)))
    sse_left = occ.addLine(point((0.0, mid)), point(start))
    li_left = occ.addLine(point(start), point((0.0, top)))
    li_top = occ.addLine(point((0.0, top)), point((x_right, top)))
    li_right = occ.addLine(point((x_right, top)), point(end))
    for name, tag in [("sse_right", sse_right), ("sse_midplane", sse_midplane), ("sse_left", sse_left),
                      ("li_left", li_left), ("li_top", li_top), ("li_right", li_right)]:
        curves[name].append(tag)

    sse_loop = occ.addCurveLoop(interface_curves + [sse_right, sse_midplane, sse_left])
    li_loop = occ.addCurveLoop(list(reversed(interface_curves)) + [li_left, li_top, li_right])
    sse = occ.addPlaneSurface([sse_loop])
    li = occ.addPlaneSurface([li_loop])
    occ.synchronize()

    gmsh.model.addPhysicalGroup(2, [sse], CELL_GROUPS["sse"], name="sse")
    gmsh.model.addPhysicalGroup(2, [li], CELL_GROUPS["li"], name="li")
    for name, tags in curves.items():
        if tags:
            gmsh.model.addPhysicalGroup(1, tags, FACET_GROUPS[name], name=name)

    longest = max(seg.length for seg in profile.segments)
    _set_size_field("CurvesList", interface_curves, fillet_curves, sizing, geometry.fillet_radius, longest / UM)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay: good quality on graded meshes
    return curves


def _build_model_3d(geometry: CellGeometry, sizing: MeshSizing) -> dict[str, list[int]]:
    """Create the OCC model of the 3D unit cell (micrometres) and its size fields; return surface tags per group."""
    occ = gmsh.model.occ
    g = geometry
    a, H, T = g.half_width / UM, g.sse_half_thickness / UM, g.li_thickness / UM
    d, r, half_channel = g.channel_depth / UM, g.fillet_radius / UM, g.channel_width / 2 / UM
    if g.is_planar:
        sse = occ.addBox(0, -H, 0, a, H, a)
    else:
        slab = occ.addBox(0, -H, 0, a, H - d, a)
        z0 = 0.0 if g.pattern == "ridges" else half_channel
        pillar = occ.addBox(half_channel, -d, z0, a - half_channel, d, a - z0)
        fused, _ = occ.fuse([(3, slab)], [(3, pillar)])
        sse = fused[0][1]
        occ.synchronize()
        if r > 0:
            sse = occ.fillet([sse], _interior_edges(sse, a, -H), [r], removeVolume=True)[0][1]
    cell = occ.addBox(0, -H, 0, a, H + T, a)
    _, pieces = occ.fragment([(3, cell)], [(3, sse)])
    sse = pieces[1][0][1]
    li = next(tag for _, tag in pieces[0] if tag != sse)
    occ.synchronize()

    tol = 1e-6 * max(a, H)
    sse_faces = {tag for _, tag in gmsh.model.getBoundary([(3, sse)], oriented=False)}
    li_faces = {tag for _, tag in gmsh.model.getBoundary([(3, li)], oriented=False)}
    surfaces: dict[str, list[int]] = {name: [] for name in FACET_GROUPS}
    for tag in sorted(sse_faces | li_faces):
        x0, y0, z0, x1, y1, z1 = gmsh.model.getBoundingBox(2, tag)
        body = "li" if tag in li_faces else "sse"
        if tag in sse_faces and tag in li_faces:
            if y1 - y0 < tol:
                name = "interface_land_top" if abs(y1) < tol else "interface_channel_floor"
            elif y0 > -r - tol:
                name = "interface_upper_corner"
            elif y1 < -d + r + tol:
                name = "interface_lower_corner"
            else:
                name = "interface_side_wall"  # vertical walls and the fillet of the pillar's vertical edge
        elif x1 < tol:
            name = f"{body}_left"
        elif x0 > a - tol:
            name = f"{body}_right"
        elif z1 < tol:
            name = f"{body}_front"
        elif z0 > a - tol:
            name = f"{body}_back"
        elif y0 > T - tol:
            name = "li_top"
        elif y1 < -H + tol:
            name = "sse_midplane"
        else:
            raise RuntimeError(f"unclassified surface {tag} with bounding box {(x0, y0, z0, x1, y1, z1)}")
        surfaces[name].append(tag)

    gmsh.model.addPhysicalGroup(3, [sse], CELL_GROUPS["sse"], name="sse")
    gmsh.model.addPhysicalGroup(3, [li], CELL_GROUPS["li"], name="li")
    for name, tags in surfaces.items():
        if tags:
            gmsh.model.addPhysicalGroup(2, tags, FACET_GROUPS[name], name=name)

    interface = [t for name, tags in surfaces.items() if name.startswith("interface_") for t in tags]
    curved = [t for t in interface if gmsh.model.getType(2, t) != "Plane"]
    _set_size_field("SurfacesList", interface, curved, sizing, g.fillet_radius, longest=a)
    gmsh.option.setNumber("Mesh.Algorithm", 6)
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay
    return surfaces


def _interior_edges(volume: int, half_width_um: float, bottom_um: float) -> list[int]:
    """Edges of the SSE solid off the cell's outer faces: the pillar's edges, to be filleted."""
    tol = 1e-6 * half_width_um
    faces = gmsh.model.getBoundary([(3, volume)], oriented=False)
    edges = {tag for _, tag in gmsh.model.getBoundary(faces, combined=False, oriented=False)}
    interior = []
    for tag in sorted(edges):
        x0, y0, z0, x1, y1, z1 = gmsh.model.getBoundingBox(1, tag)
        on_outer_face = (x1 < tol or x0 > half_width_um - tol or z1 < tol or z0 > half_width_um - tol
                         or y1 < bottom_um + tol)
        if not on_outer_face:
            interior.append(tag)
    return interior


def _set_size_field(entity_list: str, interface: list[int], fillets: list[int], sizing: MeshSizing,
                    fillet_radius: float, longest: float) -> None:
    """Background size h(d) = min(h_max, h0 + (g - 1) d), d the distance to the interface (finer on fillets).

    The size grows linearly with distance, a geometric progression of ratio g from one
    element to the next.  ``entity_list`` is "CurvesList" (2D) or "SurfacesList" (3D).
    """
    h_interface = sizing.interface_element / UM
    h_fillet = sizing.fillet_element(fillet_radius) / UM
    h_max = sizing.max_element / UM
    slope = sizing.growth_rate - 1.0
    field = gmsh.model.mesh.field
    fields = []
    for tags, h0 in [(interface, h_interface), (fillets, h_fillet)]:
        if not tags:
            continue
        distance = field.add("Distance")
        field.setNumbers(distance, entity_list, tags)
        # points per curve (per parametric direction of a surface) to measure distances from
        if entity_list == "CurvesList":  # the fillets are short arcs in 2D, long strips in 3D
            samples = max(20, math.ceil(2 * longest / h0)) if tags is interface else max(20, 2 * sizing.elements_per_fillet + 1)
        else:
            samples = min(max(20, math.ceil(2 * longest / h0)), 400)  # per parametric direction: samples² points
        field.setNumber(distance, "Sampling", samples)
        size = field.add("MathEval")
        field.setString(size, "F", f"min({h_max}, {h0} + {slope} * F{distance})")
        fields.append(size)
    minimum = field.add("Min")
    field.setNumbers(minimum, "FieldsList", fields)
    field.setAsBackgroundMesh(minimum)
    for option in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(option, 0)


def write_geometry(geometry: CellGeometry, sizing: MeshSizing, msh_path: str | Path,
                   json_path: str | Path | None = None, provenance: dict | None = None) -> dict:
    """Build, mesh and write one geometry: ``msh_path`` (Gmsh 4.1, metres) and its facts JSON."""
    tdim = geometry.dimension
    facts = {"geometry": asdict(geometry), "sizing": asdict(sizing), **geometric_facts(geometry)}

    def mesh_model() -> dict:
        entities = (_build_model if tdim == 2 else _build_model_3d)(geometry, sizing)
        gmsh.model.mesh.generate(tdim)
        interface = {name: tags for name, tags in entities.items() if name.startswith("interface_")}
        mesh_facts = {"mesh": mesh_statistics(interface, tdim, UM),
                      "physical_groups": {"cells": CELL_GROUPS,
                                          "facets": {k: v for k, v in FACET_GROUPS.items() if entities[k]}}}
        if tdim == 3:  # exact (filleted) areas from the OCC model, SI
            area = {name: sum(gmsh.model.occ.getMass(2, t) for t in tags) * UM**2
                    for name, tags in entities.items() if tags and name.startswith("interface_")}
            mesh_facts.update(segment_areas_m2=area, interface_area_m2=sum(area.values()),
                              interface_area_per_nominal_area=sum(area.values()) / facts["nominal_area_m2"])
        return mesh_facts

    return write_gmsh_mesh(mesh_model, UM, msh_path, json_path, facts, provenance)
