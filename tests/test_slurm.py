"""The SLURM profile, run for real on a one-node SLURM started by scripts/local_slurm.sh.

Marker `slurm` (skipped by default; `scripts/lisse test -m slurm`). Needs root: the script
runs munged, slurmctld and slurmd on this machine (and apt-gets slurm-wlm + munge if they
are missing). Each run works in a temporary copy of the workflow so the checkout's results/
are untouched, and is compared with a local run of the same copy. The geometry stage comes
first and takes about two minutes; the whole default study follows. Both tests together took
27 min on 2 cores at git 655fc96, most of it the SLURM run, where each of the study's ~110
jobs starts its own Snakemake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDY = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["study"]
N_GEOMETRIES = 6  # planar + 4 grids + the 3D unit cell of the 200 um grid (default study)
ETC_CONF = Path("/etc/slurm/slurm.conf")

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(os.geteuid() != 0, reason="scripts/local_slurm.sh runs the SLURM daemons as root"),
]

# What `scripts/lisse run --profile workflow/profiles/slurm` runs (the local profile first),
# with the first job-status check 5 s after submission instead of 40 s.
LOCAL = [sys.executable, "-m", "snakemake", "--profile", "workflow/profiles/default"]
SLURM = [*LOCAL, "--profile", "workflow/profiles/slurm", "--slurm-init-seconds-before-status-checks", "5"]
# The slurm profile solves on 2 MPI ranks; the local reference uses the same number of ranks.
TWO_RANKS = ["--set-resources", "electrochemistry:tasks=2", "mechanics:tasks=2", "plating:tasks=2"]

# Summary columns that are not results: wall-clock timings, solver-path diagnostics (residual
# norms, iteration counts, steps that stopped at round-off), round-off checks such as the
# charge-conservation error (~1e-14), and the location of a maximum (`..._at.x_m`), which
# jumps between points of a plateau of equal stresses.
NOT_RESULTS = re.compile(r"(_time_s$|residual|iterations|roundoff|_error$|_at\.)")
# Agreement asked of the SLURM run, relative to each number and to its column's magnitude
# (quantities that vanish, e.g. the contact gap, are round-off). The electrochemistry comes
# out bit-identical. The mechanics does not even between two local runs of one solve on 2
# ranks (parallel reductions in another order; 1 h of creep flow then carries the difference
# to ~1e-8 of the stresses, the Newton tolerance): 1e-6 leaves room for that, nothing more.
RTOL = {"electrochemistry": 1e-8, "mechanics": 1e-6}
# Except where the solver itself stopped at round-off: at 4 MPa steady flow carries the Li so
# far that Newton accepts steps whose residual stagnates at up to ~5e-6 of the applied force
# (`max_relative_residual`, `steps_converged_at_roundoff`); which iterate it stops at depends
# on the order of parallel sums, and the small relaxed stresses of the channel floor (a few %
# of P) then differ by up to ~2e-4.  Such runs are compared to ROUNDOFF_FACTOR x their accepted
# residual: the accuracy the solver claims for them.
ROUNDOFF_FACTOR = 100.0


def environment() -> dict[str, str]:
    venv_bin = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "LISSE_VENV": sys.prefix,
        "VTK_DEFAULT_OPENGL_WINDOW": "vtkEGLRenderWindow",
    }


def copy_workflow(destination: Path) -> Path:
    """The files a run needs (the package is installed in the venv, editable)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "scripts", "config", "pyproject.toml"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, destination / name)
    return destination


def run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=timeout)


def run_on_local_slurm(work: Path, *snakemake_args: str, timeout: float) -> subprocess.CompletedProcess:
    """Snakemake with the slurm profile on a local SLURM; on a time-out the script gets SIGTERM,
    which cancels the jobs and stops the daemons (a SIGKILL would leave them running)."""
    etc_before = ETC_CONF.read_bytes() if ETC_CONF.exists() else None
    command = [str(work / "scripts" / "local_slurm.sh"), "--", *SLURM, *snakemake_args]
    process = subprocess.Popen(command, cwd=work, env=environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        stdout, stderr = process.communicate(timeout=300)
        pytest.fail(f"no result after {timeout} s:\n{stdout[-3000:]}{stderr[-6000:]}")
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    output = stdout + stderr
    # Every daemon the script started is gone, and /etc/slurm/slurm.conf is as before.
    started = re.search(r"munged pid (\d+), slurmctld pid (\d+), slurmd pid (\d+)", output)
    assert started, output[-3000:]
    for pid in map(int, started.groups()):
        assert not Path(f"/proc/{pid}").exists(), f"daemon pid {pid} still running"
    assert (ETC_CONF.read_bytes() if ETC_CONF.exists() else None) == etc_before
    return result


def tail(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-3000:] + result.stderr[-6000:]


@pytest.fixture(scope="module")
def slurm_work(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("slurm"))


@pytest.fixture(scope="module")
def local_work(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("local"))


def geometry_facts(work: Path) -> dict[str, dict]:
    facts = {}
    for path in sorted((work / "results" / STUDY / "geometry").glob("*/geometry.json")):
        data = json.loads(path.read_text())
        data.pop("provenance")  # time stamp and host
        facts[path.parent.name] = data
    return facts


def test_geometry_stage_through_slurm_matches_a_local_run(slurm_work, local_work):
    slurm = run_on_local_slurm(slurm_work, "--until", "geometry", timeout=900)
    assert slurm.returncode == 0, tail(slurm)
    output = slurm.stdout + slurm.stderr
    assert len(re.findall(r"has been submitted with SLURM jobid \d+", output)) == N_GEOMETRIES, tail(slurm)

    local = run([*LOCAL, "--until", "geometry"], local_work, timeout=900)
    assert local.returncode == 0, tail(local)

    on_slurm, here = geometry_facts(slurm_work), geometry_facts(local_work)
    assert len(on_slurm) == N_GEOMETRIES and set(on_slurm) == set(here)
    for geometry, facts in on_slurm.items():
        for name in ("mesh.msh", "preview.png"):
            assert (slurm_work / "results" / STUDY / "geometry" / geometry / name).stat().st_size > 0
        assert facts["mesh"] == here[geometry]["mesh"], geometry  # cells, vertices, sizes, quality
        assert facts == here[geometry], geometry


def compare_summaries(on_slurm: pd.DataFrame, here: pd.DataFrame, name: str, rtol: float) -> None:
    key = ["geometry_id", "run_id"]
    on_slurm, here = on_slurm.sort_values(key).reset_index(drop=True), here.sort_values(key).reset_index(drop=True)
    assert list(on_slurm.columns) == list(here.columns), name
    assert on_slurm[key].equals(here[key]), name
    tolerance = np.full(len(here), rtol)
    if "steps_converged_at_roundoff" in here:
        at_roundoff = (on_slurm["steps_converged_at_roundoff"] > 0) | (here["steps_converged_at_roundoff"] > 0)
        accepted = np.maximum(on_slurm["max_relative_residual"], here["max_relative_residual"]).to_numpy()
        tolerance = np.where(at_roundoff, np.maximum(rtol, ROUNDOFF_FACTOR * accepted), rtol)
    compared = 0
    for column in on_slurm.columns:
        if NOT_RESULTS.search(column) or not pd.api.types.is_numeric_dtype(here[column]):
            continue
        a, b = on_slurm[column].to_numpy(float), here[column].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{name}: {column}"
        scale = np.nanmax(np.abs(b)) if not np.isnan(b).all() else 0.0
        ok = np.isnan(b) | np.isclose(a, b, rtol=tolerance, atol=tolerance * scale)
        assert ok.all(), f"{name}: {column} differs: {a[~ok]} (SLURM) vs {b[~ok]} (local)"
        compared += 1
    assert compared >= 10, f"{name}: only {compared} numeric columns compared"


def test_default_study_through_slurm_matches_a_local_run(slurm_work, local_work):
    """The whole default study (continuing from the geometry test) on SLURM vs locally, both on 2 ranks."""
    slurm = run_on_local_slurm(slurm_work, timeout=4 * 3600)
    assert slurm.returncode == 0, tail(slurm)
    assert "lisse: model agrees with" in slurm.stdout + slurm.stderr

    local = run([*LOCAL, *TWO_RANKS], local_work, timeout=3600)
    assert local.returncode == 0, tail(local)

    for solver in ("electrochemistry", "mechanics"):
        table = f"results/{STUDY}/{solver}_summary.csv"
        on_slurm, here = pd.read_csv(slurm_work / table), pd.read_csv(local_work / table)
        if "n_ranks" in on_slurm:  # srun started one 2-rank MPI job, not two 1-rank copies
            assert (on_slurm["n_ranks"] == 2).all(), solver
        compare_summaries(on_slurm, here, solver, RTOL[solver])
