"""What the benchmarks share: study geometries and mesh sizings, cached meshes, and solves in
fresh processes.

Every measured solve runs in its own ``mpiexec -n N`` process through this file's worker
(``python benchmarks/_common.py CASE.json``), which calls the workflow's own file-level
drivers (``run_electrochemistry``, ``run_mechanics``, ``run_plating``; no field output) one
after the other and reports their summaries, wall times and the peak RSS summed over ranks.
One process per case makes the peak RSS that case's; several solves in one case share one
process (and its imports and JIT-compiled forms), as a coupled sweep driver would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UM = 1e-6
NM = 1e-9
MPIEXEC = Path(sys.executable).parent / "mpiexec"  # the venv's MPICH, the one mpi4py is built against


class SolveFailed(RuntimeError):
    """A benchmark case failed; ``reason`` is one line for a table cell."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(f"{reason}\n{detail}" if detail else reason)


def one_line(error: BaseException, limit: int = 110) -> str:
    """``Type: message`` on one line, short enough for a table cell."""
    text = f"{type(error).__name__}: {error}" if not isinstance(error, SolveFailed) else error.reason
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------
# Study geometries and mesh sizings, from the workflow's configs
# --------------------------------------------------------------------------------------


def study_config(name: str = "config") -> dict:
    """A study config of the checkout (``config`` = the default study, ``paper`` = production)."""
    import yaml

    return yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())


def config_sizing(name: str = "config", section: str = "mesh"):
    """A mesh section of a study config (``mesh``, or ``unit_cell_3d`` for the 3D unit cell) as a
    :class:`lisse.cell.geometry.MeshSizing`; None if the config has no such section."""
    from lisse.cell.geometry import MeshSizing

    mesh = study_config(name).get(section)
    if not mesh:
        return None
    return MeshSizing(mesh["interface_element_um"] * UM, mesh["growth_rate"], mesh["max_element_um"] * UM,
                      mesh["elements_per_fillet"])


def study_geometry(width_um: float, dimension: int = 2):
    """The default study's cell for a channel width (0 = planar): land, depth and fillet rules of
    ``config/config.yaml``.  ``dimension`` is passed only when it is not 2, so the 2D cells do not
    depend on the 3D field of :class:`lisse.cell.geometry.CellGeometry`."""
    from lisse.cell.geometry import CellGeometry

    g = study_config()["geometry"]
    extra = {} if dimension == 2 else {"dimension": dimension}
    common = dict(sse_half_thickness=g["sse_half_thickness_um"] * UM, li_thickness=g["li_thickness_um"] * UM,
                  planar_width=g["planar_width_um"] * UM)
    if width_um == 0:
        return CellGeometry(0.0, 0.0, 0.0, 0.0, **common, **extra)
    fillet_um = min(g["fillet_radius_max_um"], g["fillet_radius_to_width_ratio"] * width_um)
    return CellGeometry(width_um * UM, g["land_to_channel_width_ratio"] * width_um * UM, g["channel_depth_um"] * UM,
                        fillet_um * UM, **common, **extra)


# --------------------------------------------------------------------------------------
# Meshes: generated once per work directory, in this process; the time is kept beside them
# --------------------------------------------------------------------------------------


def mesh(workdir: Path, name: str, geometry, sizing, write=None) -> dict:
    """Generate (or reuse) ``workdir/name.msh`` and its facts JSON; ``mesh_s`` is the generation
    time (from a side file if the mesh was already there).  ``write`` defaults to
    :func:`lisse.cell.geometry.write_geometry` (same signature: geometry, sizing, msh, json)."""
    if write is None:
        from lisse.cell.geometry import write_geometry as write
    msh, facts, timing = workdir / f"{name}.msh", workdir / f"{name}.json", workdir / f"{name}.mesh_s"
    if not msh.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        write(geometry, sizing, msh, facts)
        timing.write_text(f"{time.perf_counter() - t0:.6f}")
    mesh_s = float(timing.read_text()) if timing.exists() else None
    return {"msh": str(msh), "json": str(facts), "mesh_s": mesh_s}


def p2_dofs(msh: str | Path, group: str) -> int | None:
    """DOFs of a scalar P2 Lagrange space on physical group ``group`` of a mesh file (vertices +
    edges of its top-dimensional cells), counted without DOLFINx: enough to size a mesh before
    paying for a solve.  None if the group is missing."""
    import gmsh
    import numpy as np

    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.merge(str(msh))
        dim = gmsh.model.getDimension()
        tags = [tag for d, tag in gmsh.model.getPhysicalGroups(dim) if gmsh.model.getPhysicalName(d, tag) == group]
        if not tags:
            return None
        corners = dim + 1  # linear simplices: triangles / tetrahedra
        cells = []
        for entity in gmsh.model.getEntitiesForPhysicalGroup(dim, tags[0]):
            _, _, nodes = gmsh.model.mesh.getElements(dim, entity)
            cells += [n.reshape(-1, corners) for n in nodes]
    finally:
        gmsh.finalize()
    cells = np.concatenate(cells).astype(np.int64)
    pairs = np.sort(np.concatenate([cells[:, [a, b]] for a in range(corners) for b in range(a + 1, corners)]), axis=1)
    edges = np.unique(pairs[:, 0] * (int(cells.max()) + 1) + pairs[:, 1])
    return int(len(np.unique(cells)) + len(edges))


# --------------------------------------------------------------------------------------
# Solves in fresh processes
# --------------------------------------------------------------------------------------


def solve(kind: str, files: dict, parameters: dict, petsc_options: dict | None = None) -> dict:
    """One solve of a case: ``kind`` is electrochemistry | mechanics | plating, ``parameters``
    the SI fields of its parameter class."""
    return {"kind": kind, "msh": files["msh"], "json": files["json"], "parameters": parameters,
            "petsc_options": petsc_options or {}}


def spawn(solves: list[dict], ranks: int = 1, timeout: float | None = None) -> dict:
    """Run ``solves`` one after the other in one fresh ``mpiexec -n ranks`` process.

    Returns ``solves`` (per solve: ``kind``, ``seconds`` = wall time of the driver call,
    ``summary`` = the solver's summary), ``loop_s`` (first solve start to last solve end),
    ``process_s`` (the whole ``mpiexec`` command, imports included), ``rss_MB`` (peak RSS
    summed over ranks), ``rss_max_MB`` (the largest rank's) and ``ranks``.  Raises
    :class:`SolveFailed` with the error's last line, or when the process outlives ``timeout``
    seconds (it is then killed with its ranks).
    """
    with tempfile.TemporaryDirectory(prefix="lisse-bench-case-") as tmp:
        case, result = Path(tmp) / "case.json", Path(tmp) / "result.json"
        case.write_text(json.dumps({"solves": solves, "outdir": tmp, "result": str(result)}))
        command = [str(MPIEXEC), "-n", str(ranks), sys.executable, __file__, str(case)]
        t0 = time.perf_counter()
        # own session: a timeout kills mpiexec and every rank, nothing else
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise SolveFailed(f"timed out after {timeout:.0f} s") from None
        except BaseException:  # interrupted: do not leave the ranks running in their own session
            os.killpg(process.pid, signal.SIGKILL)
            raise
        process_s = time.perf_counter() - t0
        if process.returncode != 0 or not result.exists():
            lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith(" ")]
            reason = next((line for line in reversed(lines) if "Error" in line or "error" in line),
                          lines[-1] if lines else f"exit status {process.returncode}")
            raise SolveFailed(reason.strip(), stderr[-4000:])
        return {**json.loads(result.read_text()), "process_s": process_s}


def _run_one(solve: dict, outdir: Path, comm):
    """The workflow's file-level driver for one solve (interface/history CSV and summary, no fields)."""
    kind, parameters = solve["kind"], solve["parameters"]
    files = dict(summary_json=outdir / "summary.json", fields_dir=None, vtu_path=None, comm=comm)
    if kind == "electrochemistry":
        from lisse.cell.electrochemistry import ElectrochemistryParameters, run_electrochemistry

        return run_electrochemistry(solve["msh"], solve["json"], ElectrochemistryParameters.from_dict(parameters),
                                    solve["petsc_options"], interface_csv=outdir / "interface.csv", **files)
    if kind == "mechanics":
        from lisse.cell.mechanics import MechanicsParameters, run_mechanics

        return run_mechanics(solve["msh"], solve["json"], MechanicsParameters.from_dict(parameters),
                             solve["petsc_options"], interface_csv=outdir / "interface.csv", **files)
    if kind == "plating":
        from lisse.plating.mechanics import PlatingParameters, run_plating

        return run_plating(solve["msh"], solve["json"], PlatingParameters.from_dict(parameters),
                           history_csv=outdir / "history.csv", petsc_options=solve["petsc_options"], **files)
    raise ValueError(f"unknown solve kind {kind!r}")


def _worker(case_path: str) -> None:
    """Child process (every rank): run the case's solves; rank 0 writes the result JSON."""
    import resource

    import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py)

    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    case = json.loads(Path(case_path).read_text())
    reports = []
    comm.barrier()
    t_loop = time.perf_counter()
    for k, one in enumerate(case["solves"]):
        outdir = Path(case["outdir"]) / f"solve{k}"
        t0 = time.perf_counter()
        result = _run_one(one, outdir, comm)
        seconds = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
        reports.append({"kind": one["kind"], "seconds": seconds, "summary": result.summary})
        del result
        if comm.rank == 0:
            shutil.rmtree(outdir, ignore_errors=True)  # interface tables of big meshes add up
    loop_s = comm.allreduce(time.perf_counter() - t_loop, op=MPI.MAX)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_MB, rss_max_MB = comm.allreduce(rss, op=MPI.SUM), comm.allreduce(rss, op=MPI.MAX)
    if comm.rank == 0:
        Path(case["result"]).write_text(json.dumps({"solves": reports, "loop_s": loop_s, "rss_MB": rss_MB,
                                                    "rss_max_MB": rss_max_MB, "ranks": comm.size}, default=str))


# --------------------------------------------------------------------------------------
# Plain-text tables (the focused benchmarks)
# --------------------------------------------------------------------------------------


def print_table(title: str, rows: list[dict], columns: list[tuple[str, str, str]]) -> None:
    """Right-aligned plain-text table; ``columns`` are (label, row key, format spec)."""
    text = [[label for label, _, _ in columns]]
    for row in rows:
        text.append([format(row[key], spec) if row.get(key) is not None else "-" for _, key, spec in columns])
    widths = [max(len(line[k]) for line in text) for k in range(len(columns))]
    print(f"\n{title}")
    for n, line in enumerate(text):
        print(" | ".join(cell.rjust(width) for cell, width in zip(line, widths)))
        if n == 0:
            print("-+-".join("-" * width for width in widths))
    sys.stdout.flush()


if __name__ == "__main__":
    _worker(sys.argv[1])
