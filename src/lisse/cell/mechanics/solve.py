"""Creep of the Li from t = 0 to t_eval: the time loop, the summary, the result and its files."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import pandas as pd
import ufl
from dolfinx import fem, io
from mpi4py import MPI

from lisse.cell.interface import InterfaceProfile
from lisse.cell.mechanics.forms import stress_tensor_3d
from lisse.cell.mechanics.parameters import (
    MechanicsConvergenceError,
    MechanicsParameters,
    planar_von_mises,
)
from lisse.cell.mechanics.problem import LiCreepProblem
from lisse.cell.mechanics.sampling import SORT_KEYS, InterfaceSampler
from lisse.cell.mesh import load_cell_body
from lisse.core.mesh import Body, assemble_scalar, write_vtu
from lisse.core.outputs import write_outputs

logger = logging.getLogger(__name__)


@dataclass
class MechanicsResult:
    displacement: fem.Function  # u at t_eval (m)
    interface: pd.DataFrame  # rows per interface sampling point and output time, sorted by (time, s); on every rank
    summary: dict  # JSON-serialisable scalars
    parameters: MechanicsParameters
    _problem: LiCreepProblem = field(repr=False, default=None)
    _snapshots: list = field(repr=False, default_factory=list)  # (t, u array, stress array, creep strain array)

    def write_vtu(self, path: str | Path) -> None:
        """The von Mises stress at t_eval (DG1) as one ``.vtu``, for the workflow's field maps."""
        problem = self._problem
        von_mises = fem.Function(problem.Q, name="von_mises")
        deviator = ufl.dev(stress_tensor_3d(problem.stress))
        von_mises.interpolate(fem.Expression(ufl.sqrt(1.5 * ufl.inner(deviator, deviator)),
                                             problem.Q.element.interpolation_points))
        write_vtu(path, {"von_mises": von_mises})

    def write_fields(self, path: str | Path) -> None:
        """Write displacement, von Mises stress, hydrostatic pressure and equivalent creep strain
        at every output time (and t_eval) as a VTX (ADIOS2 ``.bp``) directory for ParaView.

        All fields are written in DG1 (vector DG1 for the displacement): VTX needs one element
        family for all fields, and DG1 is where the stresses live.
        """
        problem = self._problem
        mesh = problem.mesh
        Q = problem.Q
        W = fem.functionspace(mesh, ("DG", 1, (mesh.geometry.dim,)))
        displacement = fem.Function(W, name="displacement")
        von_mises = fem.Function(Q, name="von_mises_stress")
        pressure = fem.Function(Q, name="hydrostatic_pressure")
        creep_strain = fem.Function(Q, name="equivalent_creep_strain")
        sigma = stress_tensor_3d(problem.stress)
        deviator = ufl.dev(sigma)
        von_mises_expr = fem.Expression(ufl.sqrt(1.5 * ufl.inner(deviator, deviator)), Q.element.interpolation_points)
        pressure_expr = fem.Expression(-ufl.tr(sigma) / 3.0, Q.element.interpolation_points)
        u_saved, stress_saved = problem.u.x.array.copy(), problem.stress.x.array.copy()
        with io.VTXWriter(mesh.comm, str(path), [displacement, von_mises, pressure, creep_strain], engine="BP4") as vtx:
            for t, u_array, stress_array, creep_array in self._snapshots:
                problem.u.x.array[:] = u_array
                problem.stress.x.array[:] = stress_array
                displacement.interpolate(problem.u)
                von_mises.interpolate(von_mises_expr)
                pressure.interpolate(pressure_expr)
                creep_strain.x.array[:] = creep_array
                vtx.write(t)
        problem.u.x.array[:], problem.stress.x.array[:] = u_saved, stress_saved



def solve_mechanics(body: Body, profile: InterfaceProfile | None, params: MechanicsParameters,
                    petsc_options: dict | None = None, prefix: str = "me_") -> MechanicsResult:
    """Creep of the Li body from t = 0 to ``t_eval``; interface tables at the output times and t_eval.

    ``petsc_options`` override the linear-solver preset (MUMPS LU, or GMRES + GAMG above
    :data:`DIRECT_SOLVER_MAX_DOFS_3D` in 3D; see :func:`lisse.core.solvers.linear_options`; keys without the prefix).
    Raises :class:`MechanicsConvergenceError` if a time step keeps failing.
    """
    t_start = time.perf_counter()
    problem = LiCreepProblem(body, params, petsc_options, prefix)
    comm = problem.comm
    sampler = InterfaceSampler(problem, profile)

    # Length-weighted segment means of sigma_e, assembled over the DG1 trace
    deviator = ufl.dev(stress_tensor_3d(problem.stress))
    von_mises = ufl.sqrt(1.5 * ufl.inner(deviator, deviator))
    segment_length = {name: assemble_scalar(comm, 1.0 * body.ds(name)) for name in problem.segments}
    segment_integral = {name: fem.form(von_mises * body.ds(name)) for name in problem.segments}

    tables, snapshots, stats_by_time = [], [], {}
    record_times = {params.t_eval, *(t for t in params.output_times if 0.0 <= t < params.t_eval)}

    def record(t: float) -> None:
        table = sampler.sample(t)
        tables.append(table)
        snapshots.append((t, problem.u.x.array.copy(), problem.stress.x.array.copy(),
                          _equivalent_creep_strain_dg1(problem)))
        worst = int(table["von_mises_Pa"].to_numpy().argmax())
        stats_by_time[t] = {
            "max_von_mises_Pa": float(table["von_mises_Pa"].iloc[worst]),
            "max_von_mises_at": {"segment": str(table["segment"].iloc[worst]),
                                 **{k: float(table[k].iloc[worst]) for k in ("s_m", "x_m", "y_m", "z_m") if k in table}},
            "segment_mean_von_mises_Pa": {name: assemble_scalar(comm, segment_integral[name]) / segment_length[name]
                                          for name in problem.segments},
            "interface_mean_von_mises_Pa": sum(assemble_scalar(comm, segment_integral[n]) for n in problem.segments)
                                           / sum(segment_length.values()),
            "max_normal_gap_m": float(table["normal_gap_m"].abs().max()),
            "max_abs_tangential_traction_Pa": float(table["tangential_traction_Pa"].abs().max()),
        }

    # ---- t = 0: the instantaneous elastic response to the stack pressure
    converged, iterations, norm, reason = problem.newton(0.0)
    if not converged:
        raise MechanicsConvergenceError(0, 0.0, 0.0, reason, norm)
    problem.commit()
    elastic_iterations = iterations
    if 0.0 in record_times:
        record(0.0)

    # ---- creep: backward Euler with adaptive, geometrically growing steps
    t, dt_nominal, step = 0.0, float(params.initial_time_step), 0
    # steps that each succeed after a halving could otherwise shrink dt forever
    dt_min = params.initial_time_step * 0.5**params.max_time_step_cutbacks
    u_committed = problem.u.x.array.copy()
    increment, dt_previous = None, None
    step_iterations, step_sizes, cutbacks_total = [], [], 0
    relative_residuals, roundoff_steps = [norm / problem.force_scale], 0
    for stop in params.stops:
        while t < stop * (1.0 - 1e-12):
            dt = min(dt_nominal, stop - t)
            if stop - (t + dt) < 0.25 * dt:  # no sliver step just before a stop
                dt = stop - t
            t_new = stop if dt == stop - t else t + dt
            for attempt in range(params.max_time_step_cutbacks + 1):
                problem.gap.value = -params.recession_at(t_new)
                problem.u.x.array[:] = u_committed
                if increment is not None:  # predictor: extrapolate the last increment (steady creep is linear in t)
                    problem.u.x.array[:] += (dt / dt_previous) * increment
                converged, iterations, norm, reason = problem.newton(dt)
                if converged:
                    break
                cutbacks_total += 1
                if comm.rank == 0:
                    logger.info("mechanics: step %d at t = %.4g s with dt = %.3e s failed (%s); halving",
                                step + 1, t, dt, reason)
                dt = 0.5 * dt
                t_new = t + dt
                if dt < dt_min:
                    raise MechanicsConvergenceError(step + 1, t, 2.0 * dt, f"{reason}; dt fell below initial_time_step "
                                                    f"/ 2^max_time_step_cutbacks = {dt_min:.2e} s", norm)
            else:
                raise MechanicsConvergenceError(step + 1, t, 2.0 * dt, reason, norm)
            problem.commit()
            step += 1
            increment = problem.u.x.array - u_committed
            u_committed = problem.u.x.array.copy()
            dt_previous = dt
            step_iterations.append(iterations)
            step_sizes.append(dt)
            relative_residuals.append(norm / problem.force_scale)
            roundoff_steps += "round-off" in reason
            if comm.rank == 0:
                logger.info("mechanics: step %3d  t = %.4e s  dt = %.3e s  %d Newton its  |R| = %.2e",
                            step, t_new, dt, iterations, norm)
            if attempt > 0:
                dt_nominal = dt
            elif iterations <= params.fast_newton_iterations and dt >= dt_nominal * (1.0 - 1e-9):
                dt_nominal = dt * params.time_step_growth
            t = t_new
        if stop == params.recession_ramp_time:
            increment = None  # the recession rate jumps to zero: do not extrapolate across the kink
        if stop in record_times:
            record(stop)

    # ---- summary
    table = pd.concat(tables, ignore_index=True).sort_values(["time_s"] + SORT_KEYS[problem.tdim],
                                                             kind="stable").reset_index(drop=True)
    final = stats_by_time[params.t_eval]
    owned_points = problem.n_points_per_cell * problem.mesh.topology.index_map(problem.mesh.topology.dim).size_local
    body_von_mises = problem.update.equivalent_stress[:owned_points]
    local_max = (float(body_von_mises.max(initial=-np.inf)), comm.rank)
    body_max, body_rank = comm.allreduce(local_max, op=MPI.MAXLOC)
    where = problem.point_coordinates[int(body_von_mises.argmax())] if comm.rank == body_rank else None
    where = comm.bcast(where, root=body_rank)
    wall_time = comm.allreduce(time.perf_counter() - t_start, op=MPI.MAX)
    if problem.tdim == 3:
        segment_measure = {"segment_area_m2": segment_length}
        # both lateral edges free to move with zero net force: uniaxial, sigma_e = P throughout
        uniaxial = params.back_condition == "uniform_edge"
        planar_reference = {"elastic": params.stack_pressure if uniaxial else planar_von_mises(params, False),
                            "relaxed": params.stack_pressure if uniaxial else planar_von_mises(params, True)}
    else:
        segment_measure = {"segment_length_m": segment_length}
        planar_reference = {"elastic": planar_von_mises(params, relaxed=False),
                            "relaxed": planar_von_mises(params, relaxed=True)}
    summary = {
        "stack_pressure_Pa": float(params.stack_pressure),
        "temperature_K": float(params.temperature),
        "creep_rate_s": params.creep_rate,
        "t_eval_s": float(params.t_eval),
        "max_von_mises_Pa": final["max_von_mises_Pa"],
        "max_von_mises_at": final["max_von_mises_at"],
        "segment_mean_von_mises_Pa": final["segment_mean_von_mises_Pa"],
        "interface_mean_von_mises_Pa": final["interface_mean_von_mises_Pa"],
        **segment_measure,
        "max_normal_gap_m": final["max_normal_gap_m"],
        "max_abs_tangential_traction_Pa": final["max_abs_tangential_traction_Pa"],
        "body_max_von_mises_Pa": body_max,
        "body_max_von_mises_at": dict(zip(("x_m", "y_m", "z_m"), map(float, where))),
        "lateral_edge_displacement_m": _edge_displacement(problem, 0),
        "back_edge_displacement_m": _edge_displacement(problem, 1),
        "linear_iterations": int(problem.linear_iterations),
        "planar_reference_von_mises_Pa": planar_reference,
        "by_time": {f"{t:g}": stats for t, stats in sorted(stats_by_time.items())},
        "dofs": int(problem.n_dofs),
        "cells": int(body.global_size()),
        "interface_sampling_points": int(len(table) // len(record_times)),
        "element_degree": int(params.element_degree),
        "time_steps": step,
        "time_step_cutbacks": cutbacks_total,
        "elastic_newton_iterations": int(elastic_iterations),
        "newton_iterations": int(elastic_iterations + sum(step_iterations)),
        "newton_iterations_per_step": [int(i) for i in step_iterations],
        "time_step_sizes_s": [float(d) for d in step_sizes],
        "max_relative_residual": float(max(relative_residuals)),  # |R| / (P |li_top|) at acceptance
        "steps_converged_at_roundoff": int(roundoff_steps),
        "ksp_type": problem.ksp.getType(),
        "pc_type": problem.ksp.getPC().getType(),
        "wall_time_s": wall_time,
        "n_ranks": comm.size,
    }
    if comm.rank == 0:
        at = final["max_von_mises_at"]
        logger.info("mechanics: P %.4g Pa, %d dofs, %d steps, %d Newton its, max sigma_e %.4g Pa at %s (%s), "
                    "max gap %.2e m, %.2f s", params.stack_pressure, problem.n_dofs, step, summary["newton_iterations"],
                    summary["max_von_mises_Pa"], ", ".join(f"{k[0]} = {v:.4g} m" for k, v in at.items() if k != "segment"),
                    at["segment"], summary["max_normal_gap_m"], wall_time)
    return MechanicsResult(displacement=problem.u, interface=table, summary=summary, parameters=params,
                           _problem=problem, _snapshots=snapshots)


def _edge_displacement(problem: LiCreepProblem, index: int = 0) -> float | None:
    """U_j, the uniform normal displacement of uniform edge ``index`` (li_right, then li_back; None if absent)."""
    if index >= len(problem.edge_bcs):
        return None
    dofs = problem.edge_bcs[index].dof_indices()[0]
    local = problem.u.x.array[dofs]
    values = problem.comm.allgather(local[:1].tolist())
    values = [v for chunk in values for v in chunk]
    return float(values[0]) if values else None


def _equivalent_creep_strain_dg1(problem: LiCreepProblem) -> np.ndarray:
    """DG1 coefficients of the equivalent creep strain (from its quadrature-point values)."""
    creep_strain = fem.Function(problem.Q)
    problem._to_dg1(creep_strain, problem.equivalent_creep_strain_old)
    return creep_strain.x.array.copy()


# --------------------------------------------------------------------------------------
# File-level driver (the workflow step)
# --------------------------------------------------------------------------------------


def run_mechanics(mesh_path: str | Path, geometry_json_path: str | Path, params: MechanicsParameters,
                  petsc_options: dict | None, interface_csv: str | Path, summary_json: str | Path,
                  fields_dir: str | Path | None, vtu_path: str | Path | None = None,
                  comm: MPI.Comm = MPI.COMM_WORLD, prefix: str = "me_") -> MechanicsResult:
    """Load a cell mesh, solve, and write the interface CSV, the summary JSON and the VTX fields.

    Nothing is written unless the solve succeeded; each output is written under a temporary
    name and renamed into place, so a failure leaves no partial output.
    """
    body, profile = load_cell_body(mesh_path, geometry_json_path, "li", comm)
    result = solve_mechanics(body, profile, params, petsc_options=petsc_options, prefix=prefix)
    result.summary["mesh"] = str(mesh_path)
    result.summary["geometry"] = str(geometry_json_path)
    result.summary["parameters"] = asdict(params)
    result.summary["petsc_options"] = dict(petsc_options or {})

    write_outputs(result, comm, interface_csv, summary_json, fields_dir, vtu_path)
    return result
