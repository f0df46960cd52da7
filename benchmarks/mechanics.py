"""Cost of the Li creep mechanics solve (t = 0 to t_eval = 1 h) per geometry and mesh.

    .venv/bin/python benchmarks/mechanics.py [--workdir DIR] [--pressure-MPa 1.0] [--only grid200]

One table, one core: every study geometry (planar, grids 50..400 um) on the default mesh
of config/config.yaml (interface 5 um, growth 1.3, max 100 um, 3 elements per fillet) and
the production mesh of config/paper.yaml (interface 2 um, growth 1.2, max 50 um, 4 per
fillet).  Target: the 200 um grid on the production mesh in under 60 s.

Every case runs in its own process (benchmarks/_common.py, so the peak RSS is that case's)
with a warm FFCx cache; meshes are generated once in the parent and are not timed (they are
a separate workflow step).  "wall" is the solve (setup + time stepping + post-processing) as
reported by the solver; "total" is the workflow's driver call, run_mechanics, which adds
reading the mesh and writing the interface table and summary.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import config_sizing, mesh, solve, spawn, study_geometry

SIZINGS = {"default": "config", "production": "paper"}  # mesh name -> study config holding its `mesh:` section
WIDTHS_UM = (0, 50, 100, 200, 400)  # 0 = planar


def run_case(files: dict, pressure: float) -> dict:
    """One solve in its own process (the workflow's driver, no field output); a table row."""
    report = spawn([solve("mechanics", files, {"stack_pressure": pressure})])
    s = report["solves"][0]["summary"]
    per_step = s["newton_iterations_per_step"]
    means = s["segment_mean_von_mises_Pa"]
    return {
        "cells": s["cells"], "dofs": s["dofs"], "steps": s["time_steps"], "cutbacks": s["time_step_cutbacks"],
        "newton": s["newton_iterations"], "its_mean": sum(per_step) / len(per_step), "its_max": max(per_step),
        "wall": s["wall_time_s"], "total": report["solves"][0]["seconds"], "rss_MB": report["rss_MB"],
        "floor": means.get("interface_channel_floor"), "land": means.get("interface_land_top"),
        "mean": s["interface_mean_von_mises_Pa"], "max": s["max_von_mises_Pa"],
        "max_at": s["max_von_mises_at"]["segment"].removeprefix("interface_"), "gap": s["max_normal_gap_m"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=None, help="where to keep the meshes (default: a temporary directory)")
    parser.add_argument("--pressure-MPa", type=float, default=1.0)
    parser.add_argument("--only", default=None, help="run only geometries whose name contains this")
    args = parser.parse_args()

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
        for sizing_name, config in SIZINGS.items():
            files = mesh(workdir, f"{label}_{sizing_name}", study_geometry(width), config_sizing(config))
            r = run_case(files, args.pressure_MPa * 1e6)
            floor = f"{r['floor'] / 1e6:9.4f}" if r["floor"] is not None else f"{'-':>9}"
            print(f"{label:<9} {sizing_name:<10} {r['cells']:>6} {r['dofs']:>6} {r['steps']:>5} {r['cutbacks']:>4} "
                  f"{r['newton']:>6} {r['its_mean']:>8.2f} {r['its_max']:>3} {r['wall']:>7.2f} {r['rss_MB']:>7.0f} | "
                  f"{floor} {r['land'] / 1e6:8.4f} {r['mean'] / 1e6:8.4f} {r['max'] / 1e6:7.4f} {r['max_at']:<12} "
                  f"{r['gap']:8.1e}", flush=True)


if __name__ == "__main__":
    main()
