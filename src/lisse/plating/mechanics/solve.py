"""Plating to the end time: the time loop, the history and summary, the result and its files."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import pandas as pd
from dolfinx import fem, io
from mpi4py import MPI

from lisse.core.creep import equivalent_stress
from lisse.core.mesh import Body, load_mesh, write_vtu
from lisse.core.outputs import write_outputs
from lisse.plating.fracture import (
    GRIFFITH_GEOMETRY_FACTOR,
    LLZO_CLEAVAGE_STRENGTH,
    griffith_critical_stress,
    whisker_stress,
)
from lisse.plating.mechanics.constitutive import principal_max
from lisse.plating.mechanics.parameters import (
    PlatingConvergenceError,
    PlatingParameters,
    confined_pressure,
)
from lisse.plating.mechanics.problem import LI, PlatingProblem
from lisse.plating.mechanics.sampling import TipSampler, axis_top_node

logger = logging.getLogger(__name__)

SQRT2 = math.sqrt(2.0)

HISTORY_COLUMNS = (
    "time_s",
    "plated_thickness_m",
    "growth_strain",
    "p_max_Pa",  # max over Li cells of p = -tr(sigma)/3 (Cauchy, compression positive)
    "p_max_x_m",
    "p_max_y_m",
    "p_mean_Pa",  # area mean over the Li
    "p_pit_mean_Pa",  # area mean over the Li in the pit (NaN without a pit)
    "sigma1_tip_Pa",  # max principal stress at the pit tip, LLZO side (max over the pit_tip samples)
    "sigma1_tip_mean_Pa",  # its length average over pit_tip
    "sigma1_llzo_max_Pa",  # max over all LLZO quadrature points
    "sigma1_llzo_max_x_m",
    "sigma1_llzo_max_y_m",
    "von_mises_li_max_Pa",
    "top_displacement_m",  # u_y of the Li top on the axis (x = 0, y = h0)
    "newton_iterations",
    "dt_s",
)



@dataclass
class PlatingResult:
    history: pd.DataFrame  # one row per time step (and t = 0)
    summary: dict  # JSON-serialisable
    parameters: PlatingParameters
    _problem: PlatingProblem = field(repr=False, default=None)
    _snapshots: list = field(repr=False, default_factory=list)  # (t, u array, stress (N,4), pressure, creep)

    def _dg1_fields(self):
        problem = self._problem
        mesh = problem.mesh
        Q1 = fem.functionspace(mesh, ("DG", 1))
        fields_ = {
            "material": fem.Function(Q1, name="material"),
            "pressure": fem.Function(Q1, name="pressure"),
            "max_principal_stress": fem.Function(Q1, name="max_principal_stress"),
            "von_mises": fem.Function(Q1, name="von_mises"),
            "equivalent_viscous_strain": fem.Function(Q1, name="equivalent_viscous_strain"),
            "displacement": fem.Function(fem.functionspace(mesh, ("DG", 1, (2,))), name="displacement"),
            "stress": fem.Function(fem.functionspace(mesh, ("DG", 1, (4,))), name="stress"),
        }
        return Q1, fields_

    def _fill(self, Q1, fields_, snapshot) -> None:
        problem = self._problem
        t, u_array, stress, pressure, creep = snapshot
        to_dof = np.linalg.inv(Q1.element.basix_element.tabulate(0, problem.quadrature_points)[0, :, :, 0])
        dofs = Q1.dofmap.list[: problem.n_cells]

        def set_points(function, values):
            per_cell = values.reshape(problem.n_cells, 3, -1)
            coefficients = np.einsum("dq,cqk->cdk", to_dof, per_cell)
            bs = function.function_space.dofmap.index_map_bs
            function.x.array.reshape(-1, bs)[dofs.ravel()] = coefficients.reshape(-1, bs)

        mandel = stress.copy()
        mandel[:, 3] *= SQRT2
        set_points(fields_["stress"], stress)
        set_points(fields_["max_principal_stress"], principal_max(stress))
        set_points(fields_["von_mises"], equivalent_stress(mandel))
        set_points(fields_["pressure"], np.repeat(pressure, 3))
        set_points(fields_["material"], problem.point_material.astype(float))
        set_points(fields_["equivalent_viscous_strain"], creep)
        saved = problem.u.x.array.copy()
        problem.u.x.array[:] = u_array
        fields_["displacement"].interpolate(problem.u)
        problem.u.x.array[:] = saved

    def write_fields(self, path: str | Path) -> None:
        """VTX (ADIOS2 .bp) directory for ParaView: every snapshot, all fields in DG1."""
        Q1, fields_ = self._dg1_fields()
        with io.VTXWriter(self._problem.comm, str(path), list(fields_.values()), engine="BP4") as vtx:
            for snapshot in self._snapshots:
                self._fill(Q1, fields_, snapshot)
                vtx.write(snapshot[0])

    def write_vtu(self, path: str | Path) -> None:
        """The final state as one serial .vtu (:func:`lisse.core.mesh.write_vtu`), for the workflow's figures."""
        Q1, fields_ = self._dg1_fields()
        self._fill(Q1, fields_, self._snapshots[-1])
        write_vtu(path, fields_)


# --------------------------------------------------------------------------------------
# The solve
# --------------------------------------------------------------------------------------


def body_of(mesh_data) -> Body:
    """The whole two-body mesh as one :class:`lisse.core.mesh.Body` (Li and LLZO share the displacement)."""
    groups = {name: group.tag for name, group in mesh_data.physical_groups.items() if group.dim == 1}
    present = set(mesh_data.facet_tags.values.tolist())
    present = set().union(*mesh_data.mesh.comm.allgather(present))
    return Body(mesh=mesh_data.mesh, facet_tags=mesh_data.facet_tags,
                facet_groups={name: tag for name, tag in groups.items() if tag in present})


def solve_plating(mesh_data, facts: dict, params: PlatingParameters, petsc_options: dict | None = None,
                  prefix: str = "pl_") -> PlatingResult:
    """Plate ``params.plated_thickness`` at ``params.current_density``; history and final summary.

    ``mesh_data`` is :func:`lisse.core.mesh.load_mesh`'s result for a plating mesh; ``facts`` its
    geometry JSON (at least ``li_thickness_m``; ``flaw_size_m``, ``pit_tip_radius_m`` and
    ``contact_half_width_m`` when present).  Raises :class:`PlatingConvergenceError`.
    """
    t_start = time.perf_counter()
    h0 = float(facts["li_thickness_m"])
    body = body_of(mesh_data)
    problem = PlatingProblem(body, mesh_data.cell_tags, h0, params, petsc_options, prefix)
    comm = problem.comm
    sampler = TipSampler(problem)
    top_node = axis_top_node(problem, h0)
    stress_dg1 = fem.Function(fem.functionspace(problem.mesh, ("DG", 1, (4,))))
    Q1 = fem.functionspace(problem.mesh, ("DG", 1))
    to_dof = np.linalg.inv(Q1.element.basix_element.tabulate(0, problem.quadrature_points)[0, :, :, 0])
    dg1_dofs = Q1.dofmap.list[: problem.n_cells]
    owned, li_pts = problem.owned_points, problem.li_points
    owned_cells = np.arange(problem.n_cells) < problem.n_owned
    li_cells = problem.cell_material == LI
    cell_area = problem.point_weights.reshape(-1, 3).sum(axis=1)
    velocity, t_end = params.plating_velocity, params.end_time

    rows, snapshots = [], []

    def global_max(values: np.ndarray, where: np.ndarray, coordinates: np.ndarray):
        local = values[where]
        value = float(local.max(initial=-np.inf))
        best, rank = comm.allreduce((value, comm.rank), op=MPI.MAXLOC)
        xy = coordinates[where][int(local.argmax())] if comm.rank == rank and len(local) else None
        return best, comm.bcast(xy, root=rank)

    def mean(values: np.ndarray, weights: np.ndarray) -> float:
        total = comm.allreduce(float(np.sum(values * weights)), op=MPI.SUM)
        weight = comm.allreduce(float(np.sum(weights)), op=MPI.SUM)
        return total / weight if weight > 0 else math.nan

    def record(t: float, iterations: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Append a history row; return the Cauchy stress per point and the pressure per cell."""
        stress, pressure = problem.cauchy_stress()
        coefficients = np.einsum("dq,cqk->cdk", to_dof, stress.reshape(problem.n_cells, 3, 4))
        stress_dg1.x.array.reshape(-1, 4)[dg1_dofs.ravel()] = coefficients.reshape(-1, 4)
        s1 = principal_max(stress)
        mandel = stress.copy()
        mandel[:, 3] *= SQRT2
        tip_max, tip_mean = sampler.sample(stress_dg1)
        p_max, p_at = global_max(pressure, owned_cells & li_cells, problem.cell_centroids)
        s1_max, s1_at = global_max(s1, owned & ~li_pts, problem.point_coordinates)
        vm_max, _ = global_max(equivalent_stress(mandel), owned & li_pts, problem.point_coordinates)
        top = float(problem.u.x.array[2 * top_node + 1]) if top_node is not None else -np.inf
        top = comm.allreduce(top, op=MPI.MAX)
        pit = owned_cells & problem.pit_cell
        rows.append({
            "time_s": t, "plated_thickness_m": velocity * t, "growth_strain": velocity * t / h0,
            "p_max_Pa": p_max, "p_max_x_m": float(p_at[0]), "p_max_y_m": float(p_at[1]),
            "p_mean_Pa": mean(pressure, cell_area * (owned_cells & li_cells)),
            "p_pit_mean_Pa": (mean(pressure, cell_area * pit) if comm.allreduce(int(pit.any()), op=MPI.MAX)
                              else math.nan),
            "sigma1_tip_Pa": tip_max, "sigma1_tip_mean_Pa": tip_mean,
            "sigma1_llzo_max_Pa": s1_max if problem.has_llzo else math.nan,
            "sigma1_llzo_max_x_m": float(s1_at[0]) if problem.has_llzo else math.nan,
            "sigma1_llzo_max_y_m": float(s1_at[1]) if problem.has_llzo else math.nan,
            "von_mises_li_max_Pa": vm_max,
            "top_displacement_m": top if math.isfinite(top) else math.nan,
            "newton_iterations": iterations, "dt_s": dt,
        })
        return stress, pressure

    # ---- t = 0: stress free
    problem.set_growth(0.0)
    problem.update_constitutive(0.0)
    problem.commit()
    record(0.0, 0, 0.0)

    stops = params.stops
    t, step = 0.0, 0
    dt_nominal = t_end / params.initial_steps
    dt_max = params.max_step_fraction * t_end
    u_committed = problem.u.x.array.copy()
    increment, dt_previous = None, None
    step_iterations, cutbacks_total = [], 0
    for stop in stops:
        while t < stop * (1.0 - 1e-12):
            dt = min(dt_nominal, dt_max, stop - t)
            if stop - (t + dt) < 0.25 * dt:  # no sliver step before a stop
                dt = stop - t
            for attempt in range(params.max_time_step_cutbacks + 1):
                t_new = stop if abs(t + dt - stop) <= 1e-12 * stop else t + dt
                problem.set_growth(velocity * t_new / h0)
                problem.u.x.array[:] = u_committed
                if increment is not None:  # predictor: extrapolate the last increment
                    problem.u.x.array[:] += (dt / dt_previous) * increment
                converged, iterations, norm, reason = problem.newton(dt)
                if converged:
                    break
                cutbacks_total += 1
                if comm.rank == 0:
                    logger.info("plating: step %d at t = %.4g s with dt = %.3e s failed (%s); halving",
                                step + 1, t, dt, reason)
                dt *= 0.5
            else:
                raise PlatingConvergenceError(step + 1, t, 2.0 * dt, reason, norm)
            problem.commit()
            step += 1
            increment = problem.u.x.array - u_committed
            u_committed = problem.u.x.array.copy()
            dt_previous = dt
            step_iterations.append(iterations)
            stress, pressure = record(t_new, iterations, dt)
            if comm.rank == 0:
                row = rows[-1]
                logger.info("plating: step %3d  t = %.4e s  dt = %.3e s  %d Newton its  |R| = %.2e  "
                            "p_max %.4g Pa  sigma1_tip %.4g Pa", step, t_new, dt, iterations, norm,
                            row["p_max_Pa"], row["sigma1_tip_Pa"])
            if attempt > 0:
                dt_nominal = dt
            elif iterations <= params.fast_newton_iterations and dt >= min(dt_nominal, dt_max) * (1.0 - 1e-9):
                dt_nominal = dt * params.time_step_growth
            t = t_new
        snapshots.append((t, problem.u.x.array.copy(), stress, pressure, problem.equivalent_viscous_strain.copy()))

    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    final = rows[-1]
    wall_time = comm.allreduce(time.perf_counter() - t_start, op=MPI.MAX)
    flaw = facts.get("flaw_size_m")
    rho = facts.get("pit_tip_radius_m")
    summary = {
        "constraint": params.constraint,
        "kinematics": params.kinematics,
        "current_density_A_m2": float(params.current_density),
        "current_density_mA_cm2": float(params.current_density) / 10.0,
        "plating_velocity_m_s": velocity,
        "plated_thickness_m": float(params.plated_thickness),
        "final_growth_strain": velocity * t_end / h0,
        "end_time_s": t_end,
        "li_thickness_m": h0,
        "flaw_size_m": flaw,
        "pit_tip_radius_m": rho,
        "p_max_Pa": final["p_max_Pa"],
        "p_max_at": {"x_m": final["p_max_x_m"], "y_m": final["p_max_y_m"]},
        "p_max_over_time_Pa": float(history["p_max_Pa"].max()),
        "p_mean_Pa": final["p_mean_Pa"],
        "p_pit_mean_Pa": final["p_pit_mean_Pa"],
        "sigma1_tip_Pa": final["sigma1_tip_Pa"],
        "sigma1_tip_mean_Pa": final["sigma1_tip_mean_Pa"],
        "sigma1_tip_max_over_time_Pa": float(history["sigma1_tip_Pa"].max()),
        "sigma1_llzo_max_Pa": final["sigma1_llzo_max_Pa"],
        "sigma1_llzo_max_at": {"x_m": final["sigma1_llzo_max_x_m"], "y_m": final["sigma1_llzo_max_y_m"]},
        "von_mises_li_max_Pa": final["von_mises_li_max_Pa"],
        "top_displacement_m": final["top_displacement_m"],
        "bulk_modulus_li_Pa": problem.bulk_li,
        "confined_pressure_bound_Pa": float(confined_pressure(velocity * t_end / h0, problem.bulk_li,
                                                              params.kinematics)),
        "boundary_conditions": problem.constrained,
        "dofs": int(problem.n_dofs),
        "cells": int(body.global_size()),
        "time_steps": step,
        "time_step_cutbacks": cutbacks_total,
        "newton_iterations": int(sum(step_iterations)),
        "newton_iterations_per_step": [int(i) for i in step_iterations],
        "wall_time_s": wall_time,
        "n_ranks": comm.size,
    }
    if flaw is not None and rho is not None and math.isfinite(final["sigma1_tip_Pa"]):
        # Creager-Paris: the notch-root stress of a slender blunt notch, sigma_tip = 2 K_I / sqrt(pi rho)
        k_estimate = 0.5 * math.sqrt(math.pi * rho) * final["sigma1_tip_Pa"]
        summary.update({
            "griffith_critical_stress_Pa": float(griffith_critical_stress(flaw)),
            "cleavage_strength_Pa": LLZO_CLEAVAGE_STRENGTH,
            "stress_intensity_estimate_Pa_sqrt_m": k_estimate,
            "griffith_equivalent_stress_Pa": k_estimate / (GRIFFITH_GEOMETRY_FACTOR * math.sqrt(math.pi * flaw)),
        })
    if "contact_half_width_m" in facts:
        summary["whisker_stress_Pa"] = float(whisker_stress(velocity, facts["contact_half_width_m"]))
    if comm.rank == 0:
        logger.info("plating: %s, i = %.4g A/m2, %d dofs, %d steps, %d Newton its, p_max %.4g Pa, sigma1_tip %.4g Pa, "
                    "%.2f s", params.constraint, params.current_density, problem.n_dofs, step,
                    summary["newton_iterations"], final["p_max_Pa"], final["sigma1_tip_Pa"], wall_time)
    return PlatingResult(history=history, summary=summary, parameters=params, _problem=problem, _snapshots=snapshots)


# --------------------------------------------------------------------------------------
# File-level driver (the workflow step)
# --------------------------------------------------------------------------------------


def run_plating(mesh_path: str | Path, geometry_json: str | Path, params: PlatingParameters,
                history_csv: str | Path, summary_json: str | Path, fields_dir: str | Path | None,
                vtu_path: str | Path | None, petsc_options: dict | None = None, comm: MPI.Comm = MPI.COMM_WORLD,
                prefix: str = "pl_", provenance: dict | None = None) -> PlatingResult:
    """Load a plating mesh, solve, and write the history CSV, summary JSON, VTX fields and VTU.

    Nothing is written unless the solve succeeded; each output is written under a temporary
    name and renamed into place.
    """
    facts = json.loads(Path(geometry_json).read_text())
    result = solve_plating(load_mesh(mesh_path, comm), facts, params, petsc_options=petsc_options, prefix=prefix)
    result.summary.update({"mesh": str(mesh_path), "geometry": str(geometry_json), "parameters": asdict(params),
                           "petsc_options": dict(petsc_options or {})})
    if provenance is not None:
        result.summary["provenance"] = provenance
    write_outputs(result, comm, history_csv, summary_json, fields_dir, vtu_path, table="history")
    return result
