"""Config errors are caught before any work, each naming the key, the value and the allowed range."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lisse.workflow.config import ConfigError, load_study, load_study_file

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
DEFAULT["experiments"]["file"] = str(ROOT / "config" / DEFAULT["experiments"]["file"])  # as load_study_file reads it


def modified(**changes) -> dict:
    """The default config with dotted keys changed (value None deletes the key)."""
    config = copy.deepcopy(DEFAULT)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return config


def error_of(config: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        load_study(config)
    return str(caught.value)


def test_shipped_configs_are_valid():
    quick = load_study_file(ROOT / "config" / "config.yaml")
    paper = load_study_file(ROOT / "config" / "paper.yaml")
    assert [c.label for c in quick.geometries.values()] == ["planar", "grid50", "grid100", "grid200", "grid400"]
    assert [c.label for c in paper.geometries.values()] == ["planar", "grid10", "grid50", "grid100", "grid200", "grid400"]
    assert len(set(quick.geometries) | set(paper.geometries)) == 11  # mesh size is part of every id


def test_defaults_fill_every_key_the_schema_describes():
    study = load_study({"study": "minimal", "geometry": {}, "mesh": {}})
    assert study.config["geometry"]["channel_widths_um"] == [50, 100, 200, 400]
    assert study.config["temperature_C"] == 25


def test_unknown_key():
    message = error_of(modified(geometry__channel_width_um=[200]))
    assert "unknown config key 'geometry.channel_width_um'" in message
    assert "channel_widths_um" in message  # lists what is allowed


def test_unknown_top_level_key():
    assert "unknown config key 'stuyd'" in error_of(modified(stuyd="x"))


def test_missing_key():
    message = error_of(modified(study=None))
    assert "missing config key 'study'" in message and "results/<study>/" in message


def test_wrong_type():
    message = error_of(modified(mesh__growth_rate="fast"))
    assert "'mesh.growth_rate' = 'fast' has the wrong type: expected number" in message


def test_negative_size():
    message = error_of(modified(geometry__channel_widths_um=[50, -100]))
    assert "'geometry.channel_widths_um[1]' = -100 is out of range: allowed > 0 and <= 2000" in message


def test_negative_depth():
    assert "'geometry.channel_depth_um' = -300 is out of range: allowed > 0" in error_of(
        modified(geometry__channel_depth_um=-300))


def test_fillet_not_below_half_the_channel():
    message = error_of(modified(geometry__fillet_radius_to_width_ratio=0.5, geometry__fillet_radius_max_um=100))
    assert "'geometry.fillet_radius_max_um' = 100" in message and "'geometry.fillet_radius_to_width_ratio' = 0.5" in message
    assert "fillet of 25 um for 'geometry.channel_widths_um[0]' = 50: allowed < 25 um" in message


def test_fillet_not_below_half_the_land():
    message = error_of(modified(geometry__land_to_channel_width_ratio=0.1, geometry__fillet_radius_max_um=3))
    assert "fillet of 2.5 um for 'geometry.channel_widths_um[0]' = 50: allowed < 2.5 um" in message


def test_channel_deeper_than_half_the_sse():
    message = error_of(modified(geometry__channel_depth_um=900))
    assert "'geometry.channel_depth_um' = 900 is too deep: allowed < geometry.sse_half_thickness_um = 800" in message


def test_element_larger_than_feature():
    message = error_of(modified(mesh__interface_element_um=20))
    assert "'mesh.interface_element_um' = 20 is larger than the feature" in message
    assert "allowed <= 12.5 um" in message and "'geometry.channel_widths_um[0]'" in message


def test_max_element_below_interface_element():
    assert "'mesh.max_element_um' = 1 is below mesh.interface_element_um = 5: allowed >= 5" in error_of(
        modified(mesh__max_element_um=1))


def test_bad_enum():
    assert "'geometry.lateral_extent' = 'wide' is not allowed: choose one of" in error_of(
        modified(geometry__lateral_extent="wide"))


def test_every_problem_is_reported_at_once():
    problems = error_of(modified(mesh__growth_rate=3, geometry__li_thickness_um=-1)).count("\n  - ")
    assert problems == 2


def test_snakemake_stops_at_start_up(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(modified(geometry__channel_depth_um=900)))
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(bad), "--cores", "1"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0
    assert "'geometry.channel_depth_um' = 900 is too deep" in run.stdout + run.stderr
    assert not (ROOT / "results" / "quick" / "geometry" / "never").exists()


def test_experiment_channel_width_adds_a_geometry(tmp_path):
    experiments = tmp_path / "mine.csv"
    experiments.write_text((ROOT / "config" / "experiments.csv").read_text()
                           + "grid75,75,0.4,1.0,40,short,ccd,my lab,new width and temperature\n")
    study = load_study(modified(experiments__file=str(experiments)))
    labels = [case.label for case in study.geometries.values()]
    assert "grid75" in labels and "grid75" not in [f"grid{w}" for w in DEFAULT["geometry"]["channel_widths_um"]]
    temperatures = {run["temperature"] for run in study.electrochemistry.values()}
    assert temperatures == {25 + 273.15, 40 + 273.15}


def test_experiment_geometry_gets_the_same_checks(tmp_path):
    experiments = tmp_path / "mine.csv"
    experiments.write_text((ROOT / "config" / "experiments.csv").read_text() + "grid8,8,0.4,1.0,25,short,ccd,lab,\n")
    message = error_of(modified(experiments__file=str(experiments)))
    assert "'mesh.interface_element_um' = 5 is larger than the feature" in message and "comes from" in message


def test_transient_pressures_must_be_solved_and_steady_ones_need_not():
    transient = dict(mechanics__method="transient", stability__calibration_pressure_MPa=10, figures__pressure_MPa=3)
    message = error_of(modified(**transient))
    assert "'stability.calibration_pressure_MPa' = 10 lies outside the solved pressures: allowed 0.25 to 4" in message
    assert "'figures.pressure_MPa' = 3 is not solved" in message
    study = load_study(modified(stability__calibration_pressure_MPa=10, figures__pressure_MPa=3))  # steady: any P
    assert [run["stack_pressure"] for run in study.mechanics.values()] == [1e6]


def test_steady_mechanics_needs_creep():
    assert "'mechanics.creep' = false has no steady creep flow" in error_of(modified(mechanics__creep=False))
    assert "'model_comparison.enabled' = true compares steady creep flows" in error_of(
        modified(mechanics__creep=False, mechanics__method="transient"))
    load_study(modified(mechanics__creep=False, mechanics__method="transient", model_comparison__enabled=False))


def test_model_of_record_is_the_3d_unit_cell():
    study = load_study(modified())
    assert study.dimension == 3
    assert [case.label for case in study.geometries.values()] == ["planar", "grid50", "grid100", "grid200", "grid400"]
    assert all(case.geometry.dimension == 3 for case in study.geometries.values())
    # the narrow cell resolves its channel: a quarter of its width when the configured element is coarser
    sizes = {case.label: case.sizing.interface_element * 1e6 for case in study.geometries.values()}
    assert math.isclose(sizes["grid50"], 12.5) and sizes["grid200"] == 20 and sizes["planar"] == 20


def test_cross_sections_stay_available():
    study = load_study(modified(geometry__dimension=2))
    assert all(case.geometry.dimension == 2 for case in study.geometries.values())
    assert "grid200" in [case.label for case in study.geometries.values()]


def test_model_forms_each_in_its_own_dimension():
    study = load_study(modified())
    forms = study.forms
    assert list(forms) == ["cross_section_transient", "cross_section_steady", "unit_cell_steady"]
    assert [form.record for form in forms.values()] == [False, False, True]
    assert set(forms["unit_cell_steady"].geometries) == set(study.geometries)  # the record's own cells
    assert [case.label for case in forms["cross_section_steady"].geometries.values()][:2] == ["planar_2d", "grid50_2d"]
    assert all(case.geometry.dimension == 2 for case in forms["cross_section_transient"].geometries.values())
    # the transient form solves only the pressures the table needs: the calibration's and the experiments'
    assert [run["stack_pressure"] for run in forms["cross_section_transient"].mechanics.values()] == [1e6]
    assert not load_study(modified(model_comparison__enabled=False)).forms


def test_3d_cells_need_the_unit_cell_extent():
    message = error_of(modified(geometry__lateral_extent="periods", mechanics__lateral_condition="uniform_edge"))
    assert "'geometry.lateral_extent' = 'periods' has no 3D cell" in message


def test_unit_cell_3d_max_element_not_below_interface():
    message = error_of(modified(unit_cell_3d__max_element_um=10))
    assert "'unit_cell_3d.max_element_um' = 10" in message


def test_old_unit_cell_keys_are_named():
    message = error_of(modified(unit_cell_3d__channel_widths_um=[200]))
    assert "unknown config key 'unit_cell_3d.channel_widths_um'" in message


def test_yaml_error_names_file_line_and_column(tmp_path):
    from lisse.workflow.config import config_files_of, read_config_file

    bad = tmp_path / "study.yaml"
    bad.write_text("study: mine\ngeometry:\n  channel_widths_um: [50, 100\nmesh: {}\n")
    with pytest.raises(ConfigError, match=r"study.yaml, line 4, column 5: invalid YAML, expected ',' or '\]'"):
        read_config_file(bad)
    assert config_files_of(["-n", "--configfile", "a.yaml", "b.yaml", "--cores", "2"]) == \
        ["config/config.yaml", "a.yaml", "b.yaml"]
    run = subprocess.run([str(ROOT / "scripts" / "lisse"), "run", "-n", "--configfile", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode != 0 and f"{bad}, line 4, column 5" in run.stderr


def test_experiments_file_is_read_from_the_config_files_folder(tmp_path, monkeypatch):
    study_dir = tmp_path / "my_study"
    study_dir.mkdir()
    (study_dir / "cells.csv").write_text((ROOT / "config" / "experiments.csv").read_text())
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["experiments"]["file"] = "cells.csv"
    (study_dir / "study.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)  # not the config's folder
    study = load_study_file(study_dir / "study.yaml")
    assert Path(study.config["experiments"]["file"]).resolve() == (study_dir / "cells.csv").resolve()
    config["experiments"]["file"] = "missing.csv"
    (study_dir / "study.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(Exception, match=r"'experiments.file' = 'missing.csv', looked for .*my_study/missing.csv"):
        load_study_file(study_dir / "study.yaml")
    del config["experiments"]  # the default: the study's shipped points
    (study_dir / "study.yaml").write_text(yaml.safe_dump(config))
    assert len(load_study_file(study_dir / "study.yaml").experiments) == 6


def test_experiments_folder_follows_the_config_file_that_names_it(tmp_path):
    """An overlay config without an experiments key keeps the default file; one that names a
    relative file reads it from its own folder; the command line reads from the working directory."""
    from lisse.workflow.config import experiments_folder

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("study: overlay\n")
    default = ROOT / "config" / "config.yaml"
    assert experiments_folder([default, overlay]) == default.parent
    overlay.write_text("experiments: {file: mine.csv}\n")
    assert experiments_folder([default, overlay]) == tmp_path
    assert experiments_folder([default, overlay], {"experiments": {"file": "x.csv"}}) == Path.cwd()


def test_studies_switch_study_b_only_builds_no_cell():
    study = load_study(modified(studies=["plating"]))
    assert not study.geometries and not study.forms and study.runs("plating") and not study.runs("cells")
    assert "choose one of ['cells', 'plating']" in error_of(modified(studies=["cell"]))
    assert "studies' = []" in error_of(modified(studies=[]))


def test_planar_experiments_need_the_planar_cell():
    message = error_of(modified(geometry__planar=False, stability__calibrate=False, model_comparison__enabled=False))
    assert "config key 'geometry.planar' = false, but rows [1, 3, 5] of" in message and "experiments.csv are planar" in message


def test_a_planar_only_study_needs_no_field_map_grid(tmp_path):
    planar = tmp_path / "planar.csv"
    planar.write_text("".join(line for line in (ROOT / "config" / "experiments.csv").read_text().splitlines(True)
                              if not line.startswith("grid")))
    study = load_study(modified(geometry__channel_widths_um=[], model_comparison__enabled=False,
                                experiments__file=str(planar)))
    assert [case.label for case in study.geometries.values()] == ["planar"]


def test_cost_guard_refuses_a_mesh_that_would_run_for_days():
    """The mesh of the issue's report: 1 nm elements growing by 1 % to 0.5 um."""
    message = error_of(modified(unit_cell_3d__interface_element_um=0.001, unit_cell_3d__growth_rate=1.01,
                                unit_cell_3d__max_element_um=0.5))
    assert "the 3D mesh of grid200 would have about" in message
    assert "above config key 'solver.max_elements_per_mesh' = 500,000" in message
    assert "unit_cell_3d.interface_element_um = 0.001" in message
    load_study(modified(solver__max_elements_per_mesh=10**9, unit_cell_3d__interface_element_um=5))  # raised: allowed


def test_cost_estimate_is_within_a_factor_two_of_the_mesh(tmp_path):
    """A real Gmsh mesh of a 2D grid and of the 3D planar cell against the estimate of their elements."""
    import json

    from lisse.cell.geometry import write_geometry
    from lisse.workflow.cost import estimated_elements

    study = load_study(modified(unit_cell_3d__interface_element_um=10))
    for case in [*study.forms["cross_section_steady"].geometries.values()][1:2] + [*study.geometries.values()][:1]:
        write_geometry(case.geometry, case.sizing, tmp_path / "mesh.msh", tmp_path / "facts.json")
        cells = json.loads((tmp_path / "facts.json").read_text())["mesh"]["cells"]
        assert 0.4 < estimated_elements(case) / cells < 2.0, (case.label, estimated_elements(case), cells)


def test_sensitivity_variants_rerun_only_the_solves_their_input_changes():
    """f_crit never needs a solve, n only the mechanics, i0 and alpha only the electrochemistry, the
    depth and fillet only the grid's geometry (the planar cell, hence the calibration's solves, stay)."""
    study = load_study(modified(studies=["cells"], sensitivity={"enabled": True}))
    base = study.variants["baseline"]
    assert base.record and len(study.variants) == 1 + 12

    def ids(variant):
        return set(variant.geometries), set(variant.electrochemistry), set(variant.mechanics)

    base_geometries, base_ec, base_me = ids(base)
    planar = next(iter(base.geometries))
    for name, variant in study.variants.items():
        geometries, ec, me = ids(variant)
        assert next(iter(variant.geometries)) == planar, name  # every variant calibrates on the same planar mesh
        new = {"geometry": not geometries <= base_geometries, "ec": not ec <= base_ec, "me": not me <= base_me}
        expected = {"i0": "ec", "alpha_a": "ec", "n": "me", "depth": "geometry", "fillet": "geometry"}.get(name.split("~")[0])
        assert {k for k, v in new.items() if v} == ({expected} if expected else set()), name
    assert study.variants["alpha_a~0.3"].config["electrochemistry"]["alpha_cathodic"] == pytest.approx(0.7)
    assert study.variants["depth~0.6667"].config["geometry"]["channel_depth_um"] == pytest.approx(200.0, rel=1e-6)


def test_design_map_cells_share_the_study_grids_and_refuse_what_does_not_fit():
    study = load_study(modified(studies=["cells"], design_map={"enabled": True, "channel_widths_um": [100, 200, 1000],
                                                               "channel_depths_um": [300, 450]}))
    labels = sorted(case.label for case in study.design.values())
    assert "grid200" in labels and "w200_d450_r1" in labels  # the study's 200 um grid is reused, not solved again
    assert set(study.design) & set(study.geometries) == {g for g, c in study.geometries.items() if c.label in labels}
    message = error_of(modified(design_map={"enabled": True, "channel_depths_um": [900]}))
    assert "design_map point width 25, depth 900, ratio 1: config key 'geometry.channel_depth_um' = 900 is too deep" in message
