"""Study A's sweep (lisse.workflow.sweep.CellSweep) on the shipped configs: ids, paths, units,
float matching and the per-geometry rule inputs.  Planning only: no meshes, no solves."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from lisse.plating.sweep import PlatingSweep
from lisse.workflow.config import load_study
from lisse.workflow.sweep import (
    RELATIVE_TOLERANCE,
    CellSweep,
    a_m2,
    input_name,
    ma_cm2,
    megapascal,
    pascal,
    same_value,
    to_si,
)

ROOT = Path(__file__).resolve().parents[1]


def read_config(name: str) -> dict:
    config = yaml.safe_load((ROOT / "config" / name).read_text())
    config["experiments"]["file"] = str(ROOT / "config" / config["experiments"]["file"])  # independent of the cwd
    return config


@pytest.fixture(scope="module")
def quick() -> CellSweep:
    return CellSweep(load_study(read_config("config.yaml")))


@pytest.fixture(scope="module")
def quick_transient() -> CellSweep:
    config = read_config("config.yaml")
    config["mechanics"]["method"] = "transient"
    return CellSweep(load_study(config))


@pytest.fixture(scope="module")
def paper() -> CellSweep:
    return CellSweep(load_study(read_config("paper.yaml")))


def test_unit_conversions():
    assert a_m2(0.5) == 5.0 and ma_cm2(5.0) == 0.5  # 1 mA/cm² = 10 A/m²
    assert pascal(0.25) == 2.5e5 and megapascal(4e6) == 4.0
    assert to_si("electrochemistry", 2.0) == 20.0 and to_si("mechanics", 2.0) == 2e6


def test_float_matching_tolerance():
    assert same_value(0.1 * 3, 0.3)  # round-off of a unit conversion
    assert same_value(2e6, 2e6 * (1 + RELATIVE_TOLERANCE / 2))
    assert not same_value(2e6, 2e6 * (1 + 10 * RELATIVE_TOLERANCE))
    assert same_value(0.0, 0.0) and not same_value(0.0, 1e-300)


def test_geometry_ids_and_labels(quick):
    assert quick.label(quick.planar_id) == "planar"
    assert quick.label(quick.geometry_id(200)) == "grid200"
    assert quick.geometry_id(200 * (1 + 1e-12)) == quick.geometry_id(200.0)
    with pytest.raises(KeyError, match="channel width 250"):
        quick.geometry_id(250)
    assert quick.geometry_labels() == {"planar": 0.0, "grid50": 50, "grid100": 100, "grid200": 200, "grid400": 400}
    assert len(quick.geometry_outputs()) == 3 * 10  # mesh, facts, preview of 5 3D cells and 5 2D cross-sections


def test_runs_are_in_sweep_order_and_si(quick, quick_transient):
    currents = sorted(quick.config["electrochemistry"]["current_densities_mA_cm2"])
    assert quick.sweep_values("electrochemistry") == [a_m2(i) for i in currents]
    assert [run.split("_")[0] for run in quick.runs("electrochemistry")] == [f"i~{i:g}" for i in currents]
    pressures = quick.config["mechanics"]["stack_pressures_MPa"]
    assert quick_transient.sweep_values("mechanics") == [pascal(p) for p in pressures]
    assert quick.sweep_values("mechanics") == [1e6]  # steady: one solve at 1 MPa serves every pressure


def test_run_at_matches_configured_values_once(quick, quick_transient):
    run = quick.run_at("electrochemistry", 0.3)
    assert run.startswith("i~0.3_T~25_")
    assert quick.run_at("electrochemistry", 0.1 * 3) == run  # 0.30000000000000004 mA/cm²
    assert quick_transient.run_at("mechanics", 1.0).startswith("P~1_T~25_")
    steady = quick.run_at("mechanics", 1.0)
    assert steady.startswith("steady_") and quick.run_at("mechanics", 3.7) == steady
    assert quick.runs("mechanics", 40) == quick.runs("mechanics")  # and every temperature
    assert quick.mechanics_stress_scale() == 1.0 and quick_transient.mechanics_stress_scale() == 1.0
    assert quick.figure_run("electrochemistry") == quick.run_at("electrochemistry", 0.5)
    with pytest.raises(KeyError, match="no electrochemistry run at 0.4"):
        quick.run_at("electrochemistry", 0.4)


def test_paths(quick, quick_transient):
    planar, run = quick.planar_id, quick.run_at("mechanics", 2.0)
    assert quick.run_file("mechanics", planar, run, "interface.csv") == \
        f"results/quick/mechanics/{planar}/{run}/interface.csv"
    files = quick.run_files("electrochemistry", planar, "interface.csv")
    runs = quick.runs("electrochemistry")
    assert files == [quick.run_file("electrochemistry", planar, r, "interface.csv") for r in runs]
    outputs = quick_transient.solver_outputs("mechanics", "summary.json")
    assert len(outputs) == 5 * 5 and list(quick_transient.solver_labels("mechanics")) == outputs
    assert quick_transient.solver_labels("mechanics")[outputs[0]] == {
        "geometry": "planar", "channel_width_um": 0.0, "geometry_id": planar,
        "run_id": next(iter(quick_transient.all_runs("mechanics")))}
    assert len(quick.solver_outputs("mechanics", "summary.json")) == 5  # steady: one per geometry
    transient_run = next(iter(quick_transient.all_runs("mechanics")))
    assert quick_transient.calibration_input(planar, transient_run) == []  # the calibration reads the planar solve
    assert quick_transient.calibration_input(quick.geometry_id(50), transient_run) == "results/quick/calibration.json"
    steady_run = next(iter(quick.all_runs("mechanics")))
    assert quick.calibration_input(quick.geometry_id(50), steady_run) == []  # steady stresses do not depend on eps_dot_0
    assert quick.figure_outputs()[-2:] == ["results/quick/figures/model_forms.png",
                                           "results/quick/figures/model_forms.pdf"]


def test_per_geometry_inputs_replace_index_slicing(quick):
    inputs = quick.sweep_inputs()
    assert list(inputs) == [input_name(label, solver) for label in quick.geometry_labels()
                            for solver in ("electrochemistry", "mechanics")]
    grid = quick.geometry_id(100)
    assert inputs["grid100_electrochemistry"] == quick.run_files("electrochemistry", grid, "interface.csv")
    assert len(inputs["grid100_mechanics"]) == len(quick.sweep_values("mechanics"))
    point = quick.figure_point_inputs("interface.csv", suffix="_at_figure_point")
    assert point["grid100_mechanics_at_figure_point"] == \
        quick.run_file("mechanics", grid, quick.run_at("mechanics", 1.0), "interface.csv")
    stability = quick.stability_inputs()
    assert stability["planar_ccd"] == f"results/quick/stability/{quick.planar_id}/ccd.csv"
    assert list(quick.field_map_windows_um()) == ["planar", "grid200"]


def test_repeated_input_name_is_refused(quick):
    with pytest.raises(ValueError, match="grid200_electrochemistry"):
        quick.sweep_inputs([quick.geometry_id(200), quick.geometry_id(200)])


def test_model_forms_are_calibrated_in_their_own_dimension(quick):
    forms = quick.model_form_cases()
    assert list(forms) == ["cross_section_transient", "cross_section_steady", "unit_cell_steady"]
    assert forms["unit_cell_steady"]["calibration"] == "results/quick/calibration.json"  # the model of record's
    assert forms["cross_section_steady"]["calibration"] == "results/quick/model_forms/cross_section_steady/calibration.json"
    assert quick.form_calibration_forms() == ["cross_section_transient", "cross_section_steady"]
    cell = quick.calibration_cell("cross_section_transient")
    assert cell["label"] == "planar_2d" and cell["dimension"] == 2 and cell["method"] == "transient"
    assert quick.calibration_cell() == {"label": "planar", "geometry_id": quick.planar_id, "dimension": 3,
                                        "method": "steady"}
    # the transient cross-section's grids use its own calibration; its planar cell does not need one
    transient = quick.study.forms["cross_section_transient"]
    planar_2d, grid_2d = list(transient.geometries)[:2]
    run = next(iter(transient.mechanics))
    assert quick.calibration_input(planar_2d, run) == []
    assert quick.calibration_input(grid_2d, run) == "results/quick/model_forms/cross_section_transient/calibration.json"
    assert forms["cross_section_transient"]["pressures_Pa"] == [1e6]
    tables = forms["cross_section_steady"]["geometries"]["grid200_2d"]
    assert len(tables["ec"]) == 8 and len(tables["me"]) == 1 and "/grid200_2d_h~5_" in tables["me"][0]
    assert set(quick.model_form_inputs()) >= set(tables["ec"] + tables["me"])


@pytest.mark.parametrize("method", ["transient", "steady"])
def test_validation_case_at_another_temperature(tmp_path, method):
    config = read_config("config.yaml")
    config["mechanics"]["method"] = method
    experiments = Path(config["experiments"]["file"]).read_text()
    extra = tmp_path / "experiments.csv"
    extra.write_text(experiments.rstrip("\n") + "\ngrid200,200,0.5,1.0,40,stable,cycling,test,warmer cell\n")
    config["experiments"]["file"] = str(extra)
    sweep = CellSweep(load_study(config))
    cases = sweep.validation_cases()
    grid = sweep.geometry_id(200)
    assert set(cases) == {f"{sweep.planar_id}|25", f"{grid}|25", f"{grid}|40"}
    warm = cases[f"{grid}|40"]
    assert warm["ec"] == sweep.run_files("electrochemistry", grid, "interface.csv", 40)
    assert all("_T~40_" in path for path in warm["ec"])
    assert warm["currents_A_m2"] == sweep.sweep_values("electrochemistry")  # the same currents at 40 °C
    if method == "transient":
        assert all("_T~40_" in path for path in warm["me"])
        assert math.isclose(sweep.runs("mechanics", 40)[warm["me"][0].split("/")[-2]]["temperature"], 313.15)
    else:  # the steady stress holds at every temperature
        assert warm["me"] == cases[f"{grid}|25"]["me"] and warm["pressures_Pa"] == [1e6]
    assert set(sweep.validation_inputs()) == {p for case in cases.values() for p in case["ec"] + case["me"]}


def test_plating_figure_panels_and_fracture_parameters_in_si():
    sweep = PlatingSweep(read_config("config.yaml")["plating"], "results/quick")
    panels = sweep.field_panels_by_input()
    assert list(panels) == ["top_4mA_cm2", "top_4000mA_cm2", "top_lateral_4mA_cm2", "top_lateral_4000mA_cm2",
                            "none_4mA_cm2", "none_4000mA_cm2"]
    assert list(sweep.field_inputs().values()) == sweep.field_files()
    assert panels["none_4000mA_cm2"]["current_mA_cm2"] == 4000.0
    fracture = sweep.fracture_parameters()
    assert fracture["report_currents_A_m2"] == (1e4,) and math.isclose(fracture["cleavage_strength"], 16.1e9)
    assert math.isclose(fracture["fracture_toughness"], 0.95e6)
