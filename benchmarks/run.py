"""What the workflow costs, in one markdown table: per geometry and dimension, 1 vs 2 ranks, a
cold and a warm run of the default study, and the decoupled sweep against brute force.

    .venv/bin/python benchmarks/run.py [--quick] [--sections geometry,ranks,workflow,sweep]
                                       [--output table.md] [--workdir DIR] [--ranks 2] [--mechanics-3d-large]
                                       [--timeout SECONDS]

Run by hand; nothing is asserted.  Progress goes to stderr, the table to stdout (and to
``--output``).  Every solve runs in a fresh ``mpiexec -n N`` process (benchmarks/_common.py)
through the workflow's own drivers, after an unmeasured warm-up solve has filled the FFCx
cache for that geometry and dimension; meshes are generated in this process and timed apart.
A solve that outlives ``--timeout`` is killed and shown as n/a, like one that fails.
``--quick`` shrinks the meshes, the sweeps and the workflow target (electrochemistry only) so
the whole run takes a few minutes; the full run takes ~30-40 min, mostly the two workflow runs.

Sections:

1. geometry -- planar and 200 um grid cells in 2D on the default study's mesh, and the 3D
   unit cell of the 200 um square grid on a small mesh and on one with >= 1e6 P2
   electrochemistry DOFs (2 ranks; its mechanics only with --mechanics-3d-large).  Rows
   whose solver or geometry does not exist yet print n/a with the reason.
2. ranks -- 1 vs 2 ranks: the electrochemistry on a near-uniform 2D mesh of ~2e5 DOFs, the
   mechanics on the paper's production mesh, the 3D electrochemistry on the large mesh.
3. workflow -- ``snakemake --cores 2 --profile workflow/profiles/default`` in a clone of HEAD,
   twice: cold (empty XDG_CACHE_HOME, so an empty FFCx/DOLFINx JIT cache, and no results)
   and warm (same cache, results deleted); against the solver times of the summaries.
4. sweep -- N_i currents x N_P pressures on the 2D 200 um grid: N_i + N_P solves (what the
   workflow does) against N_i x N_P (electrochemistry + mechanics) pairs (what a coupled
   design needs), each design in one process.
6. design -- ``config/examples/design.yaml`` (a design map of 20 3D cells and the 200 um grid's
   sensitivity to six inputs) from scratch in a clone of HEAD, warm JIT cache; target < 30 min.
5. steady -- the steady-creep mechanics (one solve per geometry) against the transient to
   1 h (one per pressure) on the same mesh, 1 rank: 2D planar and 200 um grid, the 3D 200 um
   cell at the default mesh, and (steady only, unless --transient-large) the 3D 400 um cell at
   the default mesh and the 3D 200 um cell at the paper's mesh; seconds per 1e4 DOFs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    ROOT,
    UM,
    SolveFailed,
    config_sizing,
    mesh,
    one_line,
    p2_dofs,
    solve,
    spawn,
    study_config,
    study_geometry,
)

SECTIONS = ("geometry", "ranks", "workflow", "sweep", "steady", "design")
EC_CURRENT = 5.0  # A/m² (0.5 mA/cm², the figures' operating point)
ME_PRESSURE = 1.0e6  # Pa
EC_3D_MIN_DOFS = 1_000_000
# DOFs of the graded 3D unit-cell mesh grow like h^-2.1 when interface and maximum sizes shrink
# together (4.2e5 at 2.5 / 10 um, 6.6e5 at 2 / 8 um): used to re-size a mesh that came out too small.
DOF_SIZE_EXPONENT = 2.1
T0 = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def fmt(value, spec: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (tuple, list)):
        return " / ".join(fmt(v, spec) for v in value)
    return format(value, spec)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def git_hash(path: Path = ROOT) -> str:
    """Short commit, ``-dirty`` if the code the solves import has uncommitted changes."""
    from lisse.core.provenance import git_commit

    commit = git_commit(path, paths=("src", "workflow", "scripts", "config"))
    return commit[:7] + commit[40:]  # "unknown" stays whole


def machine() -> str:
    model = "unknown CPU"
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    date = datetime.datetime.now().astimezone().isoformat(timespec="minutes")
    return f"{os.cpu_count()} cores ({model}, load average {os.getloadavg()[0]:.1f} at the start), {date}"


def scaled(sizing, factor: float):
    return dataclasses.replace(sizing, interface_element=sizing.interface_element * factor,
                               max_element=sizing.max_element * factor)


def sizing_label(sizing) -> str:
    return f"{sizing.interface_element / UM:.3g} / {sizing.max_element / UM:.3g}, {sizing.elements_per_fillet}/fillet"


class Bench:
    """Meshes, warm-ups and solves shared by the sections of one run."""

    def __init__(self, workdir: Path, quick: bool, ranks: int, mechanics_3d_large: bool, timeout: float):
        from lisse.cell.geometry import MeshSizing

        self.workdir, self.quick, self.ranks, self.mechanics_3d_large = workdir, quick, ranks, mechanics_3d_large
        self.timeout = timeout
        default = config_sizing("config")
        # name -> (channel width um, dimension, sizing, minimum P2 DOFs of the SSE or None)
        self.meshes = {
            "planar": (0, 2, default, None),
            "grid200": (200, 2, default, None),
            "grid200_uniform": (200, 2, MeshSizing(3.0 * UM, 1.3, 3.0 * UM) if quick else
                                MeshSizing(1.6 * UM, 1.3, 1.6 * UM), None),  # ~7e4 / ~2.4e5 EC DOFs
            "grid200_production": (200, 2, default if quick else config_sizing("paper"), None),
            # 3D: the pillar-edge fillets (r = 2 um) dominate the count; one element per fillet
            # keeps the small mesh small (the workflow's unit_cell_3d mesh), three resolve them.
            "grid200_3d_small": (200, 3, config_sizing("config", "unit_cell_3d") or
                                 MeshSizing(20 * UM, 1.3, 80 * UM, 1), None),
            "grid200_3d_large": (200, 3, MeshSizing(5 * UM, 1.3, 20 * UM, 3) if quick else  # ~1.5e5 EC DOFs
                                 MeshSizing(1.5 * UM, 1.3, 6 * UM, 3), None if quick else EC_3D_MIN_DOFS),  # ~1.2e6
            "grid400_3d": (400, 3, config_sizing("config", "unit_cell_3d"), None),
            "grid200_3d_paper": (200, 3, config_sizing("paper", "unit_cell_3d"), None),
        }
        self.files: dict[str, dict] = {}
        self.failed: dict[str, str] = {}
        self.warm: dict[tuple, str | None] = {}  # (width, dimension, kind) -> why its warm-up failed, or None
        self.memo: dict[str, dict] = {}

    def mesh(self, name: str) -> dict:
        """Files of a named mesh (generated once); a 3D mesh with a DOF target is re-sized until it holds it."""
        if name in self.failed:
            raise SolveFailed(self.failed[name])
        if name in self.files:
            return self.files[name]
        width, dimension, sizing, min_dofs = self.meshes[name]
        try:
            geometry = study_geometry(width, dimension)
            for _ in range(3):
                say(f"mesh {name}: interface / max element {sizing_label(sizing)} um")
                files = mesh(self.workdir, f"{name}_{sizing.interface_element / UM:.3g}_{sizing.max_element / UM:.3g}"
                             f"_{sizing.elements_per_fillet}", geometry, sizing)
                dofs = p2_dofs(files["msh"], "sse")
                say(f"mesh {name}: {fmt(files['mesh_s'], '.1f')} s, {fmt(dofs)} P2 DOFs in the SSE")
                if min_dofs is None or dofs is None or dofs >= min_dofs:
                    break
                sizing = scaled(sizing, 0.97 * (dofs / min_dofs) ** (1 / DOF_SIZE_EXPONENT))
        except Exception as error:  # the 3D geometry may not exist yet
            self.failed[name] = one_line(error)
            say(f"mesh {name}: n/a ({self.failed[name]})")
            raise SolveFailed(self.failed[name]) from error
        self.files[name] = {**files, "sizing": sizing, "dimension": dimension, "ec_dofs_counted": dofs}
        return self.files[name]

    def warm_up(self, name: str, kind: str, method: str = "steady") -> str | None:
        """One unmeasured solve per geometry, dimension, kind and mechanics method (transient: one
        time step), so the measured solves load their forms from the FFCx cache instead of
        compiling them.  Returns why it failed (None if it did not): that kind is then not measured
        on that geometry."""
        width, dimension = self.meshes[name][:2]
        key = (min(width, 200), dimension, kind, method)  # the forms do not depend on the width
        if key not in self.warm:
            smallest = {(0, 2): "planar", (200, 2): "grid200", (200, 3): "grid200_3d_small"}[key[:2]]
            files = self.mesh(smallest)
            parameters = ({"applied_current_density": EC_CURRENT} if kind == "electrochemistry" else
                          {"stack_pressure": ME_PRESSURE, "method": method, "t_eval": 1e-3, "output_times": []})
            say(f"warm-up: {kind} on {smallest}")
            try:
                spawn([solve(kind, files, parameters)], timeout=self.timeout)
                self.warm[key] = None
            except SolveFailed as error:
                self.warm[key] = f"warm-up on {smallest}: {error.reason}"
                say(f"warm-up: {kind} on {smallest} failed: {error.reason}")
        return self.warm[key]

    def run(self, name: str, kind: str, parameters: dict, ranks: int = 1, petsc_options: dict | None = None) -> dict:
        """One solve in a fresh process (memoised within this run); raises SolveFailed."""
        files = self.mesh(name)
        one = solve(kind, files, parameters, petsc_options)
        key = json.dumps([one, ranks], sort_keys=True)
        if key not in self.memo:
            failed_warm_up = self.warm_up(name, kind, parameters.get("method", "steady"))
            if failed_warm_up:
                raise SolveFailed(failed_warm_up)
            say(f"{kind} on {name}, {ranks} rank(s) ...")
            try:
                self.memo[key] = spawn([one], ranks, timeout=self.timeout)
            except SolveFailed as error:
                say(f"{kind} on {name}: failed: {error}")
                raise
            report = self.memo[key]
            s = report["solves"][0]["summary"]
            say(f"{kind} on {name}, {ranks} rank(s): {s['dofs']} DOFs, {solver_seconds(kind, s):.2f} s, "
                f"peak RSS {report['rss_MB']:.0f} MB")
        else:
            say(f"{kind} on {name}, {ranks} rank(s): reusing this run's earlier solve")
        return self.memo[key]


def solver_seconds(kind: str, summary: dict) -> float:
    """The time a table reports: electrochemistry = initial guess + Newton; mechanics = the whole solve."""
    return summary["solve_time_s"] if kind == "electrochemistry" else summary["wall_time_s"]


# --------------------------------------------------------------------------------------
# 1. per geometry and dimension
# --------------------------------------------------------------------------------------


def section_geometry(bench: Bench, context: str) -> str:
    rows = [("planar", "planar", 1, True), ("grid 200 µm", "grid200", 1, True),
            ("grid 200 µm unit cell, small mesh", "grid200_3d_small", 1, True),
            ("grid 200 µm unit cell, large mesh", "grid200_3d_large", bench.ranks, bench.mechanics_3d_large)]
    table = []
    for label, name, ranks, with_mechanics in rows:
        dimension = bench.meshes[name][1]
        notes, results = [], {}
        try:
            files = bench.mesh(name)
        except SolveFailed as error:
            table.append([label, f"{dimension}D", sizing_label(bench.meshes[name][2]), f"n/a ({error.reason})"]
                         + ["n/a"] * 9)
            continue
        kinds = [("electrochemistry", {"applied_current_density": EC_CURRENT})]
        if with_mechanics:
            kinds.append(("mechanics", {"stack_pressure": ME_PRESSURE}))
        else:
            notes.append("ME skipped (--mechanics-3d-large)")
        for kind, parameters in kinds:
            try:
                report = bench.run(name, kind, parameters, ranks)
                results[kind] = (report["solves"][0]["summary"], report)
            except SolveFailed as error:
                notes.append(f"{'EC' if kind == 'electrochemistry' else 'ME'} n/a ({error.reason})")
        ec, me = results.get("electrochemistry"), results.get("mechanics")
        if ec and ec[0]["solve_time_s"] > 1.0:  # where a large solve spends its time
            s = ec[0]
            notes.insert(0, f"EC {s['ksp_type']}+{s['pc_type']}: initial guess {s['initial_guess_time_s']:.1f} s + "
                            f"Newton {s['newton_time_s']:.1f} s (linear {s['linear_solve_time_s']:.1f} s), "
                            f"{s['linear_iterations']} KSP its; largest rank {ec[1]['rss_max_MB']:.0f} MB")
        if name == "grid200_3d_large" and ec and ec[0]["dofs"] < EC_3D_MIN_DOFS:
            notes.append(f"EC DOFs below the {EC_3D_MIN_DOFS:.0e} target" + (" (--quick)" if bench.quick else ""))

        def both(pick, spec="", solves=(ec, me)):
            return fmt(tuple(pick(r) if r else None for r in solves), spec)

        table.append([
            label, f"{dimension}D", sizing_label(files["sizing"]), fmt(files["mesh_s"], ".1f"),
            both(lambda r: r[0]["cells"]), fmt(ec[0]["dofs"] if ec else None),
            fmt(ec[0]["solve_time_s"] if ec else None, ".2f"), fmt(me[0]["dofs"] if me else None),
            fmt(me[0]["wall_time_s"] if me else None, ".1f"), both(lambda r: r[0]["newton_iterations"]),
            both(lambda r: r[1]["rss_MB"], ".0f"), both(lambda r: r[1]["ranks"]), "; ".join(notes) or "",
        ])
    header = ["geometry", "dim", "mesh: interface / max element (µm), elements per fillet", "meshing (s)",
              "cells SSE / Li", "EC DOFs", "EC solve (s)", "ME DOFs", "ME solve (s)", "Newton its EC / ME",
              "peak RSS MB EC / ME", "ranks EC / ME", "notes"]
    return "\n\n".join([
        "### 1. Cost per geometry and dimension",
        f"*EC: steady Butler–Volmer electrochemistry (P2) at {EC_CURRENT / 10:g} mA/cm², solve = linearised initial "
        f"guess + Newton; ME: Li steady-creep mechanics (Taylor-Hood, the workflow's default; section 5 has the "
        f"transient) at {ME_PRESSURE / 1e6:g} MPa, "
        "whole solve (set-up, time stepping, post-processing).  One fresh `mpiexec` process per solve, warm FFCx "
        f"cache; a solve killed after --timeout = {bench.timeout:.0f} s shows n/a; peak RSS summed over ranks; "
        "meshing (Gmsh, both bodies) timed apart.  2D mesh and small 3D mesh = `mesh` and `unit_cell_3d` of "
        f"`config/config.yaml`.  {context}.*",
        markdown_table(header, table),
    ])


# --------------------------------------------------------------------------------------
# 2. 1 vs 2 ranks
# --------------------------------------------------------------------------------------


def section_ranks(bench: Bench, context: str) -> str:
    cases = [("EC", "2D grid 200 µm, near-uniform mesh", "grid200_uniform", "electrochemistry",
              {"applied_current_density": EC_CURRENT}),
             ("ME", "2D grid 200 µm, " + ("default mesh (--quick)" if bench.quick else "production mesh (paper.yaml)"),
              "grid200_production", "mechanics", {"stack_pressure": ME_PRESSURE}),
             ("EC", "3D grid 200 µm unit cell, large mesh", "grid200_3d_large", "electrochemistry",
              {"applied_current_density": EC_CURRENT})]
    table = []
    for solver, label, name, kind, parameters in cases:
        try:
            files = bench.mesh(name)
            one, two = (bench.run(name, kind, parameters, ranks) for ranks in (1, bench.ranks))
        except SolveFailed as error:
            table.append([solver, label, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", f"n/a ({error.reason})"])
            continue
        s1, s2 = one["solves"][0]["summary"], two["solves"][0]["summary"]
        t1, t2 = solver_seconds(kind, s1), solver_seconds(kind, s2)
        solver_text = f"{s1.get('ksp_type')}+{s1.get('pc_type')}"
        driver = (one["solves"][0]["seconds"], two["solves"][0]["seconds"])
        table.append([solver, f"{label} ({sizing_label(files['sizing'])} µm)", fmt(s1["dofs"]), f"{t1:.2f}",
                      f"{t2:.2f}", f"{t1 / t2:.2f}", fmt(driver, ".1f"),
                      fmt((s1["newton_iterations"], s2["newton_iterations"])),
                      f"{one['rss_MB']:.0f} / {two['rss_MB']:.0f} ({two['rss_max_MB']:.0f})", solver_text])
    header = ["solver", "case (interface / max element)", "DOFs", "1 rank (s)", f"{bench.ranks} ranks (s)",
              "speed-up", "driver call incl. mesh load (s) 1 / 2", "Newton its 1 / 2",
              "peak RSS MB, sum over ranks 1 / 2 (largest rank)", "linear solver"]
    return "\n\n".join([
        f"### 2. Speed-up, 1 vs {bench.ranks} ranks",
        f"*Time as in section 1 (EC: initial guess + Newton; ME: whole steady solve); driver call = the "
        "workflow's `run_*` function, which adds reading and distributing the mesh (rank 0 reads) and writing the "
        f"interface table.  Same warm cache; {bench.ranks} ranks share the machine's cores with anything else "
        f"running.  {context}.*",
        markdown_table(header, table),
    ])


# --------------------------------------------------------------------------------------
# 3. cold vs warm workflow
# --------------------------------------------------------------------------------------


def solver_times(results: Path) -> dict:
    """Solver seconds of every summary of a run: EC = set-up + solve + post-processing (the whole
    solve function), ME and plating = wall_time_s (the same span)."""
    times = {"EC": [], "ME": [], "plating": []}
    for path in results.glob("electrochemistry/*/*/summary.json"):
        s = json.loads(path.read_text())
        times["EC"].append(s["setup_time_s"] + s["solve_time_s"] + s["postprocess_time_s"])
    for kind, pattern in (("ME", "mechanics/*/*/summary.json"), ("plating", "plating/*/*/*/summary.json")):
        times[kind] += [json.loads(p.read_text())["wall_time_s"] for p in results.glob(pattern)]
    return times


def meshing_times(results: Path) -> tuple[list[float], str]:
    """Meshing seconds per geometry (Study A and B) and where they come from: a ``*time_s`` key of
    the geometry JSON's mesh facts if it has one, else the geometry step's log, from its first
    line (before meshing) to its ``mesh:`` line (after), 1 s resolution.  (Not the JSON's file
    time: Snakemake touches outputs after the job.)"""
    seconds, source = [], "geometry JSONs"
    for path in [*results.glob("geometry/*/geometry.json"), *results.glob("plating/geometry/*/geometry.json")]:
        recorded = [v for k, v in json.loads(path.read_text()).get("mesh", {}).items() if k.endswith("time_s")]
        if recorded:
            seconds.append(float(recorded[0]))
    if seconds:
        return seconds, source
    for log in [*results.glob("logs/geometry/*.log"), *results.glob("logs/plating_geometry/*.log")]:
        stamps = [(line[:8], "mesh:" in line) for line in log.read_text().splitlines()
                  if re.match(r"\d\d:\d\d:\d\d ", line)]
        end = next((stamp for stamp, is_mesh in stamps if is_mesh), None)
        if stamps and end:
            start, end = (sum(int(p) * f for p, f in zip(t.split(":"), (3600, 60, 1))) for t in (stamps[0][0], end))
            seconds.append(float((end - start) % 86400))
    return seconds, "geometry step logs, 1 s resolution (not recorded in the geometry JSONs)"


def run_snakemake(name: str, command: list[str], clone: Path, env: dict, log: Path):
    """Run one workflow command in ``clone``, its output to ``log``: (process, wall s, log text, (done, total) steps)."""
    say(f"{name}: snakemake {' '.join(command[3:])} in {clone}")
    t0 = time.perf_counter()
    with open(log, "w") as out:
        completed = subprocess.run(command, cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    text = log.read_text(errors="replace")
    return completed, wall, text, re.findall(r"(\d+) of (\d+) steps", text)


def section_workflow(bench: Bench, context: str) -> str:
    study = study_config()["study"]
    targets = [f"results/{study}/electrochemistry_summary.csv"] if bench.quick else []
    base = Path(tempfile.mkdtemp(prefix="lisse-bench-workflow-", dir=bench.workdir))
    clone, cache = base / "repo", base / "cache"
    cache.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    commit = git_hash(clone)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(clone / "src"),  # the clone's lisse, not the editable install's working tree
           "XDG_CACHE_HOME": str(cache),  # DOLFINx's JIT cache is $XDG_CACHE_HOME/fenics (dolfinx.jit)
           "VTK_DEFAULT_OPENGL_WINDOW": os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")}
    command = [sys.executable, "-m", "snakemake", "--cores", "2", "--profile", "workflow/profiles/default", *targets]
    table = []
    for run in ("cold", "warm"):
        shutil.rmtree(clone / "results", ignore_errors=True)
        log = base / f"{run}.log"
        completed, wall, text, steps = run_snakemake(f"workflow {run}", command, clone, env, log)
        jit_files = sum(1 for _ in (cache / "fenics").rglob("*")) if (cache / "fenics").exists() else 0
        say(f"workflow {run}: {wall:.0f} s, exit {completed.returncode}, {steps[-1][0] if steps else '?'} jobs, "
            f"{jit_files} JIT cache files")
        if completed.returncode != 0:
            failed = sorted(set(re.findall(r"Error in rule (\w+)", text)))
            lines = [line for line in text.splitlines() if line.strip()] or ["?"]
            reason = f"rule {', '.join(failed)} failed" if failed else lines[-1]
            table.append([run, f"{wall:.0f}", steps[-1][1] if steps else "?", "n/a", "n/a", "n/a", "n/a", "n/a",
                          f"n/a (snakemake exit {completed.returncode}: {reason[:100]}; log {log})"])
            continue
        times = solver_times(clone / "results" / study)
        total = sum(sum(v) for v in times.values())
        meshing, meshing_source = meshing_times(clone / "results" / study)
        table.append([run, f"{wall:.0f}", steps[-1][1] if steps else "?",
                      " / ".join(str(len(v)) for v in times.values()),
                      " / ".join(f"{sum(v):.0f}" for v in times.values()), f"{total:.0f}", f"{wall / total:.2f}",
                      f"{sum(meshing):.0f} ({len(meshing)} meshes)",
                      f"{jit_files} JIT cache files after; meshing from {meshing_source}"])
    header = ["run", "wall (s)", "jobs", "solves EC / ME / plating", "solver time EC / ME / plating (s)",
              "solver time total (s)", "wall / solver total", "meshing (s)", "notes"]
    what = ("target `electrochemistry_summary.csv` only (--quick)" if bench.quick else "default target (everything)")
    return "\n\n".join([
        "### 3. Workflow wall time, cold vs warm",
        f"*`snakemake {' '.join(command[3:])}` on `config/config.yaml`, {what}, in a clone of commit {commit} (its own "
        "`src/` on PYTHONPATH).  Cold: empty XDG_CACHE_HOME (DOLFINx/FFCx JIT cache, also matplotlib's font "
        "cache) and no results; warm: same cache, results deleted.  Solver time = sum over the runs' summary JSONs "
        "(EC set-up + solve + post-processing; ME and plating wall_time_s); with 2 cores jobs overlap, so wall can "
        "be below it.  Meshing: summed over the geometry steps (see notes).  Target: warm wall / solver total "
        f"<= 1.5.  {context}.*",
        markdown_table(header, table),
    ])


def section_design(bench: Bench, context: str) -> str:
    clone = Path(tempfile.mkdtemp(prefix="lisse-bench-design-", dir=bench.workdir)) / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": str(clone / "src"),
           "VTK_DEFAULT_OPENGL_WINDOW": os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")}
    command = [sys.executable, "-m", "snakemake", "--cores", "2", "--profile", "workflow/profiles/default",
               "--configfile", "config/examples/design.yaml"]
    log = clone.parent / "design.log"
    completed, wall, _, steps = run_snakemake("design", command, clone, env, log)
    times = solver_times(clone / "results" / "design") if completed.returncode == 0 else {}
    row = [f"{wall / 60:.1f}", steps[-1][1] if steps else "?",
           " / ".join(str(len(v)) for v in times.values()) or "n/a",
           " / ".join(f"{sum(v):.0f}" for v in times.values()) or "n/a",
           "met" if completed.returncode == 0 and wall < 1800 else f"missed (exit {completed.returncode}; log {log})"]
    return "\n\n".join([
        "### 6. Design map and sensitivity",
        f"*`snakemake {' '.join(command[3:])}` from scratch in a clone of commit {git_hash(clone)}, warm JIT cache: "
        f"20 design cells (3D unit cells, 5 widths x 4 depths) and 12 sensitivity variants of the 200 um grid.  "
        f"Target: < 30 min on 2 cores.  {context}.*",
        markdown_table(["wall (min)", "jobs", "solves EC / ME / plating", "solver time EC / ME / plating (s)", "target"],
                       [row]),
    ])


# --------------------------------------------------------------------------------------
# 4. sweep design
# --------------------------------------------------------------------------------------


def section_sweep(bench: Bench, context: str) -> str:
    currents_mA_cm2 = [0.5, 2.0] if bench.quick else [0.1, 0.5, 1.0, 2.0]
    pressures_MPa = [1.0, 2.0] if bench.quick else [0.5, 1.0, 2.0]
    name = "grid200"
    try:
        files = bench.mesh(name)
        failed_warm_up = bench.warm_up(name, "electrochemistry") or bench.warm_up(name, "mechanics", "transient")
        if failed_warm_up:
            raise SolveFailed(failed_warm_up)
    except SolveFailed as error:
        return f"### 4. Sweep cost\n\nn/a ({error.reason})"
    ec = [solve("electrochemistry", files, {"applied_current_density": i * 10.0}) for i in currents_mA_cm2]
    # the transient mechanics: one solve per pressure (the steady one needs one for all, section 5)
    me = [solve("mechanics", files, {"stack_pressure": p * 1e6, "method": "transient"}) for p in pressures_MPa]
    designs = {"decoupled (N_i EC + N_P ME)": ec + me,
               "brute force (N_i x N_P pairs of EC + ME)": [s for e in ec for m in me for s in (e, m)]}
    table, loops = [], {}
    for label, solves in designs.items():
        say(f"sweep {label}: {len(solves)} solves in one process ...")
        try:
            report = spawn(solves)
        except SolveFailed as error:
            table.append([label, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", f"n/a ({error.reason})"])
            continue
        by_kind = {kind: [s for s in report["solves"] if s["kind"] == kind]
                   for kind in ("electrochemistry", "mechanics")}
        loops[label] = report["loop_s"]
        say(f"sweep {label}: {report['loop_s']:.1f} s")
        table.append([label, f"{len(by_kind['electrochemistry'])} / {len(by_kind['mechanics'])}",
                      f"{report['loop_s']:.1f}", f"{report['process_s']:.1f}",
                      " / ".join(f"{sum(s['seconds'] for s in v):.1f}" for v in by_kind.values()),
                      f"{report['rss_MB']:.0f}", "", ""])
    if len(loops) == 2:
        decoupled, brute = loops.values()
        table[-1][-2] = f"{brute / decoupled:.2f}"
    header = ["design", "solves EC / ME", "solve loop (s)", "process incl. start-up (s)",
              "driver calls EC / ME (s)", "peak RSS (MB)", "brute / decoupled", "notes"]
    sizing = files["sizing"]
    return "\n\n".join([
        "### 4. Sweep cost, decoupled vs brute force",
        f"*2D 200 µm grid, default mesh ({sizing_label(sizing)} µm), N_i = {len(currents_mA_cm2)} currents "
        f"{currents_mA_cm2} mA/cm² x N_P = {len(pressures_MPa)} pressures {pressures_MPa} MPa, ME to t_eval = 1 h.  "
        "Each design runs all its solves, one after the other, in one process on 1 rank (warm cache, each solve "
        "through the workflow's driver, mesh read each time); solve loop = first solve start to last solve end; "
        f"nothing extrapolated.  {context}.*",
        markdown_table(header, table),
    ])


# --------------------------------------------------------------------------------------
# 5. steady against transient mechanics
# --------------------------------------------------------------------------------------


def section_steady(bench: Bench, context: str) -> str:
    rows = [("planar", "planar", True), ("grid 200 µm", "grid200", True),
            ("grid 200 µm unit cell, default mesh", "grid200_3d_small", True),
            ("grid 400 µm unit cell, default mesh", "grid400_3d", bench.transient_large),
            ("grid 200 µm unit cell, paper mesh", "grid200_3d_paper", bench.transient_large)]
    if bench.quick:
        rows = rows[:2]
    table = []
    for label, name, with_transient in rows:
        results, notes = {}, []
        for method in ("steady", "transient") if with_transient else ("steady",):
            try:
                report = bench.run(name, "mechanics", {"stack_pressure": ME_PRESSURE, "method": method})
                results[method] = (report["solves"][0]["summary"], report)
            except SolveFailed as error:
                notes.append(f"{method} n/a ({error.reason})")
        if not with_transient:
            notes.append("transient not run (--transient-large)")
        steady, transient = results.get("steady"), results.get("transient")
        dimension = bench.meshes[name][1]
        ratio = transient[0]["wall_time_s"] / steady[0]["wall_time_s"] if steady and transient else None
        per_dof = steady[0]["wall_time_s"] / steady[0]["dofs"] * 1e4 if steady else None
        table.append([
            label, f"{dimension}D", sizing_label(bench.files[name]["sizing"]) if name in bench.files else "n/a",
            fmt(steady[0]["dofs"] if steady else None), fmt(steady[0]["wall_time_s"] if steady else None, ".1f"),
            fmt(steady[0]["newton_iterations"] if steady else None), fmt(per_dof, ".2f"),
            fmt(steady[1]["rss_MB"] if steady else None, ".0f"),
            fmt(transient[0]["dofs"] if transient else None), fmt(transient[0]["wall_time_s"] if transient else None,
                                                                 ".1f"),
            fmt(ratio, ".1f"), "; ".join(notes)])
    header = ["geometry", "dim", "mesh: interface / max element (µm), elements per fillet", "steady DOFs",
              "steady solve (s)", "steady Newton its", "steady s per 1e4 DOFs", "steady peak RSS MB",
              "transient DOFs", "transient to 1 h (s)", "transient / steady", "notes"]
    return "\n\n".join([
        "### 5. Steady creep against the creep transient",
        f"*ME at {ME_PRESSURE / 1e6:g} MPa, 1 rank, whole solve (set-up, solve, post-processing), one fresh "
        "`mpiexec` process each, warm FFCx cache.  Steady: Taylor-Hood velocity-pressure (DOFs incl. the "
        "pressure), continuation in n; its one solve serves every pressure and temperature.  Transient: P2 "
        "displacement from t = 0 to 1 h, one solve per pressure (and per temperature), so a study of N_P "
        f"pressures costs N_P times the transient column.  {context}.*",
        markdown_table(header, table),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller meshes and sweeps; a few minutes")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    parser.add_argument("--workdir", default=None, help="keep meshes (and the workflow clone) here; default: temporary")
    parser.add_argument("--ranks", type=int, default=2, help="ranks of the parallel runs (default 2)")
    parser.add_argument("--mechanics-3d-large", action="store_true",
                        help="also solve the mechanics on the large 3D mesh (skipped by default)")
    parser.add_argument("--transient-large", action="store_true",
                        help="section steady: also run the transient on the 400 um and paper-mesh 3D cells (~1 h each)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds after which one solve (or warm-up) is killed and shown as n/a "
                             "(default 1800, 120 with --quick)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so running solves are killed too
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {SECTIONS}")

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="lisse-bench-")
    workdir = Path(args.workdir or temporary.name)
    workdir.mkdir(parents=True, exist_ok=True)
    timeout = args.timeout or (120.0 if args.quick else 1800.0)  # the 3D creep transient takes ~15 min
    bench = Bench(workdir, args.quick, args.ranks, args.mechanics_3d_large, timeout)
    bench.transient_large = args.transient_large
    functions = {"geometry": section_geometry, "ranks": section_ranks, "workflow": section_workflow,
                 "sweep": section_sweep, "steady": section_steady, "design": section_design}
    parts, durations = [f"## lisse benchmarks ({'quick' if args.quick else 'full'})"], []
    for section in SECTIONS:
        if section not in sections:
            continue
        say(f"section {section}")
        t0 = time.perf_counter()
        context = f"{machine()}, git {git_hash()}" + (", --quick" if args.quick else "")
        parts.append(functions[section](bench, context))
        durations.append(f"{section} {time.perf_counter() - t0:.0f} s")
    parts.append(f"*Section wall times (including meshing and warm-ups): {', '.join(durations)}.  Timings on a "
                 "shared machine are indicative.*")
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.output:
        Path(args.output).write_text(text)
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
