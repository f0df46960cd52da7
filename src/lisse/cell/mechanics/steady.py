"""Steady creep of the Li: one power-law Stokes solve serves every stack pressure and temperature.

Once the Li flows steadily the elastic strain no longer changes, the strain rate is the creep
rate, and creep is isochoric.  The Li is then a power-law fluid, solved directly for its
velocity ``v`` and pressure ``p`` (Taylor-Hood P2-P1, inf-sup stable, so incompressibility is
exact and nothing locks).  Norton's law ``eps_dot_e = eps_dot_0 (sigma_e / sigma_ref)^n``
inverted gives the deviatoric stress

    s = 2 eta(eps_dot) dev(eps_dot(v)),   eta = sigma_e / (3 eps_dot_e) = sigma_ref / (3 eps_dot_0^(1/n)) eps_dot_e^(1/n - 1).

Scaling.  The loads are the stack pressure alone, and every kinematic constraint is
homogeneous (v.n = 0 on the frictionless interface, the mirror planes, uniform edges with zero
net force).  In units of stress ``P`` and of strain rate ``eps_dot_c = eps_dot_0 (P / sigma_ref)^n``
(the rate of uniaxial flow under ``P``) the problem has no parameter left but ``n``:

    sigma_hat_e = eps_dot_hat_e^(1/n),   traction 1 on li_top,

so sigma / P is the same for every P, T and eps_dot_0, and v scales as eps_dot_c.  It is solved
in those units; a solve at any P gives sigma_e(s) / P for all of them.

Weak form (hats dropped), for all (w, q) with w vanishing where v is prescribed:

    (2 eta dev eps_dot(v), eps(w)) - (p, div w) + <nu, w>_top
        - <t_n(sigma), w.nu>_I + <gamma eta / h  v.nu, w.nu>_I  =  0,      (q, div v) = 0,

the frictionless contact by Nitsche's method with the same averaged normal ``nu`` and the
same incomplete variant as the transient solver (:mod:`lisse.cell.mechanics`), the penalty
scaled by the local viscosity so it dominates where the Li barely flows.  The uniform edges
(u_x = U on li_right, and u_z on li_back in 3D) are the same bordered unknowns.

Rest.  Where the Li does not flow (eps_dot_e -> 0) a power-law viscosity is infinite.  The
viscosity is capped by a linear-viscous floor below a rest strain rate ``delta`` (in units of
``eps_dot_c``): eta = (eps_dot_e^2 + delta^2)^((1/n - 1)/2) / 3.  ``delta`` is relative, so the
scaling stays exact.

Continuation in n.  At n = 1 the problem is linear Stokes; Newton (line search on |R|) then
follows n up to its value in steps that grow after quick convergence and halve after a
failure, each from the last converged solution.

Stress-velocity Newton.  The standard tangent of a power law with n ~ 7 is soft along the
current flow direction (eigenvalue 1/n there), so from the linear-Stokes guess, where the flow
direction is still wrong, full steps overshoot and the line search crawls.  The tangent takes
that direction from a dual variable N (= dev eps_dot / eps_dot_e at the solution), updated at
the Gauss points by its own linearised equation after every step and kept in |N|_e <= 1
(Rudi, Shih & Stadler, G-cubed 2020): the 3D 200 um cell converges in 8 Newton iterations
instead of 17, the residual and the solution are unchanged.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import basix.ufl
import numpy as np
import pandas as pd
import ufl
from dolfinx import fem, io
from mpi4py import MPI

from lisse.cell.interface import InterfaceProfile
from lisse.cell.mechanics.forms import normal_component, stress_tensor_3d
from lisse.cell.mechanics.parameters import MechanicsConvergenceError, MechanicsParameters, planar_von_mises
from lisse.cell.mechanics.problem import contact_normal, lateral_constraints
from lisse.cell.mechanics.sampling import InterfaceSampler
from lisse.cell.mechanics.solve import InterfaceStatistics
from lisse.core import newton
from lisse.core.bordered import BorderedSystem
from lisse.core.mesh import Body, assemble_scalar, write_vtu
from lisse.core.newton import NewtonSettings
from lisse.core.quadrature import QuadraturePoints
from lisse.core.solvers import DIRECT_SOLVER, linear_solver
from lisse.core.stepping import StepOutcome

logger = logging.getLogger(__name__)

# Cell integrals: degree 2 (tdim + 1 Gauss points), where the stress is also sampled for the
# tables.  Contact terms: as in the transient solver.
QUADRATURE_DEGREE = 2
CONTACT_QUADRATURE_DEGREE = 6
PROGRESS_DOFS = 20_000  # above this a Newton step takes seconds: log each one


def strain_rate_3d(v):
    """The 3x3 strain rate of a 2D (plane strain, eps_dot_zz = 0) or 3D velocity."""
    e = ufl.sym(ufl.grad(v))
    if e.ufl_shape[0] == 3:
        return e
    return ufl.as_tensor([[e[0, 0], e[0, 1], 0], [e[1, 0], e[1, 1], 0], [0, 0, 0]])


def equivalent_rate(eps_dot):
    """eps_dot_e = sqrt(2/3 dev(eps_dot) : dev(eps_dot))."""
    deviator = ufl.dev(eps_dot)
    return ufl.sqrt(2.0 / 3.0 * ufl.inner(deviator, deviator))


def viscosity(eps_dot, exponent, rest_rate):
    """eta = sigma_e / (3 eps_dot_e) of Norton's law in units of P and eps_dot_c, capped below the rest rate."""
    deviator = ufl.dev(eps_dot)
    rate_squared = 2.0 / 3.0 * ufl.inner(deviator, deviator) + rest_rate**2
    return rate_squared ** ((1.0 / exponent - 1.0) / 2.0) / 3.0


def deviatoric_stress(eps_dot, exponent, rest_rate):
    """s = 2 eta dev(eps_dot): the 3x3 deviatoric stress (units of P)."""
    return 2.0 * viscosity(eps_dot, exponent, rest_rate) * ufl.dev(eps_dot)


def in_plane(tensor, tdim: int):
    """The tdim x tdim block of a 3x3 tensor."""
    return tensor if tdim == 3 else ufl.as_tensor([[tensor[0, 0], tensor[0, 1]], [tensor[1, 0], tensor[1, 1]]])


class SteadyCreepProblem:
    """The Li as a power-law fluid on the rigid SSE: Taylor-Hood spaces, weak form, constraints, Newton."""

    def __init__(self, body: Body, params: MechanicsParameters, petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.tdim = tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        self.segments = body.interface_segments
        if not self.segments or "li_top" not in body.facet_groups:
            raise KeyError(f"Li body lacks interface segments or li_top; it has {sorted(body.facet_groups)}")
        cell = mesh.basix_cell()
        self.W = fem.functionspace(mesh, basix.ufl.mixed_element([
            basix.ufl.element("Lagrange", cell, 2, shape=(tdim,)), basix.ufl.element("Lagrange", cell, 1)]))
        self.started = time.perf_counter()
        self.solution = fem.Function(self.W, name="velocity_pressure")
        self.exponent = fem.Constant(mesh, 1.0)  # continued from 1 to the creep exponent
        self.rest_rate = fem.Constant(mesh, params.rest_strain_rate)
        self.points = QuadraturePoints(mesh, QUADRATURE_DEGREE)
        self._create_flow_direction()
        residual = self._weak_form()
        jacobian = self._tangent(residual)
        self.bcs, self.edge_bcs, borders = lateral_constraints(body, params, self.W, motion=0)
        options = {**DIRECT_SOLVER, **(petsc_options or {})}
        self.petsc_options = options
        self.ksp = linear_solver(self.comm, prefix, options)
        self.system = BorderedSystem(self.solution, fem.form(residual), fem.form(jacobian), self.bcs, borders, self.ksp)
        self.n_dofs = self.system.size
        # residual entries are nodal forces in units of P: scale by the applied force (|li_top|, 1 x its measure)
        self.force_scale = assemble_scalar(self.comm, 1.0 * body.ds("li_top"))
        self.newton_settings = NewtonSettings(
            max_iterations=params.max_newton_iterations, max_line_search_halvings=params.max_line_search_halvings,
            atol=params.newton_rtol * self.force_scale, stol=params.newton_stol,
            stagnation_atol=params.steady_stagnation_rtol * self.force_scale)
        self._stress_points()

    def _weak_form(self):
        mesh, body, params, tdim = self.mesh, self.body, self.params, self.tdim
        v, p = ufl.split(self.solution)
        w, q = ufl.TestFunctions(self.W)
        nu_top = ufl.FacetNormal(mesh)
        self.interface_normal, nu = contact_normal(body, self.segments, params.interface_normal)
        eps_dot = strain_rate_3d(v)
        self.sigma = in_plane(deviatoric_stress(eps_dot, self.exponent, self.rest_rate), tdim) - p * ufl.Identity(tdim)
        eta = viscosity(eps_dot, self.exponent, self.rest_rate)
        penalty = fem.Constant(mesh, params.nitsche_penalty) * eta / ufl.CellDiameter(mesh)
        dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        ds_top = body.ds("li_top")
        ds_contact = body.ds(*self.segments).reconstruct(metadata={"quadrature_degree": CONTACT_QUADRATURE_DEGREE})
        return (
            ufl.inner(self.sigma, ufl.sym(ufl.grad(w))) * dx
            + ufl.div(v) * q * dx
            + ufl.dot(w, nu_top) * ds_top
            - normal_component(self.sigma, nu) * ufl.dot(w, nu) * ds_contact
            + penalty * ufl.dot(v, nu) * ufl.dot(w, nu) * ds_contact
        )

    def _create_flow_direction(self) -> None:
        """The dual variable of the stress-velocity Newton: the flow direction N = dev(eps_dot) / eps_dot_e
        at the Gauss points (a DG1 field through them, stored components [xx, yy, zz, xy(, yz, xz)])."""
        v, _ = ufl.split(self.solution)
        components = [(0, 0), (1, 1), (2, 2), (0, 1)] + ([(1, 2), (0, 2)] if self.tdim == 3 else [])
        deviator = ufl.dev(strain_rate_3d(v))
        self.rate_deviator_at_points = self.points.expression(ufl.as_vector([deviator[i, j] for i, j in components]))
        self.contraction_weights = np.array([1.0, 1.0, 1.0] + [2.0] * (len(components) - 3))
        self.direction = fem.Function(fem.functionspace(self.mesh, ("DG", 1, (len(components),))), name="flow_direction")
        self.accepted_direction = None  # (N, dev eps_dot, eps_dot_e) at the Newton iterate

    def _rate_deviator(self) -> tuple[np.ndarray, np.ndarray]:
        """dev(eps_dot) at the points in stored components, and the capped equivalent rate."""
        deviator = self.points.evaluate(self.rate_deviator_at_points)
        rate = np.sqrt(2.0 / 3.0 * (deviator**2 @ self.contraction_weights) + float(self.rest_rate.value) ** 2)
        return deviator, rate

    def reset_flow_direction(self) -> None:
        """N = dev(eps_dot) / eps_dot_e at the current v: the first step is the standard Newton step."""
        deviator, rate = self._rate_deviator()
        self.accepted_direction = (deviator / rate[:, None], deviator, rate)
        self.points.to_dg1(self.direction, self.accepted_direction[0])

    def update_flow_direction(self, alpha: float) -> None:
        """The dual update after a Newton step of length ``alpha`` from the iterate: the linearised
        eps_e N = dev eps_dot solved with the full step d dev = (dev' - dev) / alpha whatever the line search
        did to v, N' = (dev + d dev - d eps_e N) / eps_e, scaled back onto |N|_e <= 1 (where the exact
        N = dev eps_dot / eps_dot_e lives)."""
        direction, deviator, rate = self.accepted_direction
        new_deviator, new_rate = self._rate_deviator()
        change = (new_deviator - deviator) / alpha
        rate_change = 2.0 / 3.0 * ((deviator * change) @ self.contraction_weights) / rate
        new = (deviator + change - rate_change[:, None] * direction) / rate[:, None]
        size = np.sqrt(2.0 / 3.0 * (new**2 @ self.contraction_weights))
        new /= np.maximum(size, 1.0)[:, None]
        self.accepted_direction = (new, new_deviator, new_rate)
        self.points.to_dg1(self.direction, new)

    def _tangent(self, residual):
        """The stress-velocity Newton tangent (Rudi, Shih & Stadler 2020): the standard tangent with the
        flow direction in the rank-one term taken from the dual N instead of from v,

            ds = 2 eta [dev d_eps_dot + (1/n - 1) 2/3 sym(N (x) dev eps_dot / eps_e) : d_eps_dot],

        which does not overshoot where the direction of flow changes (the standard one, N = dev eps_dot /
        eps_e, stalls for many damped steps at n ~ 7).  Only the cell term differs from ufl.derivative."""
        v, _ = ufl.split(self.solution)
        dv, _ = ufl.split(ufl.TrialFunction(self.W))
        w, _ = ufl.TestFunctions(self.W)
        eps_dot = strain_rate_3d(v)
        deviator, d_deviator = ufl.dev(eps_dot), ufl.dev(strain_rate_3d(dv))
        rate = ufl.sqrt(2.0 / 3.0 * ufl.inner(deviator, deviator) + self.rest_rate**2)
        direction = stress_tensor_3d(self.direction)
        standard = ufl.inner(deviator, d_deviator) / rate**2 * deviator
        primal_dual = 0.5 * (ufl.inner(deviator, d_deviator) / rate * direction
                             + ufl.inner(direction, d_deviator) / rate * deviator)
        eta = viscosity(eps_dot, self.exponent, self.rest_rate)
        correction = 2.0 * eta * (1.0 / self.exponent - 1.0) * 2.0 / 3.0 * (primal_dual - standard)
        dx = ufl.Measure("dx", domain=self.mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        return (ufl.derivative(residual, self.solution, ufl.TrialFunction(self.W))
                + ufl.inner(in_plane(correction, self.tdim), ufl.sym(ufl.grad(w))) * dx)

    def _stress_points(self) -> None:
        """The stress (units of P) at the degree-2 Gauss points, stored as the DG1 field through them,
        in the transient solver's layout [xx, yy, zz, xy(, yz, xz)]: what the interface tables sample."""
        v, p = ufl.split(self.solution)
        sigma = deviatoric_stress(strain_rate_3d(v), self.exponent, self.rest_rate) - p * ufl.Identity(3)
        components = [(0, 0), (1, 1), (2, 2), (0, 1)] + ([(1, 2), (0, 2)] if self.tdim == 3 else [])
        self.n_stress = len(components)
        self.stress_at_points = self.points.expression(ufl.as_vector([sigma[i, j] for i, j in components]))
        self.stress = fem.Function(fem.functionspace(self.mesh, ("DG", 1, (self.n_stress,))), name="stress")
        self.velocity_space, self.velocity_dofs = self.W.sub(0).collapse()
        self.velocity = fem.Function(self.velocity_space, name="velocity")

    @property
    def linear_iterations(self) -> int:
        return self.system.linear_iterations

    def newton(self, final: bool = True) -> StepOutcome:
        """Newton at the current exponent from the current guess (the constitutive law is in the form);
        to the continuation's looser tolerance unless ``final``."""
        settings = self.newton_settings
        if not final:
            settings = replace(settings, atol=max(settings.atol, self.params.continuation_rtol * self.force_scale))
        self.reset_flow_direction()
        return newton.solve(self.system, lambda: None, settings, accept=self._accepted_step)

    def _accepted_step(self, alpha: float, residual_norm: float) -> None:
        """After each Newton step: the dual update, and progress in the log (INFO for the long 3D solves)."""
        self.update_flow_direction(alpha)
        if self.comm.rank == 0:
            logger.log(logging.INFO if self.n_dofs >= PROGRESS_DOFS else logging.DEBUG,
                       "steady creep: n = %.3g, Newton step of length %.3g, |R| / F = %.2e, %.0f s", float(self.exponent.value),
                       alpha, residual_norm / self.force_scale, time.perf_counter() - self.started)

    def continue_in_exponent(self) -> ContinuationRecord:
        """Solve at n = 1, then follow n to the creep exponent (steps grow after quick convergence,
        halve after a failure).  Raises :class:`SteadyCreepConvergenceError`."""
        params, record = self.params, ContinuationRecord()
        target = params.creep_exponent
        step = params.exponent_step
        n = 1.0
        saved = self.solution.x.array.copy()
        self.exponent.value = n
        outcome = self.newton()
        record.add(n, outcome)
        if not outcome.converged:
            raise SteadyCreepConvergenceError(n, outcome)
        while n < target:
            saved[:] = self.solution.x.array
            trial = min(n + step, target)
            self.exponent.value = trial
            outcome = self.newton(final=trial == target)
            record.add(trial, outcome)
            if outcome.converged:
                n = trial
                if outcome.iterations <= params.fast_newton_iterations:
                    step *= params.exponent_step_growth
                continue
            self.solution.x.array[:] = saved
            step *= 0.5
            if step < params.exponent_step / 2 ** params.max_time_step_cutbacks:
                raise SteadyCreepConvergenceError(trial, outcome)
        return record

    def update_outputs(self, stress_unit: float, velocity_unit: float) -> None:
        """Stress (Pa) into the DG1 field and velocity (m/s) into its own field, from the scaled solution."""
        self.points.to_dg1(self.stress, stress_unit * self.points.evaluate(self.stress_at_points))
        self.stress.x.scatter_forward()
        self.velocity.x.array[:] = velocity_unit * self.solution.x.array[self.velocity_dofs]
        self.velocity.x.scatter_forward()


@dataclass
class ContinuationRecord:
    """The exponents tried, with the Newton iterations and outcome of each."""

    exponents: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    converged: list[bool] = field(default_factory=list)
    residual_norms: list[float] = field(default_factory=list)

    def add(self, exponent: float, outcome: StepOutcome) -> None:
        self.exponents.append(float(exponent))
        self.iterations.append(int(outcome.iterations))
        self.converged.append(bool(outcome.converged))
        self.residual_norms.append(float(outcome.residual_norm))
        logger.debug("steady creep: n = %.3f, %s in %d Newton its, |R| = %.2e", exponent, outcome.reason,
                     outcome.iterations, outcome.residual_norm)


class SteadyCreepConvergenceError(MechanicsConvergenceError):
    """Newton failed at some exponent even after the continuation step was halved to its floor."""

    kind = "steady creep"

    def __init__(self, exponent: float, outcome: StepOutcome):
        self.exponent, self.reason, self.residual_norm = exponent, outcome.reason, outcome.residual_norm
        RuntimeError.__init__(self, f"steady creep: Newton failed at creep exponent n = {exponent:.4g} "
                              f"({outcome.reason}; |R| = {outcome.residual_norm:.3e})")


# --------------------------------------------------------------------------------------
# The solve, its result and its files
# --------------------------------------------------------------------------------------


def characteristic_rate(params: MechanicsParameters) -> float:
    """eps_dot_c = eps_dot_0(T) (P / sigma_ref)^n: the rate of uniaxial creep under P (1/s)."""
    return params.creep_rate * (params.stack_pressure / params.creep_stress_ref) ** params.creep_exponent


@dataclass
class SteadyMechanicsResult:
    velocity: fem.Function  # v (m/s) at the solve's P and eps_dot_0(T)
    interface: pd.DataFrame  # one row per interface sampling point, sorted (by s in 2D); on every rank
    summary: dict
    parameters: MechanicsParameters
    _problem: SteadyCreepProblem = field(repr=False, default=None)

    def _von_mises(self) -> fem.Function:
        problem = self._problem
        von_mises = fem.Function(problem.points.dg1, name="von_mises")
        deviator = ufl.dev(stress_tensor_3d(problem.stress))
        von_mises.interpolate(fem.Expression(ufl.sqrt(1.5 * ufl.inner(deviator, deviator)),
                                             problem.points.dg1.element.interpolation_points))
        return von_mises

    def write_vtu(self, path: str | Path) -> None:
        """The von Mises stress (DG1) as one ``.vtu``, for the workflow's field maps."""
        write_vtu(path, {"von_mises": self._von_mises()})

    def write_fields(self, path: str | Path) -> None:
        """Velocity, von Mises stress and hydrostatic pressure in DG1 as a VTX directory for ParaView."""
        problem = self._problem
        mesh, Q = problem.mesh, problem.points.dg1
        velocity = fem.Function(fem.functionspace(mesh, ("DG", 1, (mesh.geometry.dim,))), name="velocity")
        velocity.interpolate(problem.velocity)
        von_mises = self._von_mises()
        von_mises.name = "von_mises_stress"
        pressure = fem.Function(Q, name="hydrostatic_pressure")
        pressure.interpolate(fem.Expression(-ufl.tr(stress_tensor_3d(problem.stress)) / 3.0,
                                            Q.element.interpolation_points))
        with io.VTXWriter(mesh.comm, str(path), [velocity, von_mises, pressure], engine="BP4") as vtx:
            vtx.write(0.0)


def solve_steady_creep(body: Body, profile: InterfaceProfile | None, params: MechanicsParameters,
                       petsc_options: dict | None = None, prefix: str = "me_") -> SteadyMechanicsResult:
    """The steady creep flow of the Li body under the stack pressure; its interface table and summary.

    Stresses are in Pa at ``params.stack_pressure`` (divide by it for sigma / P, the same at every
    pressure) and velocities in m/s at that pressure and eps_dot_0(T).  MUMPS LU (``petsc_options``
    override it, keys without the prefix).  Raises :class:`SteadyCreepConvergenceError`.
    """
    t_start = time.perf_counter()
    if params.method != "steady":
        raise ValueError(f"solve_steady_creep needs method 'steady', not {params.method!r}")
    problem = SteadyCreepProblem(body, params, petsc_options, prefix)
    comm = problem.comm
    record = problem.continue_in_exponent()
    velocity_unit = characteristic_rate(params)
    problem.update_outputs(params.stack_pressure, velocity_unit)
    table = InterfaceSampler(problem, profile, motion="velocity").sample(None)
    wall_time = comm.allreduce(time.perf_counter() - t_start, op=MPI.MAX)
    summary = steady_summary(problem, table, record, velocity_unit, wall_time)
    if comm.rank == 0:
        means = ", ".join(f"{name.removeprefix('interface_')} {value / params.stack_pressure:.3f}"
                          for name, value in summary["segment_mean_von_mises_Pa"].items())
        logger.info("steady creep: %d dofs, %d Newton its over n = %s, sigma_e / P: %s; %.2f s", problem.n_dofs,
                    summary["newton_iterations"], "/".join(f"{n:.3g}" for n in summary["continuation_exponents"]),
                    means, wall_time)
    return SteadyMechanicsResult(velocity=problem.velocity, interface=table, summary=summary, parameters=params,
                                 _problem=problem)


def steady_summary(problem: SteadyCreepProblem, table: pd.DataFrame, record: ContinuationRecord,
                   velocity_unit: float, wall_time: float) -> dict:
    """The summary JSON of a steady solve: loads, the interface, the body, the edges, the solver."""
    params, comm = problem.params, problem.comm
    statistics = InterfaceStatistics(problem)
    measure = "segment_area_m2" if problem.tdim == 3 else "segment_length_m"
    stress = problem.points.evaluate(problem.stress_at_points)[problem.points.owned]
    deviator = stress[:, :3] - stress[:, :3].mean(axis=1, keepdims=True)
    shear = stress[:, 3:]
    body_von_mises = np.sqrt(1.5 * ((deviator**2).sum(axis=1) + 2.0 * (shear**2).sum(axis=1)))
    body_max, body_rank = comm.allreduce((float(body_von_mises.max(initial=-np.inf)), comm.rank), op=MPI.MAXLOC)
    where = problem.points.coordinates[problem.points.owned][int(body_von_mises.argmax())] \
        if comm.rank == body_rank else None
    where = comm.bcast(where, root=body_rank)
    accepted = [k for k, ok in enumerate(record.converged) if ok]
    return {
        "method": "steady",
        "stack_pressure_Pa": float(params.stack_pressure),
        "temperature_K": float(params.temperature),
        "creep_rate_s": params.creep_rate,
        "characteristic_strain_rate_per_s": velocity_unit,
        **statistics.of(table, motion="velocity"),
        measure: statistics.segment_measure,
        "body_max_von_mises_Pa": body_max * params.stack_pressure,
        "body_max_von_mises_at": dict(zip(("x_m", "y_m", "z_m"), map(float, where))),
        "lateral_edge_velocity_m_s": edge_velocity(problem, 0, velocity_unit),
        "back_edge_velocity_m_s": edge_velocity(problem, 1, velocity_unit),
        "planar_reference_von_mises_Pa": {"steady": params.stack_pressure if problem.tdim == 3
                                          and params.back_condition == "uniform_edge"
                                          else planar_von_mises(params, relaxed=True)},
        "interface_sampling_points": len(table),
        "dofs": int(problem.n_dofs),
        "cells": int(problem.body.global_size()),
        "continuation_exponents": [record.exponents[k] for k in accepted],
        "newton_iterations_per_exponent": [record.iterations[k] for k in accepted],
        "continuation_cutbacks": len(record.converged) - len(accepted),
        "newton_iterations": int(sum(record.iterations)),
        "max_relative_residual": float(max(record.residual_norms[k] for k in accepted) / problem.force_scale),
        "linear_iterations": int(problem.linear_iterations),
        "ksp_type": problem.ksp.getType(),
        "pc_type": problem.ksp.getPC().getType(),
        "wall_time_s": wall_time,
        "n_ranks": comm.size,
    }


def edge_velocity(problem: SteadyCreepProblem, index: int, velocity_unit: float) -> float | None:
    """The normal velocity of uniform edge ``index`` (li_right, then li_back; None if absent), m/s."""
    if index >= len(problem.edge_bcs):
        return None
    dofs = problem.edge_bcs[index].dof_indices()[0]  # w = 0 and psi = 1 there: the value is the border unknown
    values = problem.comm.allgather(problem.solution.x.array[dofs][:1].tolist())
    values = [v for chunk in values for v in chunk]
    return velocity_unit * float(values[0]) if values else math.nan
