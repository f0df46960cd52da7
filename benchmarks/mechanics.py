"""Cost of the Li creep mechanics solve (t = 0 to t_eval = 1 h) per geometry and mesh.

    .venv/bin/python benchmarks/mechanics.py [--workdir DIR] [--pressure-MPa 1.0] [--only grid200]

One table, one core: every study geometry (planar, grids 50..400 um) on the default mesh
of config/config.yaml (interface 5 um, growth 1.3, max 100 um, 3 elements per fillet) and
the production mesh of config/paper.yaml (interface 2 um, growth 1.2, max 50 um, 4 per
fillet).  Target: the 200 um grid on the production mesh in under 60 s.

Every case runs in its own process (so the peak RSS is that case's) with a warm FFCx
cache; meshes are generated once in the parent and are not timed (they are a separate
workflow step).  "wall" is the solve (setup + time stepping + post-processing) as
reported by the solver; "total" adds reading the mesh.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UM = 1e-6
SIZINGS = {  # name -> MeshSizing arguments (metres)
    "default": dict(interface_element=5 * UM, growth_rate=1.3, max_element=100 * UM, elements_per_fillet=3),
    "production": dict(interface_element=2 * UM, growth_rate=1.2, max_element=50 * UM, elements_per_fillet=4),
}
WIDTHS_UM = (0, 50, 100, 200, 400)  # 0 = planar


def run_case(case: dict) -> dict:
    """Child process: load, solve, report (JSON on stdout)."""
    import resource

    from lisse.fem import load_body, load_mesh
    from lisse.interface import InterfaceProfile
    from lisse.mechanics import MechanicsParameters, solve_mechanics

    t0 = time.perf_counter()
    body = load_body(load_mesh(case["msh"]), "li")
    profile = InterfaceProfile.from_json(json.loads(Path(case["json"]).read_text())["interface_profile"])
    result = solve_mechanics(body, profile, MechanicsParameters(stack_pressure=case["pressure"]))
    total = time.perf_counter() - t0
    s = result.summary
    per_step = s["newton_iterations_per_step"]
    means = s["segment_mean_von_mises_Pa"]
    return {
        "cells": s["cells"], "dofs": s["dofs"], "steps": s["time_steps"], "cutbacks": s["time_step_cutbacks"],
        "newton": s["newton_iterations"], "its_mean": sum(per_step) / len(per_step), "its_max": max(per_step),
        "wall": s["wall_time_s"], "total": total, "rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "floor": means.get("interface_channel_floor"), "land": means.get("interface_land_top"),
        "mean": s["interface_mean_von_mises_Pa"], "max": s["max_von_mises_Pa"],
        "max_at": s["max_von_mises_at"]["segment"].removeprefix("interface_"), "gap": s["max_normal_gap_m"],
    }


def spawn(case: dict) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--case", json.dumps(case)], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def mesh(workdir: Path, name: str, width_um: float, sizing: dict) -> dict:
    """Generate (or reuse) a mesh of the study's geometry for this channel width."""
    from lisse.geometry import CellGeometry, MeshSizing, write_geometry

    if width_um == 0:
        geometry = CellGeometry(0.0, 0.0, 0.0, 0.0)
    else:  # land = channel width, depth 300 um, fillet min(2 um, w/20) (SCIENCE.md defaults)
        geometry = CellGeometry(width_um * UM, width_um * UM, 300 * UM, min(2.0, width_um / 20) * UM)
    msh, facts = workdir / f"{name}.msh", workdir / f"{name}.json"
    if not msh.exists():
        write_geometry(geometry, MeshSizing(**sizing), msh, facts)
    return {"msh": str(msh), "json": str(facts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help="where to keep the meshes (default: a temporary directory)")
    parser.add_argument("--pressure-MPa", type=float, default=1.0)
    parser.add_argument("--only", default=None, help="run only geometries whose name contains this")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lisse-bench-me-"))
    workdir.mkdir(parents=True, exist_ok=True)
    header = (f"{'geometry':<9} {'mesh':<10} {'cells':>6} {'DOFs':>6} {'steps':>5} {'cuts':>4} {'Newton':>6} "
              f"{'its/step':>8} {'max':>3} {'wall s':>7} {'RSS MB':>7} | {'floor MPa':>9} {'land MPa':>8} "
              f"{'mean MPa':>8} {'max MPa':>7} {'at':<12} {'gap m':>8}")
    print(f"Li creep mechanics, P = {args.pressure_MPa:g} MPa, t_eval = 1 h, one core; meshes in {workdir}")
    print(header)
    print("-" * len(header))
    for width in WIDTHS_UM:
        label = "planar" if width == 0 else f"grid{width}"
        if args.only and args.only not in label:
            continue
        for sizing_name, sizing in SIZINGS.items():
            case = {**mesh(workdir, f"{label}_{sizing_name}", width, sizing), "pressure": args.pressure_MPa * 1e6}
            r = spawn(case)
            floor = f"{r['floor'] / 1e6:9.4f}" if r["floor"] is not None else f"{'-':>9}"
            print(f"{label:<9} {sizing_name:<10} {r['cells']:>6} {r['dofs']:>6} {r['steps']:>5} {r['cutbacks']:>4} "
                  f"{r['newton']:>6} {r['its_mean']:>8.2f} {r['its_max']:>3} {r['wall']:>7.2f} {r['rss_MB']:>7.0f} | "
                  f"{floor} {r['land'] / 1e6:8.4f} {r['mean'] / 1e6:8.4f} {r['max'] / 1e6:7.4f} {r['max_at']:<12} "
                  f"{r['gap']:8.1e}", flush=True)


if __name__ == "__main__":
    main()
