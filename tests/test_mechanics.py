"""Tests of the Li creep mechanics: closed forms, contact, mesh convergence, MPI.

Real gmsh meshes and real DOLFINx solves on small meshes; each mesh is built once
per module.  Constitutive closed forms drive :func:`lisse.core.creep.norton_creep_update`
directly (uniaxial stress needs mixed strain/stress control, which a plane-strain
FE model cannot give); the planar-cell tests run the same law through the FE solver.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)

import gmsh
import numpy as np
import pandas as pd
import pytest
from mpi4py import MPI

from lisse.cell.geometry import CellGeometry, MeshSizing, write_geometry
from lisse.cell.interface import InterfaceProfile, Segment
from lisse.cell.mechanics import (
    INTERFACE_COLUMNS,
    MechanicsConvergenceError,
    MechanicsParameters,
    planar_von_mises,
    run_mechanics,
    solve_mechanics,
)
from lisse.core.creep import NortonMaterial, equivalent_stress, norton_creep_update
from lisse.core.mesh import averaged_boundary_normal, load_body, load_mesh

REPO = Path(__file__).resolve().parents[1]
P = 1.0e6  # stack pressure, Pa
LI = NortonMaterial(youngs_modulus=7.8e9, poisson_ratio=0.38, creep_rate=1.4e-2, creep_exponent=6.6,
                    creep_stress_ref=0.95e6)


def _geometry(tmp_path_factory, name, geometry, sizing):
    folder = tmp_path_factory.mktemp(name)
    msh, facts = folder / "mesh.msh", folder / "geometry.json"
    write_geometry(geometry, sizing, msh, facts)
    profile = InterfaceProfile.from_json(json.loads(facts.read_text())["interface_profile"])
    return msh, facts, profile


def _solve(msh, profile, **parameters):
    body = load_body(load_mesh(msh, MPI.COMM_WORLD), "li")
    return solve_mechanics(body, profile, MechanicsParameters(**{"method": "transient", **parameters}))


@pytest.fixture(scope="module")
def planar(tmp_path_factory):
    return _geometry(tmp_path_factory, "planar", CellGeometry(0.0, 0.0, 0.0, 0.0),
                     MeshSizing(interface_element=10e-6, growth_rate=1.3, max_element=50e-6))


# The 200 um grid of the study: w = b = 200 um, d = 300 um, fillet 2 um
GRID = CellGeometry(channel_width=200e-6, land_width=200e-6, channel_depth=300e-6, fillet_radius=2e-6)
DEFAULT_SIZING = MeshSizing(interface_element=5e-6, growth_rate=1.3, max_element=100e-6, elements_per_fillet=3)
REFINED_SIZING = MeshSizing(interface_element=2.5e-6, growth_rate=1.3, max_element=100e-6, elements_per_fillet=6)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return _geometry(tmp_path_factory, "grid200", GRID, DEFAULT_SIZING)


@pytest.fixture(scope="module")
def grid_refined(tmp_path_factory):
    return _geometry(tmp_path_factory, "grid200_refined", GRID, REFINED_SIZING)


# --------------------------------------------------------------------------------------
# Planar cell: uniaxial compression in plane strain, closed forms
# --------------------------------------------------------------------------------------


def test_planar_elastic_matches_uniaxial_plane_strain(planar):
    msh, _, profile = planar
    result = _solve(msh, profile, stack_pressure=P, creep=False)
    params = result.parameters
    final = result.interface[result.interface["time_s"] == params.t_eval]
    expected = P * math.sqrt(1 - params.poisson_ratio + params.poisson_ratio**2)
    assert expected == pytest.approx(planar_von_mises(params, relaxed=False))
    assert np.allclose(final["von_mises_Pa"], expected, rtol=1e-6, atol=0)
    assert result.summary["body_max_von_mises_Pa"] == pytest.approx(expected, rel=1e-6)
    assert np.allclose(final["normal_traction_Pa"], -P, rtol=1e-6, atol=0)
    assert np.abs(final["tangential_traction_Pa"]).max() < 1e-6 * P
    # contact holds: u.n = g = -delta to round-off
    assert result.summary["max_normal_gap_m"] < 1e-9 * params.recession
    assert list(result.interface.columns) == list(INTERFACE_COLUMNS)


def test_planar_creep_relaxes_to_sqrt3_over_2_and_flows_at_the_norton_rate(planar):
    msh, _, profile = planar
    result = _solve(msh, profile, stack_pressure=P, output_times=(100.0,))
    params = result.parameters
    table = result.interface
    final = table[table["time_s"] == params.t_eval]
    relaxed = math.sqrt(3.0) / 2.0 * P  # sigma_zz has relaxed to -P/2
    assert np.allclose(final["von_mises_Pa"], relaxed, rtol=1e-6, atol=0)
    assert np.allclose(final["hydrostatic_pressure_Pa"], P / 2, rtol=1e-6, atol=0)
    assert result.summary["max_normal_gap_m"] < 1e-6 * params.recession

    # Steady plane-strain Norton flow: s_xx = P/2, so eps_xx grows at (sqrt(3)/2) eps_dot_0 (sigma_e/sigma_ref)^n.
    # The Li slides along the interface with u_x = x eps_xx (uniform lateral spreading).
    def lateral_strain(t):
        rows = table[table["time_s"] == t]
        return float(np.mean(rows["tangential_displacement_m"] / rows["x_m"]))

    rate = (lateral_strain(params.t_eval) - lateral_strain(100.0)) / (params.t_eval - 100.0)
    expected_rate = math.sqrt(3.0) / 2.0 * LI.steady_creep_rate(relaxed)
    assert rate == pytest.approx(expected_rate, rel=1e-6)


# --------------------------------------------------------------------------------------
# The constitutive update against uniaxial closed forms
# --------------------------------------------------------------------------------------


def _uniaxial_step(axial, creep_strain, dt, axial_stress=None):
    """Backward-Euler step under uniaxial stress: sigma_yy = sigma_zz = 0 (and sigma_xx given, if it is).

    Mixed control solved by Newton on the consistent tangent; returns (strain, update).
    """
    free = [0, 1, 2] if axial_stress is not None else [1, 2]
    target = np.zeros(4)
    if axial_stress is not None:
        target[0] = axial_stress
    strain = np.array([axial[0], axial[1], axial[2], 0.0])
    for _ in range(50):
        update = norton_creep_update(strain[None], creep_strain[None], dt, LI)
        residual = (update.stress[0] - target)[free]
        if np.abs(residual).max() < 1e-9 * LI.creep_stress_ref:
            return strain, update
        strain[free] -= np.linalg.solve(update.tangent[0][np.ix_(free, free)], residual)
    raise AssertionError("mixed-control Newton did not converge")


def test_steady_creep_rate_under_constant_uniaxial_stress():
    sigma, dt = 1.5e6, 1e-3
    strain, creep_strain = np.zeros(3), np.zeros(4)
    history = []
    for _ in range(5):
        full, update = _uniaxial_step(strain, creep_strain, dt, axial_stress=sigma)
        strain, creep_strain = full[:3], update.creep_strain[0]
        history.append(full.copy())
    rates = np.diff(np.array(history), axis=0) / dt
    expected = LI.creep_rate * (sigma / LI.creep_stress_ref) ** LI.creep_exponent
    assert np.allclose(rates[:, 0], expected, rtol=1e-9)
    assert np.allclose(rates[:, 1:3], -0.5 * expected, rtol=1e-9)  # isochoric J2 flow
    assert equivalent_stress(update.stress)[0] == pytest.approx(sigma, rel=1e-9)


def _relaxation(sigma0, t_end, n_steps):
    """Uniaxial stress relaxation at fixed axial strain, uniform backward-Euler steps."""
    axial = sigma0 / LI.youngs_modulus
    nu = LI.poisson_ratio
    strain, creep_strain = np.array([axial, -nu * axial, -nu * axial]), np.zeros(4)
    dt = t_end / n_steps
    for _ in range(n_steps):
        full, update = _uniaxial_step(strain, creep_strain, dt)
        strain, creep_strain = full[:3], update.creep_strain[0]
    return update.stress[0, 0]


def test_stress_relaxation_matches_the_closed_form_and_converges_at_first_order():
    # d(sigma)/dt = -E eps_dot_0 (sigma / sigma_ref)^n  =>
    # sigma(t) = [sigma0^(1-n) + (n-1) E eps_dot_0 t / sigma_ref^n]^(-1/(n-1))
    n, E, rate, ref = LI.creep_exponent, LI.youngs_modulus, LI.creep_rate, LI.creep_stress_ref
    sigma0 = 2e6
    t_end = (0.5**(1 - n) - 1) * sigma0**(1 - n) * ref**n / ((n - 1) * E * rate)  # relaxes to sigma0 / 2

    def exact(t):
        return (sigma0**(1 - n) + (n - 1) * E * rate * t / ref**n) ** (-1 / (n - 1))

    assert exact(t_end) == pytest.approx(sigma0 / 2)
    errors = [abs(_relaxation(sigma0, t_end, steps) / exact(t_end) - 1) for steps in (100, 200, 400)]
    assert errors[-1] < 0.01
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.1), orders


def test_return_mapping_tangent_is_consistent():
    rng = np.random.default_rng(7)
    strain = rng.normal(scale=1e-3, size=(6, 4))
    strain[:, 2] = 0.0
    creep = rng.normal(scale=1e-4, size=(6, 4))
    creep[:, :3] -= creep[:, :3].mean(axis=1, keepdims=True)  # deviatoric
    for dt in (1e-5, 1.0, 1e4):  # nearly elastic ... fully relaxed
        update = norton_creep_update(strain, creep, dt, LI)
        h = 1e-9
        for j in range(4):
            step = np.zeros(4)
            step[j] = h
            plus = norton_creep_update(strain + step, creep, dt, LI).stress
            minus = norton_creep_update(strain - step, creep, dt, LI).stress
            assert np.allclose((plus - minus) / (2 * h), update.tangent[:, :, j], rtol=1e-5,
                               atol=1e-6 * np.abs(update.tangent).max())


# --------------------------------------------------------------------------------------
# Frictionless contact on an inclined plane
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wedge(tmp_path_factory):
    """Li block on a rigid plane rising at 20 degrees, against a vertical mirror wall at x = 0.

    Corners (um): (0, 0), (100, 100 tan a), (100, 100), (0, 100).  Built in micrometres
    (gmsh's tolerances assume O(1) coordinates) and written in metres.
    """
    angle = math.radians(20.0)
    width, height, h = 100.0, 100.0, 4.0
    path = tmp_path_factory.mktemp("wedge") / "wedge.msh"
    if MPI.COMM_WORLD.rank == 0:
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("wedge")
        occ = gmsh.model.occ
        corners = [(0.0, 0.0), (width, width * math.tan(angle)), (width, height), (0.0, height)]
        points = [occ.addPoint(x, y, 0.0, h) for x, y in corners]
        lines = [occ.addLine(points[k], points[(k + 1) % 4]) for k in range(4)]
        surface = occ.addPlaneSurface([occ.addCurveLoop(lines)])
        occ.synchronize()
        gmsh.model.addPhysicalGroup(2, [surface], 2, name="li")
        for tag, (line, name) in enumerate(zip(lines, ["interface_land_top", "li_right", "li_top", "li_left"])):
            gmsh.model.addPhysicalGroup(1, [line], 15 + tag, name=name)
        gmsh.model.mesh.generate(2)
        gmsh.option.setNumber("Mesh.ScalingFactor", 1e-6)
        gmsh.write(str(path))
        gmsh.finalize()
    MPI.COMM_WORLD.barrier()
    end = (width * 1e-6, width * math.tan(angle) * 1e-6)
    profile = InterfaceProfile((Segment("interface_land_top", (0.0, 0.0), end, 0.0, math.hypot(*end)),))
    return path, profile, angle


def test_frictionless_contact_lets_the_block_slide_down_the_incline(wedge):
    path, profile, angle = wedge
    result = _solve(path, profile, stack_pressure=P, creep=False, lateral_condition="free")
    delta = result.parameters.recession
    final = result.interface[result.interface["time_s"] == result.parameters.t_eval]
    # the normal constraint holds ...
    assert result.summary["max_normal_gap_m"] < 1e-3 * delta
    # ... and nothing else: the tangential traction vanishes (up to the DG1 stress trace's
    # discretisation error, largest at the two corners), while the normal traction carries the load
    inner = final[(final["s_m"] > 0.1 * profile.length) & (final["s_m"] < 0.9 * profile.length)]
    assert np.abs(inner["tangential_traction_Pa"]).max() < 0.02 * np.abs(inner["normal_traction_Pa"]).mean()
    assert np.abs(final["tangential_traction_Pa"]).mean() < 0.01 * P
    # The recession pulls the block onto the incline, and the mirror wall keeps it at x = 0:
    # it can only slide down the plane by delta tan(a) (a stuck interface would give 0).
    slide = final["tangential_displacement_m"].to_numpy()
    assert np.all(slide < 0)
    assert np.mean(slide) == pytest.approx(-delta * math.tan(angle), rel=0.02)


# --------------------------------------------------------------------------------------
# The 200 um grid: mesh convergence, lateral conditions, outputs
# --------------------------------------------------------------------------------------


def test_channel_floor_stress_converges_with_the_mesh(grid, grid_refined):
    # Identical time-step sequences (dt grows after every step) so that only the mesh differs.
    # The channel floor is bounded (fillet radius 2 um, resolved by 3 and 6 elements): no
    # corner singularity, so its mean converges; pointwise maxima at the fillets still move.
    stepping = dict(stack_pressure=P, fast_newton_iterations=1000, output_times=())
    default = _solve(grid[0], grid[2], **stepping).summary
    refined = _solve(grid_refined[0], grid_refined[2], **stepping).summary
    assert default["time_step_sizes_s"] == refined["time_step_sizes_s"]
    floor = "interface_channel_floor"
    change = refined["segment_mean_von_mises_Pa"][floor] / default["segment_mean_von_mises_Pa"][floor] - 1
    assert abs(change) < 0.02, change
    land = "interface_land_top"
    assert refined["segment_mean_von_mises_Pa"][land] == pytest.approx(default["segment_mean_von_mises_Pa"][land], rel=0.02)
    for summary in (default, refined):
        assert summary["max_normal_gap_m"] < 1e-3 * 1e-6
        assert summary["time_steps"] < 100


def test_averaged_interface_normal_is_the_exact_normal_to_within_a_fraction_of_a_facet_angle(grid):
    # At a vertex of a meshed fillet the two facet normals straddle the exact normal by half the
    # facet angle each; their length-weighted mean is much closer (exact where the chords are
    # equal), and on straight segments it is the exact normal.
    msh, _, profile = grid
    body = load_body(load_mesh(msh, MPI.COMM_WORLD), "li")
    normal = averaged_boundary_normal(body, body.interface_segments)
    coordinates = normal.function_space.tabulate_dof_coordinates()[:, :2]
    owned = normal.function_space.dofmap.index_map.size_local
    values = normal.x.array.reshape(-1, 2)[:owned]
    lengths = np.linalg.norm(values, axis=1)
    on_interface = lengths > 0
    assert np.allclose(lengths[on_interface], 1.0, atol=1e-12)
    points = coordinates[:owned][on_interface]
    _, names = profile.locate(points, tolerance=1e-9)
    exact = np.zeros_like(points)
    for segment in profile.segments:
        here = names == segment.name
        if segment.is_arc:
            radial = points - np.asarray(segment.centre)
            exact[here] = (radial / np.linalg.norm(radial, axis=1)[:, None])[here]
        else:
            tangent = (np.asarray(segment.end) - np.asarray(segment.start)) / segment.length
            exact[here] = [tangent[1], -tangent[0]]
    error = np.arccos(np.clip(np.abs(np.einsum("pi,pi->p", values[on_interface], exact)), 0.0, 1.0))
    facet_angle = 0.5 * math.pi / DEFAULT_SIZING.elements_per_fillet
    assert error.max() < 0.3 * facet_angle, (error.max(), facet_angle)
    floor_end = profile.segments[0].end[0]  # the floor's junction vertex with the fillet is a fillet vertex
    floor = (names == "interface_channel_floor") & (points[:, 0] < floor_end - 1e-9)
    assert np.allclose(values[on_interface][floor], [0.0, -1.0], atol=1e-12)  # out of the Li, into the SSE


def test_averaged_normal_lets_the_li_slide_past_the_fillets(tmp_path_factory):
    # The Li above the land flows laterally past the land edge (0.24 mm in an hour).  A constraint
    # on the straight facets' normals pins every fillet vertex (u.n = 0 for two normals), so the
    # upper-corner mean moves with the number of elements per fillet: 1.04 MPa with one element,
    # 1.14 with twelve (9 %).  With the averaged normal every vertex has a tangent plane, and one
    # element per fillet already gives the corner to 2 % (1.242 against 1.224 MPa).
    meshes = {n: _geometry(tmp_path_factory, f"grid200_{n}_per_fillet", GRID,
                           MeshSizing(interface_element=5e-6, elements_per_fillet=n)) for n in (1, 12)}
    stepping = dict(stack_pressure=P, creep_rate_ref=7.44e-4, output_times=(), fast_newton_iterations=1000,
                    interface_normal="averaged")
    coarse, fine = (_solve(meshes[n][0], meshes[n][2], **stepping).summary for n in (1, 12))
    assert coarse["time_step_sizes_s"] == fine["time_step_sizes_s"]
    for segment, tolerance in (("interface_upper_corner", 0.02), ("interface_land_top", 0.005),
                               ("interface_side_wall", 0.01)):
        assert fine["segment_mean_von_mises_Pa"][segment] == pytest.approx(
            coarse["segment_mean_von_mises_Pa"][segment], rel=tolerance), segment
    assert max(coarse["max_normal_gap_m"], fine["max_normal_gap_m"]) < 1e-3 * 1e-6


def test_incomplete_nitsche_stays_stable_where_creep_softens_the_li(grid):
    # The symmetric and skew variants test the constraint with the elastic traction of v,
    # which the creep-softened bulk tangent no longer controls: at a small penalty their
    # Jacobian turns indefinite where the Li creeps fast and Newton stalls within 0.01 s.
    # theta = 0 has only the consistency term, built on the same tangent as the bulk.
    msh, _, profile = grid
    short = dict(stack_pressure=P, t_eval=10.0, output_times=(), nitsche_penalty=3.0)
    summary = _solve(msh, profile, nitsche_variant="incomplete", **short).summary
    assert summary["time_step_cutbacks"] == 0
    assert summary["max_normal_gap_m"] < 1e-3 * 1e-6  # gamma = 3 still holds u.n = g to 1e-9 m
    with pytest.raises(MechanicsConvergenceError, match="no decrease"):
        _solve(msh, profile, nitsche_variant="symmetric", **short)


def test_run_mechanics_writes_outputs_and_nothing_on_failure(grid, tmp_path):
    msh, facts, _ = grid
    params = MechanicsParameters(method="transient", stack_pressure=P, t_eval=10.0, output_times=(1.0,))
    out = tmp_path / "run"
    result = run_mechanics(msh, facts, params, None, out / "interface.csv", out / "summary.json", out / "fields.bp")
    table = pd.read_csv(out / "interface.csv")
    assert list(table.columns) == list(INTERFACE_COLUMNS)
    assert sorted(table["time_s"].unique()) == [1.0, 10.0]
    assert set(table["segment"]) == set(result.summary["segment_mean_von_mises_Pa"])
    for _, rows in table.groupby("time_s"):
        assert np.all(np.diff(rows["s_m"].to_numpy()) > 0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_ranks"] == 1 and summary["dofs"] > 0 and summary["time_steps"] > 0
    assert (out / "fields.bp").is_dir()
    # the stress concentrates at the pattern: the upper corner (convex SSE edge) carries the peak
    assert summary["max_von_mises_at"]["segment"] in ("interface_upper_corner", "interface_land_top")
    assert summary["max_von_mises_Pa"] > planar_von_mises(params, relaxed=True)

    failing = MechanicsParameters(method="transient", stack_pressure=P, max_newton_iterations=0, max_time_step_cutbacks=0)
    bad = tmp_path / "failed"
    with pytest.raises(MechanicsConvergenceError):
        run_mechanics(msh, facts, failing, None, bad / "interface.csv", bad / "summary.json", bad / "fields.bp")
    assert not bad.exists() or not any(bad.iterdir())


def test_parameters_reject_unknown_keys_and_conditions():
    with pytest.raises(KeyError):
        MechanicsParameters.from_dict({"stack_pressure": 1e6, "stack_presure": 1e6})
    with pytest.raises(ValueError):
        MechanicsParameters(lateral_condition="clamped")  # confines the Li: wrong, not offered
    assert MechanicsParameters.from_dict({"output_times": [10, 1]}).output_times == (10.0, 1.0)


# --------------------------------------------------------------------------------------
# MPI: 1 and 2 ranks agree
# --------------------------------------------------------------------------------------


@pytest.mark.mpi
def test_one_and_two_ranks_agree(grid, tmp_path):
    msh, facts, _ = grid
    mpiexec = Path(sys.executable).parent / "mpiexec"
    parameters = json.dumps({"method": "transient", "stack_pressure": P, "t_eval": 10.0, "output_times": [1.0],
                             "petsc_options": {}})
    outputs = {}
    for ranks in (1, 2):
        out = tmp_path / f"n{ranks}"
        command = [str(mpiexec), "-n", str(ranks), sys.executable, str(REPO / "scripts" / "mechanics.py"),
                   "--mesh", str(msh), "--geometry", str(facts), "--parameters", parameters,
                   "--interface", str(out / "interface.csv"), "--summary", str(out / "summary.json"),
                   "--fields", str(out / "fields.bp")]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert completed.returncode == 0, completed.stderr[-3000:]
        outputs[ranks] = (pd.read_csv(out / "interface.csv"), json.loads((out / "summary.json").read_text()))
    (table1, summary1), (table2, summary2) = outputs[1], outputs[2]
    assert summary1["n_ranks"] == 1 and summary2["n_ranks"] == 2
    assert summary1["dofs"] == summary2["dofs"]
    assert len(table1) == len(table2)
    assert np.allclose(table1["s_m"], table2["s_m"], rtol=0, atol=1e-12)
    for column in ("von_mises_Pa", "hydrostatic_pressure_Pa", "normal_traction_Pa"):
        assert np.allclose(table1[column], table2[column], rtol=1e-6, atol=1e-6 * P), column
    for name, value in summary1["segment_mean_von_mises_Pa"].items():
        assert summary2["segment_mean_von_mises_Pa"][name] == pytest.approx(value, rel=1e-6)


# --------------------------------------------------------------------------------------
# MUMPS out of workspace: the margin grows and the same solve succeeds
# --------------------------------------------------------------------------------------


def _saddle_point_matrix(n: int = 2000, m: int = 1000):
    """[[A, B^T], [B, 0]] with a near-zero diagonal in A: its pivots must be delayed, so MUMPS
    needs more workspace than its analysis estimates (as the relaxed Li's Jacobian does)."""
    from petsc4py import PETSc

    rng = np.random.default_rng(0)
    rows: dict[int, dict[int, float]] = {}

    def add(i, j, value):
        rows.setdefault(i, {})[j] = rows.get(i, {}).get(j, 0.0) + value

    for i in range(n):
        add(i, i, 1e-12)
        for j in rng.integers(0, n, 3):
            value = rng.standard_normal()
            add(i, j, value), add(j, i, value)
    for k in range(m):
        for j in rng.integers(0, n, 3):
            value = rng.standard_normal()
            add(n + k, j, value), add(j, n + k, value)
    matrix = PETSc.Mat().createAIJ([n + m, n + m], nnz=max(len(r) for r in rows.values()), comm=MPI.COMM_SELF)
    for i, row in rows.items():
        matrix.setValues(i, list(row), list(row.values()))
    matrix.assemble()
    return matrix


def test_mumps_out_of_workspace_grows_the_margin_and_solves():
    from petsc4py import PETSc

    from lisse.core.solvers import (
        DIRECT_SOLVER,
        grow_mumps_workspace,
        linear_solve_failure,
        linear_solver,
        solve_linear_system,
    )

    matrix = _saddle_point_matrix()
    ksp = linear_solver(MPI.COMM_SELF, "test_mumps_", DIRECT_SOLVER)
    ksp.setOperators(matrix)
    pc = ksp.getPC()
    pc.setFactorSetUpSolverType()
    factor = pc.getFactorMatrix()
    factor.setMumpsIcntl(14, 0)  # no margin
    factor.setMumpsIcntl(6, 0), factor.setMumpsIcntl(8, 0)  # no pivot-friendly permutation or scaling
    rhs, solution = matrix.createVecs()
    rhs.set(1.0)
    ksp.solve(rhs, solution)
    assert factor.getMumpsInfog(1) == -9
    assert "PC FACTOR_OUTMEMORY, MUMPS INFOG(1) = -9" in linear_solve_failure(ksp)
    ksp.solve(rhs, solution)  # a MUMPS instance that failed once does not factorise again
    assert ksp.getConvergedReason() == PETSc.KSP.ConvergedReason.DIVERGED_PCSETUP_FAILED

    solve_linear_system(ksp, rhs, solution)  # new analyses with margins 40, 80, 160 %
    assert ksp.getConvergedReason() > 0 and pc.getFactorMatrix().getMumpsIcntl(14) >= 40
    residual = rhs.duplicate()
    matrix.mult(solution, residual)
    residual.axpy(-1.0, rhs)
    assert residual.norm() <= 1e-8 * rhs.norm()
    assert not grow_mumps_workspace(ksp)  # nothing to grow after a success

    iterative = linear_solver(MPI.COMM_SELF, "test_cg_", {"ksp_type": "cg", "ksp_max_it": 1, "pc_type": "none"})
    iterative.setOperators(matrix)
    iterative.solve(rhs, solution)
    assert iterative.getConvergedReason() == PETSc.KSP.ConvergedReason.DIVERGED_MAX_IT
    assert not grow_mumps_workspace(iterative)


def test_solver_options_reach_mumps_and_the_multigrid_levels():
    """Options read only when the preconditioner is built (MUMPS ICNTL, multigrid smoothers)
    take effect, and none is left in PETSc's database afterwards."""
    from petsc4py import PETSc

    from lisse.core.solvers import linear_solver, solve_linear_system

    matrix = PETSc.Mat().createAIJ([200, 200], nnz=3, comm=MPI.COMM_SELF)  # 1D Laplacian
    for i in range(200):
        matrix.setValues(i, [j for j in (i - 1, i, i + 1) if 0 <= j < 200],
                         [v for j, v in ((i - 1, -1.0), (i, 2.0), (i + 1, -1.0)) if 0 <= j < 200])
    matrix.assemble()
    rhs, solution = matrix.createVecs()
    rhs.set(1.0)
    direct = linear_solver(MPI.COMM_SELF, "test_direct_", {"ksp_type": "preonly", "pc_type": "lu",
                                                            "pc_factor_mat_solver_type": "mumps",
                                                            "mat_mumps_icntl_14": 77})
    multigrid = linear_solver(MPI.COMM_SELF, "test_multigrid_", {"ksp_type": "gmres", "pc_type": "gamg",
                                                                  "mg_levels_ksp_type": "richardson",
                                                                  "mg_levels_pc_type": "sor"})
    for ksp in (direct, multigrid):
        ksp.setOperators(matrix)
        solve_linear_system(ksp, rhs, solution)
        assert ksp.getConvergedReason() > 0
    assert direct.getPC().getFactorMatrix().getMumpsIcntl(14) == 77
    smoother = multigrid.getPC().getMGSmoother(1)
    assert (smoother.getType(), smoother.getPC().getType()) == ("richardson", "sor")
    assert not [key for key in PETSc.Options().getAll() if key.startswith("test_")]
