"""Geometry facts against closed forms, physical groups, and mesh grading (real gmsh meshes)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lisse.cell.geometry import CellGeometry, MeshSizing, interface_profile, write_geometry

UM = 1e-6
SIZING = MeshSizing(interface_element=5 * UM, growth_rate=1.3, max_element=100 * UM, elements_per_fillet=3)


def grid(width_um, depth_um=300.0, fillet_um=2.0, **kwargs) -> CellGeometry:
    return CellGeometry(width_um * UM, width_um * UM, depth_um * UM, fillet_um * UM, **kwargs)


def closed_form_ratio(w, b, d, r):
    """True interface length per nominal width of a filleted channel grid, per period (w + b):
    straight parts w + b + 2d - 8r plus four quarter arcs 2*pi*r."""
    return 1 + (2 * d - (8 - 2 * math.pi) * r) / (w + b)


@pytest.mark.parametrize("width_um, fillet_um", [(10, 0.5), (50, 2), (200, 2), (400, 2)])
def test_interface_length_per_nominal_width(width_um, fillet_um):
    geometry = grid(width_um, fillet_um=fillet_um)
    profile = interface_profile(geometry)
    w = b = width_um * UM
    expected = closed_form_ratio(w, b, 300 * UM, fillet_um * UM)
    assert profile.length / geometry.half_width == pytest.approx(expected, rel=1e-12)
    # without fillets the study's headline number for the 200 um grid: 1 + 2d/(w+b) = 2.5
    if width_um == 200:
        assert closed_form_ratio(w, b, 300 * UM, 0.0) == pytest.approx(2.5)


def test_segment_lengths_of_unit_cell():
    w, d, r = 200 * UM, 300 * UM, 2 * UM
    lengths = interface_profile(grid(200)).segment_lengths()
    # the mirror unit cell holds half a period: half a floor, one wall, one corner of each kind, half a land
    assert lengths["interface_channel_floor"] == pytest.approx(w / 2 - r)
    assert lengths["interface_land_top"] == pytest.approx(w / 2 - r)
    assert lengths["interface_side_wall"] == pytest.approx(d - 2 * r)
    assert lengths["interface_lower_corner"] == pytest.approx(math.pi * r / 2)
    assert lengths["interface_upper_corner"] == pytest.approx(math.pi * r / 2)


def test_periods_and_pellet_extents_repeat_the_unit_cell():
    unit = interface_profile(grid(200))
    periods = interface_profile(grid(200, lateral_extent="periods", n_periods=3))
    assert periods.length == pytest.approx(6 * unit.length)  # 3 periods = 6 mirror unit cells
    pellet_geometry = grid(400, lateral_extent="pellet", pellet_radius=5000 * UM)
    pellet = interface_profile(pellet_geometry)
    n = len(pellet_geometry.channel_spans())  # half channel at x = 0, then full channels
    assert n == 6  # channels at 0, 800, ..., 4000 um; one at 4800 would leave no half land before the rim
    # each side wall turns a lateral run of 2r into a wall d - 2r plus two quarter arcs
    walls, d, r = 2 * n - 1, 300 * UM, 2 * UM
    assert pellet.length == pytest.approx(5000 * UM + walls * (d - 4 * r + math.pi * r), rel=1e-12)
    assert unit.length == pytest.approx(200 * UM + (d - 4 * r + math.pi * r), rel=1e-12)  # w = 200 um


def test_locate_recovers_arc_length():
    profile = interface_profile(grid(200))
    s_true = np.linspace(0, profile.length, 57)
    points = []
    for s in s_true:  # walk the curve by its own definition
        seg = next(sg for sg in profile.segments if sg.s_start - 1e-15 <= s <= sg.s_start + sg.length + 1e-15)
        t = (s - seg.s_start) / seg.length
        if seg.is_arc:
            a = seg.start_angle + t * (seg.end_angle - seg.start_angle)
            points.append((seg.centre[0] + seg.radius * math.cos(a), seg.centre[1] + seg.radius * math.sin(a)))
        else:
            points.append(tuple(np.asarray(seg.start) + t * (np.asarray(seg.end) - np.asarray(seg.start))))
    s_found, names = profile.locate(np.array(points))
    np.testing.assert_allclose(s_found, s_true, atol=1e-12)
    assert names[0] == "interface_channel_floor" and names[-1] == "interface_land_top"
    with pytest.raises(ValueError, match="off the interface"):
        profile.locate(np.array([[50 * UM, 50 * UM]]))


@pytest.fixture(scope="module")
def grid200_mesh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid200")
    facts = write_geometry(grid(200), SIZING, folder / "mesh.msh", folder / "geometry.json")
    return folder, facts


def test_written_facts_and_statistics(grid200_mesh):
    folder, facts = grid200_mesh
    assert json.loads((folder / "geometry.json").read_text()) == json.loads(json.dumps(facts))
    mesh = facts["mesh"]
    assert mesh["cells"] > 500 and mesh["vertices"] > 250
    assert 0.3 < mesh["worst_quality_min_sicn"] <= 1.0
    # graded toward the interface: interface edges within the requested size (gmsh meets a size
    # field to within a few per cent), fillets finer, the far field much coarser
    assert mesh["max_interface_edge_m"] <= 1.1 * SIZING.interface_element
    assert mesh["min_interface_edge_m"] <= 1.1 * SIZING.fillet_element(2 * UM)
    assert mesh["max_element_size_m"] > 10 * SIZING.interface_element
    assert not list(folder.glob("*.tmp*"))


def test_mesh_groups_and_areas_in_dolfinx(grid200_mesh):
    import dolfinx_solver  # noqa: F401

    import ufl
    from dolfinx import fem
    from mpi4py import MPI

    from lisse.cell.geometry import INTERFACE_SEGMENTS
    from lisse.core.mesh import load_body, load_mesh

    folder, facts = grid200_mesh
    data = load_mesh(folder / "mesh.msh", MPI.COMM_WORLD)
    groups = data.physical_groups
    expected = {"sse", "li", "li_top", "sse_midplane", "sse_left", "sse_right", "li_left", "li_right", *INTERFACE_SEGMENTS}
    assert expected == set(groups)
    dx = ufl.Measure("dx", domain=data.mesh, subdomain_data=data.cell_tags)
    ds = ufl.Measure("ds", domain=data.mesh, subdomain_data=data.facet_tags)
    dS = ufl.Measure("dS", domain=data.mesh, subdomain_data=data.facet_tags)

    def integral(form):
        return data.mesh.comm.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)

    # P1 geometry: the fillet arcs are polygons, which moves a few um^2 of area between the bodies
    assert integral(1 * dx(groups["li"].tag)) == pytest.approx(facts["li_area_m2"], rel=1e-5)
    assert integral(1 * dx(groups["sse"].tag)) == pytest.approx(facts["sse_area_m2"], rel=1e-5)
    for name, length in facts["segment_lengths_m"].items():
        # straight segments exactly; a quarter arc meshed by n >= 3 chords is short by at most
        # 1 - sin(pi/12) / (pi/12) = 1.1 %
        rel = 1.2e-2 if name.endswith("corner") else 1e-12
        assert integral(1 * dS(groups[name].tag)) == pytest.approx(length, rel=rel), name
    assert integral(1 * ds(groups["li_top"].tag)) == pytest.approx(facts["nominal_width_m"], rel=1e-12)
    # every interface facet is shared by one Li and one SSE cell: the bodies conform
    li = load_body(data, "li")
    sse = load_body(data, "sse")
    assert set(li.interface_segments) == set(sse.interface_segments) == set(INTERFACE_SEGMENTS)
    assert "li_top" in li.facet_groups and "li_top" not in sse.facet_groups
    assert "sse_midplane" in sse.facet_groups and "sse_midplane" not in li.facet_groups


def test_planar_cell(tmp_path):
    geometry = CellGeometry(0.0, 0.0, 0.0, 0.0, planar_width=100 * UM)
    facts = write_geometry(geometry, SIZING, tmp_path / "mesh.msh", tmp_path / "geometry.json")
    assert facts["interface_length_per_nominal_width"] == pytest.approx(1.0)
    assert set(facts["segment_lengths_m"]) == {"interface_land_top"}
    assert facts["li_area_m2"] == pytest.approx(100e-6 * 500e-6)
    assert facts["sse_area_m2"] == pytest.approx(100e-6 * 800e-6)
