"""Cost of the electrochemistry solve per geometry, and its scaling with problem size.

    .venv/bin/python benchmarks/electrochemistry.py [--workdir DIR] [--smallest-h 0.75]

Three tables, one core each:

1. every study geometry (planar, grids 10..400 um) at a coarse and a fine interface size;
2. the production mesh of the 200 um grid (interface 2 um, growth 1.2), target < 10 s;
3. the 200 um grid on near-uniform meshes from ~1e4 to ~1e6 DOFs with MUMPS LU and with
   CG + GAMG, to pick the DOF threshold between them (time per DOF should stay flat).

Every case runs in its own process (benchmarks/_common.py, so the peak RSS is that case's)
with a warm FFCx cache; meshes are generated once in the parent, timed apart (they are a
separate workflow step).  Times: assembly = residual + Jacobian assembly inside Newton;
linear = the rest of Newton (factorisation/solves, line search); solve = linearised initial
guess + Newton; total = the workflow's driver call, run_electrochemistry (mesh load + form
setup + solve + post-processing + interface table and summary written).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import UM, mesh, print_table, solve, spawn, study_geometry

I_APP = 5.0  # A/m² (0.5 mA/cm²)


def run_case(files: dict, petsc_options: dict | None = None) -> dict:
    """One solve in its own process (the workflow's driver, no field output); a table row."""
    report = spawn([solve("electrochemistry", files, {"applied_current_density": I_APP}, petsc_options)])
    s = report["solves"][0]["summary"]
    return {
        "mesh_s": files["mesh_s"], "cells": s["cells"], "dofs": s["dofs"], "newton": s["newton_iterations"],
        "ksp_its": s["linear_iterations"], "solver": f'{s["ksp_type"]}+{s["pc_type"]}', "setup": s["setup_time_s"],
        "assembly": s["assembly_time_s"], "linear": s["linear_solve_time_s"], "solve": s["solve_time_s"],
        "total": report["solves"][0]["seconds"], "rss_MB": report["rss_MB"], "V_cell": s["cell_voltage_V"],
        "floor_mean": s["segment_mean_current_density_A_m2"].get("interface_channel_floor"),
    }


COLUMNS = [
    ("geometry", "geometry", ""), ("h_interface um", "h_um", ".2f"), ("mesh s", "mesh_s", ".1f"), ("cells", "cells", "d"),
    ("DOFs", "dofs", "d"), ("Newton", "newton", "d"), ("solver", "solver", ""), ("assembly s", "assembly", ".3f"),
    ("linear s", "linear", ".3f"), ("solve s", "solve", ".3f"), ("total s", "total", ".3f"),
    ("peak RSS MB", "rss_MB", ".0f"), ("V_cell mV", "V_mV", ".4f"), ("floor i A/m2", "floor_mean", ".4f"),
]
SCALING_COLUMNS = [
    ("h um", "h_um", ".2f"), ("cells", "cells", "d"), ("DOFs", "dofs", "d"), ("Newton", "newton", "d"),
    ("KSP its", "ksp_its", "d"), ("solver", "solver", ""), ("assembly s", "assembly", ".3f"), ("linear s", "linear", ".3f"),
    ("solve s", "solve", ".3f"), ("solve us/DOF", "us_per_dof", ".2f"), ("peak RSS MB", "rss_MB", ".0f"),
]
MUMPS = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
GAMG = {"pc_type": "gamg"}  # selects the CG + GAMG preset of lisse.cell.electrochemistry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=None, help="mesh cache directory (default: a temporary one)")
    parser.add_argument("--smallest-h", type=float, default=0.75,
                        help="finest uniform element size (um) of the scaling table; 0.75 gives ~1.1e6 DOFs")
    args = parser.parse_args()

    from lisse.cell.geometry import MeshSizing

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lisse-bench-ec-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"electrochemistry benchmark, i_app = {I_APP} A/m², P2, one core; meshes in {workdir}")
    run_case(mesh(workdir, "warmup", study_geometry(200), MeshSizing(20 * UM)))  # fill the FFCx cache

    rows = []
    for width_um in [0, 10, 50, 100, 200, 400]:
        for label, h in [("coarse", 5 * UM), ("fine", 1 * UM)]:
            if width_um:
                h = min(h, width_um * UM / 5)  # at least ~2.5 elements across a half channel
            name = f"{'planar' if width_um == 0 else f'grid{width_um}'}_{label}"
            row = run_case(mesh(workdir, name, study_geometry(width_um), MeshSizing(h, 1.3, 100 * UM, 3)))
            rows.append({**row, "geometry": name.split("_")[0], "h_um": h / UM, "V_mV": row["V_cell"] * 1e3})
    print_table("1. geometries (default solver, growth 1.3, max element 100 um; floor i = mean channel-floor current)",
                rows, COLUMNS)

    production = run_case(mesh(workdir, "grid200_production", study_geometry(200),
                               MeshSizing(2 * UM, 1.2, 100 * UM, 3)))
    production.update(geometry="grid200", h_um=2.0, V_mV=production["V_cell"] * 1e3)
    print_table("2. production mesh, 200 um grid (interface 2 um, growth 1.2)", [production], COLUMNS)
    verdict = "PASS" if production["total"] < 10.0 else "FAIL"
    print(f"   target total < 10 s on one core: {production['total']:.2f} s  {verdict}")

    rows = []
    for h_um in [8.0, 4.0, 2.4, 1.4, 1.0, 0.75]:  # near-uniform meshes, ~1e4 to ~1.1e6 DOFs (P2)
        if h_um < args.smallest_h:
            continue
        files = mesh(workdir, f"grid200_uniform_{h_um:g}", study_geometry(200),
                     MeshSizing(h_um * UM, 1.3, h_um * UM, 3))
        for options in (MUMPS, GAMG):
            row = run_case(files, options)
            rows.append({**row, "h_um": h_um, "us_per_dof": row["solve"] / row["dofs"] * 1e6})
    print_table("3. scaling on the 200 um grid, near-uniform meshes (solve = initial guess + Newton)", rows, SCALING_COLUMNS)


if __name__ == "__main__":
    main()
