"""Cost of the Study B plating solve per constraint case and current density.

    .venv/bin/python benchmarks/plating.py [--workdir DIR] [--flaw-nm 10] [--currents-mA-cm2 4 40 400 4000]
                                           [--cases top top_lateral none] [--ranks 1] [--sizing default]

One table: every (case, current) on the default plating mesh of the `plating:` config
defaults (a = 10 nm, tip radius 2 nm, Li 20 nm under a 300 nm CC tip, contact half-width
100 nm; elements 0.5 nm at the tip, 4 nm in the Li) or a finer one (--sizing fine: 0.3 nm,
2.5 nm).  Each case runs in its own ``mpiexec -n RANKS`` process (benchmarks/_common.py),
so the peak RSS (summed over ranks) is that case's, with a warm FFCx cache; the mesh is
generated once and not timed.  "wall" is the solve as reported by the solver (setup + time
stepping + post-processing); "total" is the workflow's driver call, run_plating, which adds
reading the mesh and writing the history table and summary.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import NM, mesh, solve, spawn

SIZINGS = {  # name -> PlatingMeshSizing arguments (metres)
    "default": dict(tip_element=0.5 * NM, li_element=4 * NM, growth_rate=1.3, max_element=100 * NM),
    "fine": dict(tip_element=0.3 * NM, li_element=2.5 * NM, growth_rate=1.2, max_element=60 * NM),
}


def run_case(files: dict, constraint: str, current: float, ranks: int) -> dict:
    """One solve in its own process (the workflow's driver, no field output); a table row."""
    report = spawn([solve("plating", files, {"constraint": constraint, "current_density": current})], ranks)
    s = report["solves"][0]["summary"]
    return {"cells": s["cells"], "dofs": s["dofs"], "steps": s["time_steps"], "cutbacks": s["time_step_cutbacks"],
            "newton": s["newton_iterations"], "its_max": max(s["newton_iterations_per_step"]),
            "wall": s["wall_time_s"], "total": report["solves"][0]["seconds"], "rss_MB": report["rss_MB"],
            "p": s["p_max_Pa"], "s1": s["sigma1_tip_Pa"], "ranks": s["n_ranks"]}


def plating_mesh(workdir: Path, flaw_nm: float, sizing_name: str) -> dict:
    from lisse.plating.geometry import PlatingGeometry, PlatingMeshSizing, write_plating_geometry

    return mesh(workdir, f"a{flaw_nm:g}_{sizing_name}", PlatingGeometry(flaw_size=flaw_nm * NM),
                PlatingMeshSizing(**SIZINGS[sizing_name]), write=write_plating_geometry)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=None, help="where to keep the meshes (default: a temporary directory)")
    parser.add_argument("--flaw-nm", type=float, default=10.0)
    parser.add_argument("--currents-mA-cm2", type=float, nargs="+", default=[4.0, 40.0, 400.0, 4000.0])
    parser.add_argument("--cases", nargs="+", default=["top", "top_lateral", "none"])
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--sizing", choices=sorted(SIZINGS), default="default")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lisse-bench-pl-"))
    workdir.mkdir(parents=True, exist_ok=True)
    files = plating_mesh(workdir, args.flaw_nm, args.sizing)
    header = (f"{'case':<12} {'i mA/cm2':>8} {'cells':>6} {'DOFs':>6} {'steps':>5} {'cuts':>4} {'Newton':>6} "
              f"{'max':>3} {'wall s':>7} {'total s':>7} {'RSS MB':>7} | {'p_max MPa':>10} {'sigma1_tip MPa':>14}")
    print(f"Study B plating, a = {args.flaw_nm:g} nm, {args.sizing} mesh, {args.ranks} rank(s); meshes in {workdir}")
    print(header)
    print("-" * len(header))
    for case_name in args.cases:
        for current in args.currents_mA_cm2:
            r = run_case(files, case_name, current * 10.0, args.ranks)
            print(f"{case_name:<12} {current:>8g} {r['cells']:>6} {r['dofs']:>6} {r['steps']:>5} {r['cutbacks']:>4} "
                  f"{r['newton']:>6} {r['its_max']:>3} {r['wall']:>7.2f} {r['total']:>7.2f} {r['rss_MB']:>7.0f} | "
                  f"{r['p'] / 1e6:>10.4g} {r['s1'] / 1e6:>14.4g}", flush=True)


if __name__ == "__main__":
    main()
