"""The workflow plans the expected jobs, lints clean, and the set-up command is idempotent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], cwd=ROOT, capture_output=True, text=True)


def job_counts(output: str) -> dict[str, int]:
    table = output[output.index("Job stats:"):]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_dry_run_plans_one_geometry_job_per_default_geometry():
    run = snakemake("-n", "--forceall", "--cores", "2", "--quiet", "rules")
    assert run.returncode == 0, run.stderr
    counts = job_counts(run.stdout + run.stderr)
    assert counts["geometry"] == 10  # planar + 4 grids as 3D unit cells, and as 2D cross-sections (model forms)
    # steady 3D and 2D: one solve per cell; the transient cross-section at the calibration pressure only
    assert counts["mechanics"] == 5 + 5 + 5
    assert counts["form_calibration"] == 2 and counts["model_forms"] == 1
    assert counts["all"] == 1


def test_paper_config_plans_six_3d_cells_and_their_cross_sections():
    run = snakemake("-n", "--forceall", "--cores", "2", "--quiet", "rules", "--configfile", "config/paper.yaml")
    assert run.returncode == 0, run.stderr
    counts = job_counts(run.stdout + run.stderr)
    assert counts["geometry"] == 6 + 6
    # steady: one mechanics solve per 3D cell and per 2D cross-section, whatever the pressures; the
    # transient cross-section at 1 MPa
    assert counts["mechanics"] == 6 + 6 + 6


def test_nested_config_override_is_parsed_like_the_file():
    """Snakemake hands the values of ``--config key={...}`` over as strings ('150'): they are parsed and
    validated as if they stood in the config file."""
    run = snakemake("-n", "--forceall", "--quiet", "rules", "--config",
                    "geometry={channel_widths_um: [150], land_to_channel_width_ratio: 1}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert job_counts(run.stdout + run.stderr)["geometry"] == 2 * 3  # planar, 150 and the experiments' 200, in 3D and 2D
    bad = snakemake("-n", "--quiet", "rules", "--config", "geometry={channel_widths_um: [wide]}")
    assert bad.returncode != 0 and "'geometry.channel_widths_um[0]' = 'wide' has the wrong type" in bad.stdout + bad.stderr


def test_lint_is_clean():
    run = snakemake("--lint")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Congratulations, your workflow is in a good condition!" in run.stdout + run.stderr


def test_setup_is_idempotent():
    """With the environment in place, the set-up step neither reinstalls nor touches it."""
    venv = Path(os.environ.get("LISSE_VENV", ROOT / ".venv"))
    stamp = venv / ".lisse-environment"
    before = stamp.stat().st_mtime_ns
    run = subprocess.run([str(ROOT / "scripts" / "lisse"), "setup"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "environment up to date" in run.stderr
    assert "creating the environment" not in run.stderr
    assert stamp.stat().st_mtime_ns == before


def test_setup_names_the_missing_prerequisite(tmp_path):
    """No Python >= 3.12 anywhere: a clear message, and no half-made environment."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LISSE_VENV": str(tmp_path / "venv")}
    run = subprocess.run([str(ROOT / "scripts" / "lisse"), "setup"], capture_output=True, text=True, env=env)
    if run.returncode == 0:  # this machine has a system Python >= 3.12 on /usr/bin
        return
    assert "no Python >= 3.12 found" in run.stderr
    assert not (tmp_path / "venv").exists()


EXAMPLES = {  # example config -> jobs it must plan (and rules it must not)
    "planar_only": ({"geometry": 1, "mechanics": 1, "calibration": 1}, {"plating", "model_forms"}),
    "grids_only": ({"geometry": 2, "mechanics": 2, "calibration": 1}, {"plating", "model_forms"}),
    "cross_sections_2d": ({"geometry": 5, "mechanics": 5}, {"plating", "model_forms"}),
    "cells_only": ({"geometry": 10, "model_forms": 1}, {"plating", "plating_geometry"}),
    "plating_only": ({"plating_geometry": 2, "plating": 24}, {"geometry", "electrochemistry", "calibration"}),
    # 20 design cells (the 200 x 300 um one is the study's grid200) + planar + the variants' 4 new grids
    "design": ({"design_map": 1, "sensitivity": 1, "form_calibration": 12, "geometry": 2 + 19 + 4}, {"plating"}),
}


def test_every_example_config_plans_its_subset_of_the_studies():
    """Any subset of the studies is a config of its own (config/examples/), planned without error."""
    for name, (expected, absent) in EXAMPLES.items():
        run = snakemake("-n", "--forceall", "--cores", "2", "--quiet", "rules",
                        "--configfile", f"config/examples/{name}.yaml")
        assert run.returncode == 0, (name, run.stdout + run.stderr)
        counts = job_counts(run.stdout + run.stderr)
        assert {rule: counts.get(rule, 0) for rule in expected} == expected, (name, counts)
        assert not absent & set(counts), (name, counts)
        assert counts["provenance"] == 1 and counts["all"] == 1
    assert {path.stem for path in (ROOT / "config" / "examples").glob("*.yaml")} == set(EXAMPLES)


def test_dry_run_shows_the_mesh_estimate():
    run = snakemake("-n", "--quiet", "rules")
    assert re.search(r"lisse: estimated mesh elements per cell: planar ~[\d,]+ \([\d,]+ DOFs\); grid50 ~", run.stderr)
