"""Creep of the Li from t = 0 to t_eval: the time loop, the summary, the result and its files."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
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
from lisse.cell.mechanics.sampling import MOTION_COLUMNS, SORT_KEYS, InterfaceSampler
from lisse.core.mesh import Body, assemble_scalar, write_vtu
from lisse.core.stepping import LinearPredictor, StepOutcome, SteppingRecord, integrate
from lisse.core.units import MPA, UM

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
        von_mises = fem.Function(problem.points.dg1, name="von_mises")
        deviator = ufl.dev(stress_tensor_3d(problem.stress))
        von_mises.interpolate(fem.Expression(ufl.sqrt(1.5 * ufl.inner(deviator, deviator)),
                                             problem.points.dg1.element.interpolation_points))
        write_vtu(path, {"von_mises": von_mises})

    def write_fields(self, path: str | Path) -> None:
        """Write displacement, von Mises stress, hydrostatic pressure and equivalent creep strain
        at every output time (and t_eval) as a VTX (ADIOS2 ``.bp``) directory for ParaView.

        All fields are written in DG1 (vector DG1 for the displacement): VTX needs one element
        family for all fields, and DG1 is where the stresses live.
        """
        problem = self._problem
        mesh = problem.mesh
        Q = problem.points.dg1
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



class InterfaceStatistics:
    """The interface numbers of a summary: segment means of sigma_e assembled over the DG1 trace of
    the problem's stress, and the maxima of an interface table."""

    def __init__(self, problem):
        self.problem = problem
        comm, body = problem.comm, problem.body
        deviator = ufl.dev(stress_tensor_3d(problem.stress))
        von_mises = ufl.sqrt(1.5 * ufl.inner(deviator, deviator))
        self.segment_measure = {name: assemble_scalar(comm, 1.0 * body.ds(name)) for name in problem.segments}
        self.segment_integral = {name: fem.form(von_mises * body.ds(name)) for name in problem.segments}

    def of(self, table: pd.DataFrame, motion: str = "displacement") -> dict:
        comm = self.problem.comm
        integrals = {name: assemble_scalar(comm, form) for name, form in self.segment_integral.items()}
        worst = int(table["von_mises_Pa"].to_numpy().argmax())
        normal_motion = MOTION_COLUMNS[motion][0]
        return {
            "max_von_mises_Pa": float(table["von_mises_Pa"].iloc[worst]),
            "max_von_mises_at": {"segment": str(table["segment"].iloc[worst]),
                                 **{k: float(table[k].iloc[worst]) for k in ("s_m", "x_m", "y_m", "z_m") if k in table}},
            "segment_mean_von_mises_Pa": {name: integrals[name] / self.segment_measure[name] for name in integrals},
            "interface_mean_von_mises_Pa": sum(integrals.values()) / sum(self.segment_measure.values()),
            f"max_{normal_motion}": float(table[normal_motion].abs().max()),
            "max_abs_tangential_traction_Pa": float(table["tangential_traction_Pa"].abs().max()),
        }


class OutputTimes:
    """What is kept at each output time: the interface table, the fields, and the statistics of
    the summary (:class:`InterfaceStatistics`)."""

    def __init__(self, problem: LiCreepProblem, profile: InterfaceProfile | None, times: set[float]):
        self.problem, self.times = problem, times
        self.sampler = InterfaceSampler(problem, profile)
        self.interface_statistics = InterfaceStatistics(problem)
        self.segment_measure = self.interface_statistics.segment_measure
        self.tables: list[pd.DataFrame] = []
        self.snapshots: list[tuple] = []
        self.statistics: dict[float, dict] = {}

    def record(self, t: float) -> None:
        problem = self.problem
        table = self.sampler.sample(t)
        self.tables.append(table)
        self.snapshots.append((t, problem.u.x.array.copy(), problem.stress.x.array.copy(),
                               _equivalent_creep_strain_dg1(problem)))
        self.statistics[t] = self.interface_statistics.of(table)

    def interface_table(self) -> pd.DataFrame:
        keys = ["time_s"] + SORT_KEYS[self.problem.tdim]
        return pd.concat(self.tables, ignore_index=True).sort_values(keys, kind="stable").reset_index(drop=True)


def solve_mechanics(body: Body, profile: InterfaceProfile | None, params: MechanicsParameters,
                    petsc_options: dict | None = None, prefix: str = "me_") -> MechanicsResult:
    """Creep of the Li body from t = 0 to ``t_eval``; interface tables at the output times and t_eval.

    ``petsc_options`` override the linear-solver preset (MUMPS LU, or GMRES + GAMG above
    :data:`DIRECT_SOLVER_MAX_DOFS_3D` in 3D; see :func:`lisse.core.solvers.linear_options`; keys
    without the prefix).  Raises :class:`MechanicsConvergenceError` if a time step keeps failing.
    """
    t_start = time.perf_counter()
    if params.method != "transient":
        raise ValueError(f"solve_mechanics integrates the transient: it needs method 'transient', not {params.method!r}")
    problem = LiCreepProblem(body, params, petsc_options, prefix)
    comm = problem.comm
    outputs = OutputTimes(problem, profile, {params.t_eval, *(t for t in params.output_times if 0.0 <= t < params.t_eval)})

    # ---- t = 0: the instantaneous elastic response to the stack pressure
    elastic = problem.newton(0.0)
    if not elastic.converged:
        raise MechanicsConvergenceError(0, 0.0, 0.0, elastic.reason, elastic.residual_norm)
    problem.commit()
    if 0.0 in outputs.times:
        outputs.record(0.0)

    # ---- creep: backward Euler with adaptive, geometrically growing steps
    predictor = LinearPredictor(problem.u.x.array)

    def attempt(t_new: float, dt: float) -> StepOutcome:
        problem.gap.value = -params.recession_at(t_new)
        predictor.guess(problem.u.x.array, dt)
        return problem.newton(dt)

    def accept(t_new: float, dt: float, outcome: StepOutcome) -> None:
        problem.commit()
        predictor.accept(problem.u.x.array, dt)

    def reached(stop: float) -> None:
        if stop == params.recession_ramp_time:
            predictor.forget()  # the recession rate jumps to zero: do not extrapolate across the kink
        if stop in outputs.times:
            outputs.record(stop)

    stepping = integrate(params.stepsize(), params.stops, attempt, accept, reached, MechanicsConvergenceError,
                         comm.rank)
    wall_time = comm.allreduce(time.perf_counter() - t_start, op=MPI.MAX)
    table = outputs.interface_table()
    summary = mechanics_summary(problem, outputs, elastic, stepping, wall_time)
    if comm.rank == 0:
        at = summary["max_von_mises_at"]
        logger.info("mechanics: P %.4g MPa, %d dofs, %d steps, %d Newton its, max sigma_e %.4g MPa at %s (%s), "
                    "max gap %.3g um, %.2f s", params.stack_pressure / MPA, problem.n_dofs, stepping.steps,
                    summary["newton_iterations"], summary["max_von_mises_Pa"] / MPA,
                    ", ".join(f"{k[0]} = {v / UM:.4g} um" for k, v in at.items() if k != "segment"), at["segment"],
                    summary["max_normal_gap_m"] / UM, wall_time)
    return MechanicsResult(displacement=problem.u, interface=table, summary=summary, parameters=params,
                           _problem=problem, _snapshots=outputs.snapshots)


def planar_reference(params: MechanicsParameters, tdim: int) -> dict[str, float]:
    """sigma_e of the planar cell, elastic and relaxed: the scale the interface stresses compare with.
    In 3D with both lateral edges uniform (zero net force) the far field is uniaxial, sigma_e = P."""
    if tdim == 3 and params.back_condition == "uniform_edge":
        return {"elastic": params.stack_pressure, "relaxed": params.stack_pressure}
    return {"elastic": planar_von_mises(params, relaxed=False), "relaxed": planar_von_mises(params, relaxed=True)}


def body_maximum(problem: LiCreepProblem) -> dict:
    """The largest sigma_e over the owned quadrature points of the body, and where it is."""
    comm = problem.comm
    body_von_mises = problem.update.equivalent_stress[problem.points.owned]
    body_max, body_rank = comm.allreduce((float(body_von_mises.max(initial=-np.inf)), comm.rank), op=MPI.MAXLOC)
    where = problem.points.coordinates[problem.points.owned][int(body_von_mises.argmax())] \
        if comm.rank == body_rank else None
    where = comm.bcast(where, root=body_rank)
    return {"body_max_von_mises_Pa": body_max, "body_max_von_mises_at": dict(zip(("x_m", "y_m", "z_m"), map(float, where)))}


def solver_facts(problem: LiCreepProblem, elastic: StepOutcome, stepping: SteppingRecord, wall_time: float) -> dict:
    """Discretisation, time stepping and Newton statistics of a solve."""
    relative_residuals = [norm / problem.force_scale for norm in [elastic.residual_norm, *stepping.residual_norms]]
    return {
        "dofs": int(problem.n_dofs),
        "cells": int(problem.body.global_size()),
        "element_degree": int(problem.params.element_degree),
        "time_steps": stepping.steps,
        "time_step_cutbacks": stepping.cutbacks,
        "elastic_newton_iterations": int(elastic.iterations),
        "newton_iterations": int(elastic.iterations + sum(stepping.iterations)),
        "newton_iterations_per_step": [int(i) for i in stepping.iterations],
        "time_step_sizes_s": [float(d) for d in stepping.step_sizes],
        "max_relative_residual": float(max(relative_residuals)),  # |R| / (P |li_top|) at acceptance
        "steps_converged_at_roundoff": sum("round-off" in reason for reason in stepping.reasons),
        "ksp_type": problem.ksp.getType(),
        "pc_type": problem.ksp.getPC().getType(),
        "wall_time_s": wall_time,
        "n_ranks": problem.comm.size,
    }


def mechanics_summary(problem: LiCreepProblem, outputs: OutputTimes, elastic: StepOutcome, stepping: SteppingRecord,
                      wall_time: float) -> dict:
    """The summary JSON of a solve: loads, the interface at t_eval, the body, the edges, the solver."""
    params = problem.params
    final = outputs.statistics[params.t_eval]
    measure = "segment_area_m2" if problem.tdim == 3 else "segment_length_m"
    return {
        "method": "transient",
        "stack_pressure_Pa": float(params.stack_pressure),
        "temperature_K": float(params.temperature),
        "creep_rate_s": params.creep_rate,
        "t_eval_s": float(params.t_eval),
        **final,
        measure: outputs.segment_measure,
        **body_maximum(problem),
        "lateral_edge_displacement_m": _edge_displacement(problem, 0),
        "back_edge_displacement_m": _edge_displacement(problem, 1),
        "linear_iterations": int(problem.linear_iterations),
        "planar_reference_von_mises_Pa": planar_reference(params, problem.tdim),
        "by_time": {f"{t:g}": stats for t, stats in sorted(outputs.statistics.items())},
        "interface_sampling_points": int(sum(len(table) for table in outputs.tables) // len(outputs.times)),
        **solver_facts(problem, elastic, stepping, wall_time),
    }


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
    creep_strain = fem.Function(problem.points.dg1)
    problem.points.to_dg1(creep_strain, problem.equivalent_creep_strain_old)
    return creep_strain.x.array.copy()
