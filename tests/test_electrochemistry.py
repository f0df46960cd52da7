"""Electrochemistry solver against closed forms, conservation laws and itself (real meshes, real solves)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lisse.cell.electrochemistry import (
    GAMG_SOLVER,
    INTERFACE_COLUMNS,
    ITERATIVE_SOLVER,
    ElectrochemistryConvergenceError,
    ElectrochemistryParameters,
    run_electrochemistry,
    solve_electrochemistry,
)
from lisse.cell.geometry import INTERFACE_SEGMENTS, CellGeometry, MeshSizing, write_geometry
from lisse.cell.interface import InterfaceProfile
from lisse.core.mesh import load_body, load_mesh

ROOT = Path(__file__).resolve().parents[1]
UM = 1e-6
FARADAY, GAS_CONSTANT, BOLTZMANN_EV = 96485.33212, 8.314462618, 8.617333262e-5

# Cheap but honest: on the 200 um grid this mesh already agrees with the refined one to
# ~1e-4 in every segment mean (P2 elements); see test_mesh_convergence_on_200um_grid.
DEFAULT_SIZING = MeshSizing(interface_element=5 * UM, growth_rate=1.3, max_element=100 * UM, elements_per_fillet=3)
REFINED_SIZING = MeshSizing(interface_element=2.5 * UM, growth_rate=1.15, max_element=50 * UM, elements_per_fillet=6)

GRID_200 = CellGeometry(channel_width=200 * UM, land_width=200 * UM, channel_depth=300 * UM, fillet_radius=2 * UM)
PLANAR = CellGeometry(channel_width=0.0, land_width=0.0, channel_depth=0.0, fillet_radius=0.0)


def _write(tmp_path_factory, name: str, geometry: CellGeometry, sizing: MeshSizing) -> dict:
    directory = tmp_path_factory.mktemp(name)
    msh, facts_json = directory / f"{name}.msh", directory / f"{name}.json"
    facts = write_geometry(geometry, sizing, msh, facts_json)
    return {"msh": msh, "json": facts_json, "facts": facts}


@pytest.fixture(scope="module")
def planar_mesh(tmp_path_factory):
    return _write(tmp_path_factory, "planar", PLANAR, MeshSizing(20 * UM, 1.3, 100 * UM, 3))


@pytest.fixture(scope="module")
def grid_mesh(tmp_path_factory):
    return _write(tmp_path_factory, "grid200", GRID_200, DEFAULT_SIZING)


@pytest.fixture(scope="module")
def grid_mesh_refined(tmp_path_factory):
    return _write(tmp_path_factory, "grid200_refined", GRID_200, REFINED_SIZING)


def solve(mesh: dict, petsc_options: dict | None = None, **parameters):
    body = load_body(load_mesh(mesh["msh"]), "sse")
    profile = InterfaceProfile.from_json(mesh["facts"]["interface_profile"])
    return solve_electrochemistry(body, profile, ElectrochemistryParameters(**parameters), petsc_options)


# --------------------------------------------------------------------------------------
# Planar cell: the 1D closed form
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [298.15, 333.15], ids=["25C", "60C"])
def test_planar_cell_matches_closed_form(planar_mesh, temperature):
    i_app, i0, half_thickness = 5.0, 10.0, 800 * UM
    result = solve(planar_mesh, applied_current_density=i_app, temperature=temperature)

    current = result.interface["current_density_A_m2"].to_numpy()
    assert np.max(np.abs(current - i_app)) / i_app < 1e-6

    sigma = 0.079 * math.exp(-0.24 / BOLTZMANN_EV * (1 / temperature - 1 / 298.15))
    RT_F = GAS_CONSTANT * temperature / FARADAY
    expected = 2 * (i_app * half_thickness / sigma + 2 * RT_F * math.asinh(i_app / (2 * i0)))
    assert result.summary["cell_voltage_V"] == pytest.approx(expected, rel=1e-4)
    assert result.summary["conductivity_S_m"] == pytest.approx(sigma, rel=1e-12)

    # the flux field for plots: uniform, straight down from the interface to the mid-plane
    flux = result.current_density().x.array.reshape(-1, 2)
    assert np.allclose(flux, [0.0, -i_app], rtol=0, atol=1e-8 * i_app)


def test_interface_table_layout(grid_mesh):
    table = solve(grid_mesh, applied_current_density=5.0).interface
    assert tuple(table.columns) == INTERFACE_COLUMNS
    assert table["s_m"].is_monotonic_increasing
    assert set(table["segment"]) == set(INTERFACE_SEGMENTS)
    # P2: one row per vertex and per edge midpoint of the open interface chain
    assert len(table) == 2 * grid_mesh["facts"]["mesh"]["interface_edges"] + 1
    assert np.allclose(table["current_density_normalised"], table["current_density_A_m2"] / 5.0)
    assert np.allclose(table["overpotential_V"], -table["electrolyte_potential_V"])


# --------------------------------------------------------------------------------------
# Conservation and the low-current limit on a grid
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("i_app", [2.0, 20.0])
def test_charge_conservation_on_grid(grid_mesh, i_app):
    summary = solve(grid_mesh, applied_current_density=i_app).summary
    # what enters through the (2.5x longer) interface leaves through the mid-plane
    assert summary["interface_current_per_nominal_width_A_m2"] == pytest.approx(i_app, rel=1e-6)
    # energy identity of the weak form: the bulk and interfacial parts add up to the cell resistance
    resistance = summary["cell_voltage_V"] / i_app
    parts = summary["bulk_resistance_ohm_m2"] + summary["interfacial_resistance_ohm_m2"]
    assert parts == pytest.approx(resistance, rel=1e-8)


def test_low_current_interfacial_resistance_scales_with_inverse_interface_length(planar_mesh, grid_mesh):
    """At low current Butler–Volmer is linear, i_n = eta / R_ct.  The interfacial part of the
    (symmetric) cell resistance is the interfacial dissipation per nominal area over i_app²,

        R_int = 2 R_ct <i_n²> L / (W i_app²),   with  <i_n> L = i_app W  (charge conservation),

    so  R_int (L/W) / (2 R_ct) = <i_n²> / <i_n>² = 1 + CV²,  CV the length-weighted coefficient
    of variation of i_n.  A uniform current would give exactly 1 / (L/W) scaling; the grid's
    current is not uniform, so the bound is  1 <= R_int (L/W) / (2 R_ct) <= max(i_n) / <i_n>
    (Cauchy-Schwarz below, <i_n²> <= max(i_n) <i_n> above).  We check the bound, and the
    equality with 1 + CV² measured from the interface table to 1e-3 (the table integrates
    with the trapezoidal rule on the nodes, the solver with Gauss quadrature on the facets).
    """
    i_app = 0.01  # F eta / RT ~ 1e-3: linearisation error ~ 1e-7
    planar = solve(planar_mesh, applied_current_density=i_app).summary
    grid = solve(grid_mesh, applied_current_density=i_app)
    R_ct = ElectrochemistryParameters(i_app).charge_transfer_resistance

    assert planar["interfacial_resistance_ohm_m2"] == pytest.approx(2 * R_ct, rel=1e-6)

    summary, table = grid.summary, grid.interface
    length_ratio = summary["interface_length_per_nominal_width"]
    assert length_ratio == pytest.approx(2.49, abs=0.01)
    scaled = summary["interfacial_resistance_ohm_m2"] * length_ratio / (2 * R_ct)
    peak_to_mean = summary["max_current_density_A_m2"] / summary["mean_current_density_A_m2"]
    assert 1.0 - 1e-6 <= scaled <= peak_to_mean

    current, s = table["current_density_A_m2"].to_numpy(), table["s_m"].to_numpy()
    length = s[-1] - s[0]
    mean, mean_square = np.trapezoid(current, s) / length, np.trapezoid(current**2, s) / length
    assert scaled == pytest.approx(mean_square / mean**2, rel=1e-3)

    # the mean overpotential sees only the mean current, so it scales exactly as W/L
    assert 2 * summary["mean_overpotential_V"] / i_app == pytest.approx(2 * R_ct / length_ratio, rel=1e-6)


# --------------------------------------------------------------------------------------
# Mesh convergence, failure handling, MPI
# --------------------------------------------------------------------------------------


def test_mesh_convergence_on_200um_grid(grid_mesh, grid_mesh_refined):
    default = solve(grid_mesh, applied_current_density=5.0).summary
    refined = solve(grid_mesh_refined, applied_current_density=5.0).summary
    assert refined["cells"] > 2.5 * default["cells"]

    floor = "interface_channel_floor"
    change = abs(default["segment_mean_current_density_A_m2"][floor] / refined["segment_mean_current_density_A_m2"][floor] - 1)
    assert change < 0.01
    for name in INTERFACE_SEGMENTS:
        assert default["segment_mean_current_density_A_m2"][name] == pytest.approx(
            refined["segment_mean_current_density_A_m2"][name], rel=0.01)
    assert default["cell_voltage_V"] == pytest.approx(refined["cell_voltage_V"], rel=1e-3)
    assert default["max_current_density_A_m2"] == pytest.approx(refined["max_current_density_A_m2"], rel=0.01)


SOLUTION_KEYS = ["cell_voltage_V", "mean_current_density_A_m2", "max_current_density_A_m2",
                 "interface_current_per_nominal_width_A_m2", "bulk_resistance_ohm_m2", "interfacial_resistance_ohm_m2",
                 "mean_overpotential_V", "interface_length_m"]


@pytest.mark.parametrize("preset", [ITERATIVE_SOLVER, GAMG_SOLVER], ids=["p-multigrid", "gamg"])
@pytest.mark.parametrize("i_app", [5.0, 50.0])
def test_iterative_solvers_match_lu(grid_mesh, preset, i_app):
    """The CG presets of large meshes (forced here on a small one: shared preconditioner, loose
    initial guess, Newton steps to 0.1 snes_atol) give the LU answer in as many Newton steps."""
    direct = solve(grid_mesh, applied_current_density=i_app).summary
    iterative = solve(grid_mesh, preset, applied_current_density=i_app).summary
    assert (direct["pc_type"], iterative["pc_type"]) == ("lu", preset["pc_type"])
    assert iterative["newton_iterations"] == direct["newton_iterations"]
    for key in SOLUTION_KEYS:
        assert iterative[key] == pytest.approx(direct[key], rel=1e-8), key


def test_failed_solve_writes_nothing(grid_mesh, tmp_path):
    outputs = {"interface_csv": tmp_path / "i.csv", "summary_json": tmp_path / "s.json", "fields_dir": tmp_path / "f.bp",
               "vtu_path": tmp_path / "f.vtu"}
    with pytest.raises(ElectrochemistryConvergenceError, match="DIVERGED_MAX_IT"):
        run_electrochemistry(grid_mesh["msh"], grid_mesh["json"], ElectrochemistryParameters(50.0),
                             {"snes_max_it": 1}, **outputs)
    assert list(tmp_path.iterdir()) == []


def _run_script(n_ranks: int, mesh: dict, directory: Path, petsc_options: dict | None = None) -> tuple[dict, pd.DataFrame]:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    parameters = {"applied_current_density": 5.0, "temperature": 298.15, "petsc_options": petsc_options or {}}
    command = [str(mpiexec), "-n", str(n_ranks), sys.executable, str(ROOT / "scripts" / "electrochemistry.py"),
               "--mesh", str(mesh["msh"]), "--geometry", str(mesh["json"]), "--parameters", json.dumps(parameters),
               "--interface", str(directory / "interface.csv"), "--summary", str(directory / "summary.json"),
               "--fields", str(directory / "fields.bp"), "--vtu", str(directory / "fields.vtu"),
               "--log", str(directory / "log.txt")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert (directory / "fields.bp" / "md.0").exists()
    assert (directory / "fields.vtu").exists()
    assert "Newton" in (directory / "log.txt").read_text()
    return json.loads((directory / "summary.json").read_text()), pd.read_csv(directory / "interface.csv")


@pytest.mark.mpi
@pytest.mark.parametrize("parallel_options", [None, ITERATIVE_SOLVER], ids=["lu", "p-multigrid"])
def test_two_ranks_match_one(grid_mesh, tmp_path, parallel_options):
    serial, serial_table = _run_script(1, grid_mesh, tmp_path / "serial")
    parallel, parallel_table = _run_script(2, grid_mesh, tmp_path / "parallel", parallel_options)
    assert (serial["n_ranks"], parallel["n_ranks"]) == (1, 2)
    assert parallel["dofs"] == serial["dofs"]
    for key in SOLUTION_KEYS:
        assert parallel[key] == pytest.approx(serial[key], rel=1e-8), key
    for name, value in serial["segment_mean_current_density_A_m2"].items():
        assert parallel["segment_mean_current_density_A_m2"][name] == pytest.approx(value, rel=1e-8), name
    assert len(parallel_table) == len(serial_table)
    assert np.allclose(parallel_table["current_density_A_m2"], serial_table["current_density_A_m2"], rtol=1e-8, atol=0)
