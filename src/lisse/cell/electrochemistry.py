"""Steady electrolyte potential in the SSE with Butler–Volmer kinetics at the Li/SSE interface.

The model (SCIENCE.md, Study A, "Electrochemistry"), SI units throughout:

* In the SSE body, a single-ion conductor with no concentration gradients, the
  current density is Ohmic, ``j = -sigma grad(phi)``, and conserved,
  ``div(j) = 0``; ``sigma`` follows an Arrhenius law in temperature.
* The Li electrode is an electronic conductor at ``phi_s = 0`` (the stripping
  electrode).  Across the Li/SSE interface the normal current density
  ``i_n`` (positive when Li+ leaves the Li into the SSE, i.e. stripping)
  follows Butler–Volmer in the overpotential ``eta = phi_s - phi`` (E_eq = 0).
* Galvanostatic control: a uniform normal current density ``i_app`` leaves
  through the SSE mid-plane; the lateral edges are insulating (mirror planes).

Multiplying ``div(j) = 0`` by a test function ``v`` and integrating by parts
over the SSE, with ``j.n = -i_n`` on the interface (current enters the SSE) and
``j.n = i_app`` on the mid-plane (current leaves), gives the weak form

    (sigma grad(phi), grad(v))  -  <i_n(eta), v>_interface  +  <i_app, v>_midplane  =  0.

Nothing pins ``phi`` but the Butler–Volmer term, which is strictly monotone
in ``phi``, so the problem is well posed without a Dirichlet condition.

By the mid-plane symmetry of the symmetric Li | SSE | Li cell, the cell voltage
is twice the half-cell drop, ``2 * (phi_s - mean(phi on the mid-plane))``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import pandas as pd
import ufl
from dolfinx import fem, io
from dolfinx.fem.petsc import (
    LinearProblem,
    NonlinearProblem,
    assemble_matrix,
    assemble_vector,
    assign,
    interpolation_matrix,
)
from mpi4py import MPI
from petsc4py import PETSc

from lisse.cell.interface import InterfaceProfile
from lisse.cell.mesh import load_cell_body
from lisse.core.constants import BOLTZMANN_EV, FARADAY, GAS_CONSTANT
from lisse.core.mesh import Body, assemble_scalar, facet_samples, write_vtu
from lisse.core.outputs import write_outputs
from lisse.core.parameters import parameters_from_dict
from lisse.core.solvers import (
    DIRECT_SOLVER,
    linear_options,
    linear_solve_failure,
    petsc_options_in_database,
    petsc_reason_name,
)

logger = logging.getLogger(__name__)

# Above this many DOFs the default linear solver switches from MUMPS LU to CG + GAMG.
# Sparse LU in 2D costs O(N^1.5) time and O(N log N) memory, multigrid-preconditioned CG
# about O(N): benchmarks/electrochemistry.py measured equal times at 1e4 DOFs, GAMG 1.5x
# faster at 4e4 and 2x faster in 40 % of the memory at 1.1e6 (~20 us/DOF flat).  The
# workflow's meshes (< 2e4 DOFs) stay on the direct solver, which has no tolerance to tune.
DIRECT_SOLVER_MAX_DOFS = 50_000

INTERFACE_COLUMNS = (
    "s_m",  # 2D: arc length along the interface profile; 3D: absent
    "x_m",
    "y_m",
    "segment",
    "current_density_A_m2",
    "current_density_normalised",
    "overpotential_V",
    "electrolyte_potential_V",
)
# 3D: no interface coordinate; the rows are the points of a Gauss rule on every interface
# facet, each carrying its share of the interface area, so area integrals are weighted sums.
INTERFACE_COLUMNS_3D = ("x_m", "y_m", "z_m", "area_m2") + INTERFACE_COLUMNS[3:]
INTERFACE_RULE_DEGREE_3D = 2  # 3 points per triangle
MEASURE_NAMES_3D = {
    "segment_length_m": "segment_area_m2",
    "interface_length_m": "interface_area_m2",
    "nominal_width_m": "nominal_area_m2",
    "interface_length_per_nominal_width": "interface_area_per_nominal_area",
    "interface_current_per_nominal_width_A_m2": "interface_current_per_nominal_area_A_m2",
}


# --------------------------------------------------------------------------------------
# Parameters and constitutive laws
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElectrochemistryParameters:
    """Inputs of one electrochemistry solve, SI units."""

    applied_current_density: float  # A/m², leaves through the SSE mid-plane
    temperature: float = 298.15  # K
    conductivity_ref: float = 0.079  # S/m (0.79 mS/cm) at reference_temperature
    reference_temperature: float = 298.15  # K
    activation_energy: float = 0.24  # eV
    exchange_current_density: float = 10.0  # A/m² (1 mA/cm²)
    alpha_anodic: float = 0.5
    alpha_cathodic: float = 0.5
    # P2 by default: more accurate per DOF here.  On the 200 um grid (i_app = 5 A/m²),
    # against P2 on a 2x finer mesh: P2 on the 5 um test mesh (2.3k DOFs) is off by 2e-5
    # in cell voltage and 5e-5 in the channel-floor mean current, P1 on the finer mesh
    # (2.1k DOFs) by 5e-5 and 2e-4.  The flux field for plots is then piecewise linear, not
    # piecewise constant.  Workflow-size solves take < 0.3 s either way.
    element_degree: int = 2

    def __post_init__(self):
        if self.temperature <= 0 or self.reference_temperature <= 0:
            raise ValueError("temperatures must be positive (kelvin)")
        if self.conductivity_ref <= 0 or self.exchange_current_density <= 0:
            raise ValueError("conductivity_ref and exchange_current_density must be positive")
        if self.alpha_anodic <= 0 or self.alpha_cathodic <= 0:
            raise ValueError("transfer coefficients must be positive")
        if int(self.element_degree) != self.element_degree or self.element_degree < 1:
            raise ValueError("element_degree must be a positive integer")

    @classmethod
    def from_dict(cls, values: dict) -> ElectrochemistryParameters:
        """Build from a plain dict (e.g. parsed JSON); unknown keys are an error, not ignored."""
        return parameters_from_dict(cls, values, "electrochemistry")

    @property
    def conductivity(self) -> float:
        return conductivity(self.temperature, self.conductivity_ref, self.reference_temperature, self.activation_energy)

    @property
    def thermal_voltage(self) -> float:
        """RT/F in volts."""
        return GAS_CONSTANT * self.temperature / FARADAY

    @property
    def charge_transfer_resistance(self) -> float:
        """Small-signal interfacial resistance of a flat interface, RT / (F i0 (alpha_a + alpha_c)), ohm m²."""
        return self.thermal_voltage / (self.exchange_current_density * (self.alpha_anodic + self.alpha_cathodic))


def conductivity(temperature, conductivity_ref=0.079, reference_temperature=298.15, activation_energy=0.24):
    """Arrhenius ionic conductivity of the SSE (S/m); activation energy in eV."""
    return conductivity_ref * np.exp(-activation_energy / BOLTZMANN_EV * (1.0 / temperature - 1.0 / reference_temperature))


def butler_volmer_current(overpotential, exchange_current_density, alpha_anodic, alpha_cathodic, temperature):
    """Interfacial current density (A/m², positive = stripping) at overpotential eta = phi_s - phi.

    Works on numbers/arrays and on UFL expressions alike.
    """
    exp = ufl.exp if isinstance(overpotential, ufl.core.expr.Expr) else np.exp
    f = FARADAY / (GAS_CONSTANT * temperature)
    return exchange_current_density * (exp(alpha_anodic * f * overpotential) - exp(-alpha_cathodic * f * overpotential))


def charge_transfer_conductance(params: ElectrochemistryParameters, current_density: float = 0.0) -> float:
    """Slope (S/m²) of the chord through the origin and the Butler–Volmer curve at ``current_density``.

    At zero current it is the tangent, i0 (alpha_a + alpha_c) F / RT, the usual linearisation.
    """
    if current_density == 0.0:
        return 1.0 / params.charge_transfer_resistance
    return current_density / planar_overpotential(current_density, params)


def planar_overpotential(current_density: float, params: ElectrochemistryParameters) -> float:
    """Overpotential of a flat interface carrying a uniform current density (inverts Butler–Volmer)."""
    if params.alpha_anodic == params.alpha_cathodic:
        alpha = params.alpha_anodic
        return params.thermal_voltage / alpha * math.asinh(current_density / (2 * params.exchange_current_density))
    # Butler–Volmer is monotone in eta: bisection on a bracket grown until it holds the root
    def excess(eta):
        return butler_volmer_current(eta, params.exchange_current_density, params.alpha_anodic,
                                     params.alpha_cathodic, params.temperature) - current_density
    low, high = -params.thermal_voltage, params.thermal_voltage
    while excess(low) > 0:
        low *= 2
    while excess(high) < 0:
        high *= 2
    for _ in range(200):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if excess(middle) < 0 else (low, middle)
    return 0.5 * (low + high)


def planar_cell_voltage(params: ElectrochemistryParameters, sse_half_thickness: float = 800e-6) -> float:
    """Closed-form voltage of the symmetric planar cell: 2 (i L_half / sigma + eta(i))."""
    i = params.applied_current_density
    return 2 * (i * sse_half_thickness / params.conductivity + planar_overpotential(i, params))


# --------------------------------------------------------------------------------------
# Solver options
# --------------------------------------------------------------------------------------


# Linear solvers for the Newton steps.  The Jacobian is symmetric positive definite.
# CG with two-level p-multigrid: the P_k operator is smoothed by Chebyshev/Jacobi and its
# coarse level is the P1 operator on the same mesh (the Galerkin product through the P1 -> P_k
# interpolation, which the solver supplies), solved by one GAMG V-cycle.  Against GAMG on the
# P2 operator itself (GAMG_SOLVER), 3D unit cell at 1.3e6 DOFs: set-up 12 -> 2.7 s, CG
# iterations 42 -> 27 (initial guess and two Newton steps), solve 35 -> 19 s on one core.
ITERATIVE_SOLVER = {
    "ksp_type": "cg", "ksp_rtol": 1e-10, "ksp_norm_type": "unpreconditioned",
    "pc_type": "mg", "pc_mg_levels": 2, "pc_mg_galerkin": "both",
    "mg_levels_ksp_type": "chebyshev", "mg_levels_pc_type": "jacobi", "mg_levels_ksp_max_it": 1,
    "mg_coarse_ksp_type": "preonly", "mg_coarse_pc_type": "gamg",
    "mg_coarse_pc_gamg_aggressive_coarsening": 0, "mg_coarse_pc_gamg_graph_symmetrize": False,
}
# CG + GAMG on the operator itself: P1 elements (no lower degree for p-multigrid) or a user's
# pc_type gamg.  GAMG set-up dominates a 3D P2 solve: aggressive coarsening by MIS-2 (with
# minimum-degree ordering) instead of squaring the graph, and no graph symmetrisation (the
# operator is symmetric) make it 2.5x faster at 3e5 DOFs, for no more CG iterations.
GAMG_SOLVER = {"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-10, "ksp_norm_type": "unpreconditioned",
               "pc_gamg_aggressive_square_graph": False, "pc_gamg_mis_k_minimum_degree_ordering": True,
               "pc_gamg_graph_symmetrize": False}
# A Krylov solver stops the linearised initial guess at this relative residual (or at its own
# looser tolerance): the linearisation itself is off by about 1e-3 of that residual at
# 0.5 mA/cm², and Newton corrects the rest at no extra steps.
INITIAL_GUESS_RTOL = 1e-3


def default_petsc_options(n_dofs: int, total_current: float, petsc_options: dict | None = None,
                          element_degree: int = 2) -> dict:
    """SNES Newton with back-tracking line search and the linear solver for the problem size.

    MUMPS LU up to :data:`DIRECT_SOLVER_MAX_DOFS`, CG + p-multigrid above (CG + GAMG for P1
    elements).  A user's ``pc_type`` picks the matching preset instead (``lu`` ->
    :data:`DIRECT_SOLVER`, ``gamg`` -> :data:`GAMG_SOLVER`, anything else -> no linear
    defaults), then the user's options override everything.
    """
    user = dict(petsc_options or {})
    iterative = ITERATIVE_SOLVER if element_degree > 1 and user.get("pc_type") != "gamg" else GAMG_SOLVER
    linear = linear_options(user, DIRECT_SOLVER, iterative, n_dofs <= DIRECT_SOLVER_MAX_DOFS)
    # Residual entries are nodal current imbalances (A per metre of depth): converge to
    # 1e-10 of the total current crossing the cell, whatever i_app is.  No relative test:
    # relative to a poor initial residual it would accept a wrong answer.
    snes_atol = max(1e-10 * abs(total_current), 1e-30)
    return {
        "snes_type": "newtonls",
        "snes_linesearch_type": "bt",
        "snes_atol": snes_atol,
        "snes_rtol": 0.0,
        "snes_max_it": 50,
        # A Krylov solve of a Newton step need only leave a linear residual (the next nonlinear
        # residual, to first order) well below snes_atol: more accuracy is never seen.
        "ksp_atol": 0.1 * snes_atol,
        **linear,
        **user,
    }


class ElectrochemistryConvergenceError(RuntimeError):
    """The solve did not converge (the Newton solve, or the linear solve of its initial guess)."""

    def __init__(self, reason_name: str, iterations: int, residual_norm: float, params: ElectrochemistryParameters,
                 stage: str = "Newton (SNES)"):
        self.reason_name, self.iterations, self.residual_norm, self.stage = reason_name, iterations, residual_norm, stage
        super().__init__(
            f"electrochemistry {stage} solve failed: {reason_name} after {iterations} iterations, "
            f"residual norm {residual_norm:.3e} (i_app = {params.applied_current_density:g} A/m², "
            f"T = {params.temperature:g} K); adjust petsc_options or check the inputs"
        )


def snes_reason_name(reason: int) -> str:
    return petsc_reason_name(PETSc.SNES.ConvergedReason, reason)


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass
class ElectrochemistryResult:
    potential: fem.Function  # electrolyte potential phi in the SSE (V)
    interface: pd.DataFrame  # one row per interface node, sorted by s, identical on every rank
    summary: dict  # JSON-serialisable scalars
    parameters: ElectrochemistryParameters
    _current_density: fem.Function | None = field(default=None, repr=False)

    def current_density(self) -> fem.Function:
        """Current density j = -sigma grad(phi) (A/m²) as a continuous vector field for plots.

        L2 projection onto the potential's (vector) Lagrange space: smooth point data for
        arrows.  The interface current in :attr:`interface` does not use it (it is Butler–
        Volmer of the nodal potential, which is exact at the nodes).
        """
        if self._current_density is None:
            V = self.potential.function_space
            mesh = V.mesh
            W = fem.functionspace(mesh, ("Lagrange", V.ufl_element().degree, (mesh.geometry.dim,)))
            j, w = ufl.TrialFunction(W), ufl.TestFunction(W)
            sigma = fem.Constant(mesh, self.parameters.conductivity)
            flux = -sigma * ufl.grad(self.potential)
            prefix = "ec_current_projection_"
            with petsc_options_in_database(prefix, {"ksp_type": "cg", "pc_type": "jacobi", "ksp_rtol": 1e-12}):
                projection = LinearProblem(ufl.inner(j, w) * ufl.dx, ufl.inner(flux, w) * ufl.dx,
                                           petsc_options_prefix=prefix)
                projection.solver.setFromOptions()
                self._current_density = projection.solve()
            self._current_density.name = "current_density"
        return self._current_density

    def write_fields(self, path: str | Path) -> None:
        """Write the potential and the current-density vector as a VTX (ADIOS2 ``.bp``) directory for ParaView."""
        current = self.current_density()
        with io.VTXWriter(self.potential.function_space.mesh.comm, str(path), [self.potential, current], engine="BP4") as vtx:
            vtx.write(0.0)

    def write_vtu(self, path: str | Path) -> None:
        """The same two fields as one serial ``.vtu`` (point data), which the workflow's figures read."""
        write_vtu(path, {"electrolyte_potential": self.potential, "current_density": self.current_density()})


# --------------------------------------------------------------------------------------
# The solve
# --------------------------------------------------------------------------------------


def solve_electrochemistry(body: Body, profile: InterfaceProfile | None, params: ElectrochemistryParameters,
                           petsc_options: dict | None = None, prefix: str = "ec_") -> ElectrochemistryResult:
    """Solve for the electrolyte potential in the SSE body and post-process the interface current.

    ``petsc_options`` override the defaults of :func:`default_petsc_options` (keys without
    the prefix, e.g. ``{"ksp_type": "cg", "pc_type": "gamg"}``).  Raises
    :class:`ElectrochemistryConvergenceError` if Newton does not converge.
    """
    t_start = time.perf_counter()
    mesh = body.mesh
    comm = mesh.comm
    tdim = mesh.topology.dim
    segments = body.interface_segments
    if not segments or "sse_midplane" not in body.facet_groups:
        raise KeyError(f"body lacks interface segments or sse_midplane; it has {sorted(body.facet_groups)}")

    V = fem.functionspace(mesh, ("Lagrange", params.element_degree))
    n_dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs
    phi = fem.Function(V, name="electrolyte_potential")
    v = ufl.TestFunction(V)

    # Constants, not floats, so one compiled form serves every current and temperature
    sigma = fem.Constant(mesh, params.conductivity)
    i_app = fem.Constant(mesh, float(params.applied_current_density))
    phi_s = fem.Constant(mesh, 0.0)
    i0 = fem.Constant(mesh, float(params.exchange_current_density))
    alpha_a = fem.Constant(mesh, float(params.alpha_anodic))
    alpha_c = fem.Constant(mesh, float(params.alpha_cathodic))
    T = fem.Constant(mesh, float(params.temperature))

    # The Butler–Volmer exponential is not a polynomial: fix the interface quadrature so the
    # residual and the post-processed interface integrals use the same rule (exact discrete
    # charge conservation).
    quadrature_degree = 2 * params.element_degree + 2
    ds_interface = body.ds(*segments)(degree=quadrature_degree)
    ds_midplane = body.ds("sse_midplane")

    def interface_term(interface_current):
        return -interface_current(phi_s - phi, i0, alpha_a, alpha_c, T) * v * ds_interface

    def weak_form(interface_current):
        return (ufl.inner(sigma * ufl.grad(phi), ufl.grad(v)) * ufl.dx
                + interface_term(interface_current)
                + i_app * v * ds_midplane)

    F = weak_form(butler_volmer_current)
    nominal_width = assemble_scalar(comm, 1.0 * ds_midplane)
    total_current = float(params.applied_current_density) * nominal_width
    interface_length = assemble_scalar(comm, 1.0 * ds_interface)
    options = default_petsc_options(n_dofs, total_current, petsc_options, params.element_degree)

    # Start Newton from the linearised problem, i_n ~ g eta.  The slope g is the chord of the
    # Butler–Volmer curve at the mean interface current i_app W / L, which is the tangent
    # i0 (alpha_a + alpha_c) F / RT at low current but, unlike it, does not overshoot eta
    # (and overflow the exponentials) at high current.
    mean_interface_current = total_current / interface_length
    conductance = fem.Constant(mesh, charge_transfer_conductance(params, mean_interface_current))

    def linearised(eta, *_):
        return conductance * eta

    a_linear, L_linear = ufl.system(ufl.replace(weak_form(linearised), {phi: ufl.TrialFunction(V)}))
    # The Jacobian differs from the linearised operator A only on the interface,
    #   J(phi) = A + <(i_n'(eta) - g) dphi, v>_interface,
    # so A (the Ohmic bulk, the costly part) is assembled once and each Newton step adds this.
    jacobian_correction = ufl.derivative(interface_term(butler_volmer_current) - interface_term(linearised), phi)

    with petsc_options_in_database(prefix, options):
        problem = NonlinearProblem(F, phi, petsc_options_prefix=prefix)
        snes = problem.solver
        snes.setFromOptions()
        a_linear, L_linear, jacobian_correction = fem.form(a_linear), fem.form(L_linear), fem.form(jacobian_correction)
        t_setup = time.perf_counter()

        # The linearised problem is solved with the Newton solver's own KSP, into the problem's
        # matrix; the Jacobians go into a copy of its sparsity.  An iterative solver then keeps
        # the preconditioner built for A for every Newton step (the Jacobians differ from A only
        # in the interface conductance); LU factorises each Jacobian.
        ksp = snes.getKSP()
        pc = ksp.getPC()
        if pc.getType() == PETSc.PC.Type.MG and pc.getMGLevels() == 2 and params.element_degree > 1:
            _set_p1_coarse_level(pc, V)  # the p-multigrid of ITERATIVE_SOLVER
        A_linear = problem.A
        _solve_linearised(ksp, A_linear, a_linear, L_linear, phi)
        initial_guess_iterations = ksp.getIterationNumber()
        if ksp.getConvergedReason() <= 0:
            raise ElectrochemistryConvergenceError(linear_solve_failure(ksp),
                                                   initial_guess_iterations, ksp.getResidualNorm(), params,
                                                   stage="linearised initial-guess (KSP)")
        jacobian_matrix = A_linear.duplicate(copy=False)
        preconditioner_matrix = A_linear if options.get("ksp_type") != "preonly" else jacobian_matrix
        snes.setJacobian(_jacobian_callback(A_linear, jacobian_correction, phi), jacobian_matrix, preconditioner_matrix)
        assembly_timer = _time_snes_assembly(snes)
        t_initial = time.perf_counter()

        problem.solve()
    reason, iterations = snes.getConvergedReason(), snes.getIterationNumber()
    residual_norm = snes.getFunctionNorm()
    if reason <= 0:
        raise ElectrochemistryConvergenceError(snes_reason_name(reason), iterations, residual_norm, params)
    phi.x.scatter_forward()
    t_newton = time.perf_counter()

    # ---- post-processing: assembled (and MPI-reduced) interface and mid-plane integrals
    eta = phi_s - phi
    interface_current = butler_volmer_current(eta, i0, alpha_a, alpha_c, T)
    segment_length = {name: assemble_scalar(comm, 1.0 * body.ds(name)(degree=quadrature_degree)) for name in segments}
    segment_current = {name: assemble_scalar(comm, interface_current * body.ds(name)(degree=quadrature_degree))
                       for name in segments}
    interface_current_total = sum(segment_current.values())
    mean_midplane_potential = assemble_scalar(comm, phi * ds_midplane) / nominal_width
    half_cell_voltage = float(phi_s.value) - mean_midplane_potential
    # Energy identity of the weak form (test with v = phi): i_app W V_half = bulk Joule
    # heating + interfacial dissipation, which splits the cell resistance into two parts.
    bulk_dissipation = assemble_scalar(comm, ufl.inner(sigma * ufl.grad(phi), ufl.grad(phi)) * ufl.dx)
    interface_dissipation = assemble_scalar(comm, interface_current * eta * ds_interface)

    table = _interface_table(body, phi, profile, params)
    segment_nodes = table.groupby("segment")["current_density_A_m2"].agg(["min", "max"]).reindex(segments)
    i_app_value = float(params.applied_current_density)
    per_width = i_app_value * nominal_width
    summary = {
        "cell_voltage_V": 2.0 * half_cell_voltage,
        "half_cell_voltage_V": half_cell_voltage,
        "applied_current_density_A_m2": i_app_value,
        "temperature_K": float(params.temperature),
        "conductivity_S_m": float(params.conductivity),
        "mean_current_density_A_m2": interface_current_total / interface_length,
        "max_current_density_A_m2": float(table["current_density_A_m2"].max()),
        "min_current_density_A_m2": float(table["current_density_A_m2"].min()),
        "max_current_density_normalised": float(table["current_density_normalised"].max()) if i_app_value else None,
        "mean_overpotential_V": assemble_scalar(comm, eta * ds_interface) / interface_length,
        "max_overpotential_V": float(table["overpotential_V"].max()),
        "segment_mean_current_density_A_m2": {n: segment_current[n] / segment_length[n] for n in segments},
        "segment_max_current_density_A_m2": segment_nodes["max"].to_dict(),
        "segment_min_current_density_A_m2": segment_nodes["min"].to_dict(),
        "segment_current_fraction": {n: segment_current[n] / interface_current_total if interface_current_total else None
                                     for n in segments},
        "segment_length_m": segment_length,
        "interface_length_m": interface_length,
        "nominal_width_m": nominal_width,
        "interface_length_per_nominal_width": interface_length / nominal_width,
        "interface_current_per_nominal_width_A_m2": interface_current_total / nominal_width,
        "charge_conservation_relative_error": (interface_current_total - per_width) / per_width if per_width else None,
        # per nominal area, symmetric cell (both interfaces / both half-thicknesses)
        "bulk_resistance_ohm_m2": 2 * bulk_dissipation / (nominal_width * i_app_value**2) if i_app_value else None,
        "interfacial_resistance_ohm_m2": 2 * interface_dissipation / (nominal_width * i_app_value**2) if i_app_value else None,
        "charge_transfer_resistance_ohm_m2": params.charge_transfer_resistance,
        "element_degree": int(params.element_degree),
        "dofs": int(n_dofs),
        "cells": int(body.global_size(tdim)),
        "interface_nodes": int(len(table)),
        "newton_iterations": int(iterations),
        "linear_iterations": int(snes.getLinearSolveIterations()),
        "initial_guess_linear_iterations": int(initial_guess_iterations),
        "snes_reason": snes_reason_name(reason),
        "residual_norm": float(residual_norm),
        "petsc_options": options,
        "ksp_type": snes.getKSP().getType(),
        "pc_type": snes.getKSP().getPC().getType(),
        "setup_time_s": t_setup - t_start,
        "initial_guess_time_s": t_initial - t_setup,
        "newton_time_s": t_newton - t_initial,
        "assembly_time_s": assembly_timer["seconds"],
        "linear_solve_time_s": (t_newton - t_initial) - assembly_timer["seconds"],
        "solve_time_s": t_newton - t_setup,
        "postprocess_time_s": time.perf_counter() - t_newton,
        "n_ranks": comm.size,
        "parameters": asdict(params),
    }
    if tdim == 3:  # the interface and the mid-plane are surfaces: name their measures as areas
        summary = {MEASURE_NAMES_3D.get(key, key): value for key, value in summary.items()}
    # Timings differ between ranks; report the slowest so every rank holds the same summary
    for key in [k for k in summary if k.endswith("_time_s")]:
        summary[key] = comm.allreduce(summary[key], op=MPI.MAX)

    if comm.rank == 0:
        logger.info(
            "electrochemistry: i_app %.4g A/m², T %.2f K, %d dofs, %d Newton its (%s, |F| %.2e), "
            "V_cell %.6g V, max i/i_app %.4g, %.2f s",
            i_app_value, params.temperature, n_dofs, iterations, summary["snes_reason"], residual_norm,
            summary["cell_voltage_V"], summary["max_current_density_normalised"] or float("nan"),
            summary["solve_time_s"] + summary["setup_time_s"])
    return ElectrochemistryResult(potential=phi, interface=table, summary=summary, parameters=params)


def _solve_linearised(ksp: PETSc.KSP, A: PETSc.Mat, a: fem.Form, L: fem.Form, u: fem.Function) -> None:
    """Assemble the linear problem a(u, v) = L(v) into ``A`` and solve it into ``u`` with ``ksp``,
    to a relative residual of :data:`INITIAL_GUESS_RTOL` (a Krylov solver; LU is exact)."""
    A.zeroEntries()
    assemble_matrix(A, a)
    A.assemble()
    b = assemble_vector(L)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    ksp.setOperators(A, A)
    rtol = ksp.getTolerances()[0]
    ksp.setTolerances(rtol=max(rtol, INITIAL_GUESS_RTOL))
    try:
        ksp.solve(b, u.x.petsc_vec)
    finally:
        ksp.setTolerances(rtol=rtol)
        b.destroy()
    u.x.scatter_forward()


def _set_p1_coarse_level(pc: PETSc.PC, V: fem.FunctionSpace) -> None:
    """Make a two-level PCMG a p-multigrid: its coarse level is P1 on the mesh of ``V``."""
    interpolation = interpolation_matrix(fem.functionspace(V.mesh, ("Lagrange", 1)), V)
    interpolation.assemble()
    pc.setMGInterpolation(1, interpolation)


def _jacobian_callback(A: PETSc.Mat, correction: fem.Form, u: fem.Function):
    """SNES Jacobian callback: J = A + the assembled ``correction`` (a form in ``u``) at the iterate."""

    def jacobian(snes, x, J, P):
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        assign(x, u)
        A.copy(J, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        assemble_matrix(J, correction)
        J.assemble()

    return jacobian


def _time_snes_assembly(snes: PETSc.SNES) -> dict:
    """Wrap the SNES residual and Jacobian callbacks to accumulate their (assembly) wall time."""
    timer = {"seconds": 0.0}

    def timed(callback):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return callback(*args, **kwargs)
            finally:
                timer["seconds"] += time.perf_counter() - t0
        return wrapper

    residual_vector, (residual, r_args, r_kwargs) = snes.getFunction()
    snes.setFunction(timed(residual), residual_vector, args=r_args, kargs=r_kwargs)
    jacobian_matrix, preconditioner_matrix, (jacobian, j_args, j_kwargs) = snes.getJacobian()
    snes.setJacobian(timed(jacobian), jacobian_matrix, preconditioner_matrix, args=j_args, kargs=j_kwargs)
    return timer


def _interface_table(body: Body, phi: fem.Function, profile: InterfaceProfile | None,
                     params: ElectrochemistryParameters) -> pd.DataFrame:
    """Potential, overpotential and Butler–Volmer current at every interface node (2D) or facet
    Gauss point (3D), gathered on all ranks."""
    V = phi.function_space
    mesh = V.mesh
    if mesh.topology.dim == 3:
        return _interface_table_3d(body, phi, params)
    fdim = mesh.topology.dim - 1
    mesh.topology.create_connectivity(fdim, mesh.topology.dim)
    interface_facets = body.facets(*body.interface_segments)
    dofs = fem.locate_dofs_topological(V, fdim, interface_facets)
    dofs = dofs[dofs < V.dofmap.index_map.size_local]  # owned only: each node once across ranks
    xy = V.tabulate_dof_coordinates()[dofs, :2]
    # Vertices lie on the exact curve; higher-order nodes lie on straight facets, off a
    # fillet arc by at most the sagitta h²/(8 r) < h/2.
    tolerance = 1e-9
    if V.ufl_element().degree > 1 and len(interface_facets):
        tolerance = max(tolerance, 0.5 * float(mesh.h(fdim, interface_facets).max()))
    tolerance = mesh.comm.allreduce(tolerance, op=MPI.MAX)
    potential = phi.x.array[dofs].real
    overpotential = 0.0 - potential
    current = butler_volmer_current(overpotential, params.exchange_current_density, params.alpha_anodic,
                                    params.alpha_cathodic, params.temperature)
    s, names = profile.locate(xy, tolerance=tolerance)
    i_app = params.applied_current_density
    local = pd.DataFrame({
        "s_m": s,
        "x_m": xy[:, 0],
        "y_m": xy[:, 1],
        "segment": names.astype(str),
        "current_density_A_m2": current,
        "current_density_normalised": current / i_app if i_app else np.full_like(current, np.nan),
        "overpotential_V": overpotential,
        "electrolyte_potential_V": potential,
    }, columns=list(INTERFACE_COLUMNS))
    table = pd.concat(mesh.comm.allgather(local), ignore_index=True)
    return table.sort_values("s_m", kind="stable").reset_index(drop=True)


def _interface_table_3d(body: Body, phi: fem.Function, params: ElectrochemistryParameters) -> pd.DataFrame:
    samples = facet_samples(body, body.interface_segments, INTERFACE_RULE_DEGREE_3D)
    potential = phi.eval(samples.points, samples.cells).ravel().real if len(samples.cells) else np.zeros(0)
    overpotential = 0.0 - potential
    current = butler_volmer_current(overpotential, params.exchange_current_density, params.alpha_anodic,
                                    params.alpha_cathodic, params.temperature)
    i_app = params.applied_current_density
    local = pd.DataFrame({
        "x_m": samples.points[:, 0],
        "y_m": samples.points[:, 1],
        "z_m": samples.points[:, 2],
        "area_m2": samples.weights,
        "segment": samples.groups,
        "current_density_A_m2": current,
        "current_density_normalised": current / i_app if i_app else np.full_like(current, np.nan),
        "overpotential_V": overpotential,
        "electrolyte_potential_V": potential,
    }, columns=list(INTERFACE_COLUMNS_3D))
    table = pd.concat(phi.function_space.mesh.comm.allgather(local), ignore_index=True)
    return table.sort_values(["segment", "x_m", "z_m", "y_m"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# File-level driver (the workflow step)
# --------------------------------------------------------------------------------------


def run_electrochemistry(mesh_path: str | Path, geometry_json_path: str | Path, params: ElectrochemistryParameters,
                         petsc_options: dict | None, interface_csv: str | Path, summary_json: str | Path,
                         fields_dir: str | Path | None, vtu_path: str | Path | None = None,
                         comm: MPI.Comm = MPI.COMM_WORLD, prefix: str = "ec_") -> ElectrochemistryResult:
    """Load a cell mesh, solve, and write the interface CSV, the summary JSON, the VTX fields
    and (optionally) the same fields as a ``.vtu``.

    Nothing is written unless Newton converged; each output is written under a temporary
    name and renamed into place (the summary last), so a failure leaves no partial output.
    """
    body, profile = load_cell_body(mesh_path, geometry_json_path, "sse", comm)
    result = solve_electrochemistry(body, profile, params, petsc_options=petsc_options, prefix=prefix)
    result.summary["mesh"] = str(mesh_path)
    result.summary["geometry"] = str(geometry_json_path)

    write_outputs(result, comm, interface_csv, summary_json, fields_dir, vtu_path)
    return result
