"""The electrolyte potential of one cell at one current: forms, solve, summary, result and files."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import pandas as pd
import ufl
from dolfinx import fem, io
from dolfinx.fem.petsc import (
    LinearProblem,
    NonlinearProblem,
)
from mpi4py import MPI
from petsc4py import PETSc

from lisse.cell.electrochemistry.parameters import (
    ElectrochemistryConvergenceError,
    ElectrochemistryParameters,
    butler_volmer_current,
    charge_transfer_conductance,
)
from lisse.cell.electrochemistry.sampling import MEASURE_NAMES_3D, interface_table
from lisse.cell.electrochemistry.solvers import (
    default_petsc_options,
    jacobian_callback,
    set_p1_coarse_level,
    snes_reason_name,
    solve_linearised,
    time_snes_assembly,
)
from lisse.cell.interface import InterfaceProfile
from lisse.cell.mesh import load_cell_body
from lisse.core.mesh import Body, assemble_scalar, write_vtu
from lisse.core.outputs import write_outputs
from lisse.core.solvers import (
    linear_solve_failure,
    petsc_options_in_database,
)
from lisse.core.units import MA_CM2, ZERO_CELSIUS

logger = logging.getLogger(__name__)


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


@dataclass
class ButlerVolmerForms:
    """The weak form of one solve, its linearisation and the measures its post-processing uses.

    Material numbers are Constants, not floats, so one compiled form serves every current and
    temperature.  The Butler-Volmer exponential is not a polynomial: the interface quadrature is
    fixed so that the residual and the interface integrals use the same rule (exact discrete
    charge conservation).
    """

    body: Body
    phi: fem.Function
    segments: list[str]
    conductivity: fem.Constant
    applied_current: fem.Constant
    electrode_potential: fem.Constant  # phi_s
    kinetics: tuple  # (i0, alpha_a, alpha_c, T) as Constants
    quadrature_degree: int
    ds_interface: ufl.Measure
    ds_midplane: ufl.Measure
    nominal_width: float = math.nan  # m (2D, per unit depth) or m² (3D): the mid-plane's measure
    interface_length: float = math.nan  # the interface's measure, same units
    residual: ufl.Form = None
    linearised: tuple = ()  # (a, L) of the initial guess
    jacobian_correction: ufl.Form = None  # J(phi) - A, on the interface only

    @property
    def overpotential(self):
        return self.electrode_potential - self.phi

    def interface_current(self):
        return butler_volmer_current(self.overpotential, *self.kinetics)


def butler_volmer_forms(body: Body, params: ElectrochemistryParameters) -> ButlerVolmerForms:
    """The weak form (module docstring) in the SSE body, with P_k potentials."""
    mesh = body.mesh
    segments = body.interface_segments
    if not segments or "sse_midplane" not in body.facet_groups:
        raise KeyError(f"body lacks interface segments or sse_midplane; it has {sorted(body.facet_groups)}")
    V = fem.functionspace(mesh, ("Lagrange", params.element_degree))
    quadrature_degree = 2 * params.element_degree + 2
    forms = ButlerVolmerForms(
        body=body, phi=fem.Function(V, name="electrolyte_potential"), segments=segments,
        conductivity=fem.Constant(mesh, params.conductivity),
        applied_current=fem.Constant(mesh, float(params.applied_current_density)),
        electrode_potential=fem.Constant(mesh, 0.0),
        kinetics=tuple(fem.Constant(mesh, float(value)) for value in (
            params.exchange_current_density, params.alpha_anodic, params.alpha_cathodic, params.temperature)),
        quadrature_degree=quadrature_degree, ds_interface=body.ds(*segments)(degree=quadrature_degree),
        ds_midplane=body.ds("sse_midplane"))
    return forms


def _weak_forms(forms: ButlerVolmerForms, mean_interface_current: float, params: ElectrochemistryParameters) -> None:
    """Residual, linearised problem and Jacobian correction of ``forms`` (in place).

    Newton starts from the linearised problem, i_n ~ g eta.  The slope g is the chord of the
    Butler-Volmer curve at the mean interface current i_app W / L, which is the tangent
    i0 (alpha_a + alpha_c) F / RT at low current but, unlike it, does not overshoot eta (and
    overflow the exponentials) at high current.  The Jacobian differs from the linearised
    operator A only on the interface, J(phi) = A + <(i_n'(eta) - g) dphi, v>_interface, so A
    (the Ohmic bulk, the costly part) is assembled once and each Newton step adds the rest.
    """
    phi, mesh = forms.phi, forms.phi.function_space.mesh
    v = ufl.TestFunction(phi.function_space)
    conductance = fem.Constant(mesh, charge_transfer_conductance(params, mean_interface_current))

    def interface_term(interface_current):
        return -interface_current(forms.overpotential, *forms.kinetics) * v * forms.ds_interface

    def weak_form(interface_current):
        return (ufl.inner(forms.conductivity * ufl.grad(phi), ufl.grad(v)) * ufl.dx
                + interface_term(interface_current)
                + forms.applied_current * v * forms.ds_midplane)

    def linearised(eta, *_):
        return conductance * eta

    forms.residual = weak_form(butler_volmer_current)
    forms.linearised = ufl.system(ufl.replace(weak_form(linearised), {phi: ufl.TrialFunction(phi.function_space)}))
    forms.jacobian_correction = ufl.derivative(interface_term(butler_volmer_current) - interface_term(linearised), phi)


@dataclass
class NewtonRun:
    """What the SNES solve did, for the summary."""

    reason: int
    iterations: int
    residual_norm: float
    linear_iterations: int
    initial_guess_linear_iterations: int
    ksp_type: str
    pc_type: str
    times: dict[str, float]  # s: setup, initial_guess, newton, assembly


def _solve_newton(forms: ButlerVolmerForms, params: ElectrochemistryParameters, options: dict,
                  prefix: str) -> NewtonRun:
    """SNES Newton from the linearised initial guess (:mod:`lisse.cell.electrochemistry.solvers`)."""
    t_start = time.perf_counter()
    phi, V = forms.phi, forms.phi.function_space
    with petsc_options_in_database(prefix, options):
        problem = NonlinearProblem(forms.residual, phi, petsc_options_prefix=prefix)
        snes = problem.solver
        snes.setFromOptions()
        a_linear, L_linear = (fem.form(form) for form in forms.linearised)
        jacobian_correction = fem.form(forms.jacobian_correction)
        t_setup = time.perf_counter()
        # The linearised problem is solved with the Newton solver's own KSP, into the problem's
        # matrix; the Jacobians go into a copy of its sparsity.  An iterative solver then keeps
        # the preconditioner built for A for every Newton step (the Jacobians differ from A only
        # in the interface conductance); LU factorises each Jacobian.
        ksp = snes.getKSP()
        pc = ksp.getPC()
        if pc.getType() == PETSc.PC.Type.MG and pc.getMGLevels() == 2 and params.element_degree > 1:
            set_p1_coarse_level(pc, V)  # the p-multigrid of ITERATIVE_SOLVER
        A_linear = problem.A
        solve_linearised(ksp, A_linear, a_linear, L_linear, phi)
        initial_guess_iterations = ksp.getIterationNumber()
        if ksp.getConvergedReason() <= 0:
            raise ElectrochemistryConvergenceError(linear_solve_failure(ksp), initial_guess_iterations,
                                                   ksp.getResidualNorm(), params, stage="linearised initial-guess (KSP)")
        jacobian_matrix = A_linear.duplicate(copy=False)
        preconditioner_matrix = A_linear if options.get("ksp_type") != "preonly" else jacobian_matrix
        snes.setJacobian(jacobian_callback(A_linear, jacobian_correction, phi), jacobian_matrix, preconditioner_matrix)
        assembly_timer = time_snes_assembly(snes)
        t_initial = time.perf_counter()
        problem.solve()
    reason, iterations = snes.getConvergedReason(), snes.getIterationNumber()
    residual_norm = snes.getFunctionNorm()
    if reason <= 0:
        raise ElectrochemistryConvergenceError(snes_reason_name(reason), iterations, residual_norm, params)
    phi.x.scatter_forward()
    t_newton = time.perf_counter()
    return NewtonRun(reason=reason, iterations=iterations, residual_norm=residual_norm,
                     linear_iterations=snes.getLinearSolveIterations(),
                     initial_guess_linear_iterations=initial_guess_iterations,
                     ksp_type=snes.getKSP().getType(), pc_type=snes.getKSP().getPC().getType(),
                     times={"setup": t_setup - t_start, "initial_guess": t_initial - t_setup,
                            "newton": t_newton - t_initial, "assembly": assembly_timer["seconds"]})


def solve_electrochemistry(body: Body, profile: InterfaceProfile | None, params: ElectrochemistryParameters,
                           petsc_options: dict | None = None, prefix: str = "ec_") -> ElectrochemistryResult:
    """Solve for the electrolyte potential in the SSE body and post-process the interface current.

    ``petsc_options`` override the defaults of :func:`default_petsc_options` (keys without
    the prefix, e.g. ``{"ksp_type": "cg", "pc_type": "gamg"}``).  Raises
    :class:`ElectrochemistryConvergenceError` if Newton does not converge.
    """
    t_start = time.perf_counter()
    comm = body.mesh.comm
    forms = butler_volmer_forms(body, params)
    V = forms.phi.function_space
    n_dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs
    forms.nominal_width = assemble_scalar(comm, 1.0 * forms.ds_midplane)
    forms.interface_length = assemble_scalar(comm, 1.0 * forms.ds_interface)
    total_current = float(params.applied_current_density) * forms.nominal_width
    _weak_forms(forms, total_current / forms.interface_length, params)
    options = default_petsc_options(n_dofs, total_current, petsc_options, params.element_degree)
    t_forms = time.perf_counter()
    run = _solve_newton(forms, params, options, prefix)
    run.times["setup"] += t_forms - t_start  # the forms and measures count as set-up
    t_post = time.perf_counter()
    table = interface_table(body, forms.phi, profile, params)
    summary = electrochemistry_summary(forms, params, table, run, options, n_dofs)
    summary["postprocess_time_s"] = time.perf_counter() - t_post
    # Timings differ between ranks; report the slowest so every rank holds the same summary
    for key in [k for k in summary if k.endswith("_time_s")]:
        summary[key] = comm.allreduce(summary[key], op=MPI.MAX)
    if comm.rank == 0:
        logger.info(
            "electrochemistry: i_app %.4g mA/cm², T %.4g °C, %d dofs, %d Newton its (%s, |F| %.2e), "
            "V_cell %.6g V, max i/i_app %.4g, %.2f s",
            params.applied_current_density / MA_CM2, params.temperature - ZERO_CELSIUS, n_dofs, run.iterations,
            summary["snes_reason"], run.residual_norm, summary["cell_voltage_V"],
            summary["max_current_density_normalised"] or float("nan"),
            summary["solve_time_s"] + summary["setup_time_s"])
    return ElectrochemistryResult(potential=forms.phi, interface=table, summary=summary, parameters=params)


def electrochemistry_summary(forms: ButlerVolmerForms, params: ElectrochemistryParameters, table: pd.DataFrame,
                             run: NewtonRun, options: dict, n_dofs: int) -> dict:
    """The summary JSON: assembled (and MPI-reduced) interface and mid-plane integrals, the table's
    extremes, the resistances, and the solver facts."""
    body, phi, segments = forms.body, forms.phi, forms.segments
    comm, tdim = body.mesh.comm, body.mesh.topology.dim
    ds_interface, ds_midplane, degree = forms.ds_interface, forms.ds_midplane, forms.quadrature_degree
    eta, interface_current = forms.overpotential, forms.interface_current()
    nominal_width, interface_length = forms.nominal_width, forms.interface_length
    segment_length = {name: assemble_scalar(comm, 1.0 * body.ds(name)(degree=degree)) for name in segments}
    segment_current = {name: assemble_scalar(comm, interface_current * body.ds(name)(degree=degree))
                       for name in segments}
    interface_current_total = sum(segment_current.values())
    mean_midplane_potential = assemble_scalar(comm, phi * ds_midplane) / nominal_width
    half_cell_voltage = float(forms.electrode_potential.value) - mean_midplane_potential
    # Energy identity of the weak form (test with v = phi): i_app W V_half = bulk Joule
    # heating + interfacial dissipation, which splits the cell resistance into two parts.
    bulk_dissipation = assemble_scalar(comm, ufl.inner(forms.conductivity * ufl.grad(phi), ufl.grad(phi)) * ufl.dx)
    interface_dissipation = assemble_scalar(comm, interface_current * eta * ds_interface)
    segment_nodes = table.groupby("segment")["current_density_A_m2"].agg(["min", "max"]).reindex(segments)
    i_app = float(params.applied_current_density)
    per_width = i_app * nominal_width
    summary = {
        "cell_voltage_V": 2.0 * half_cell_voltage,
        "half_cell_voltage_V": half_cell_voltage,
        "applied_current_density_A_m2": i_app,
        "temperature_K": float(params.temperature),
        "conductivity_S_m": float(params.conductivity),
        "mean_current_density_A_m2": interface_current_total / interface_length,
        "max_current_density_A_m2": float(table["current_density_A_m2"].max()),
        "min_current_density_A_m2": float(table["current_density_A_m2"].min()),
        "max_current_density_normalised": float(table["current_density_normalised"].max()) if i_app else None,
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
        "bulk_resistance_ohm_m2": 2 * bulk_dissipation / (nominal_width * i_app**2) if i_app else None,
        "interfacial_resistance_ohm_m2": 2 * interface_dissipation / (nominal_width * i_app**2) if i_app else None,
        "charge_transfer_resistance_ohm_m2": params.charge_transfer_resistance,
        "element_degree": int(params.element_degree),
        "dofs": int(n_dofs),
        "cells": int(body.global_size(tdim)),
        "interface_nodes": int(len(table)),
        "newton_iterations": int(run.iterations),
        "linear_iterations": int(run.linear_iterations),
        "initial_guess_linear_iterations": int(run.initial_guess_linear_iterations),
        "snes_reason": snes_reason_name(run.reason),
        "residual_norm": float(run.residual_norm),
        "petsc_options": options,
        "ksp_type": run.ksp_type,
        "pc_type": run.pc_type,
        "setup_time_s": run.times["setup"],
        "initial_guess_time_s": run.times["initial_guess"],
        "newton_time_s": run.times["newton"],
        "assembly_time_s": run.times["assembly"],
        "linear_solve_time_s": run.times["newton"] - run.times["assembly"],
        "solve_time_s": run.times["initial_guess"] + run.times["newton"],
        "postprocess_time_s": 0.0,
        "n_ranks": comm.size,
        "parameters": asdict(params),
    }
    if tdim == 3:  # the interface and the mid-plane are surfaces: name their measures as areas
        summary = {MEASURE_NAMES_3D.get(key, key): value for key, value in summary.items()}
    return summary


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
