"""Creep of the Li foil pressed onto a rigid, micropatterned SSE: stresses along the interface.

The model (SCIENCE.md, Study A, "Mechanics"), small strain, plane strain, SI units:

* Only the Li body is modelled; the SSE is rigid.  Li is linear elastic with
  Norton power-law creep and J2 flow (:mod:`lisse.creep`), integrated by backward
  Euler with a return mapping at the quadrature points.
* Stack pressure ``P`` on ``li_top``: traction ``-P nu`` (``nu`` the outward normal
  of the Li), switched on at t = 0 and held.
* Li/SSE interface (all ``interface_*`` facets): frictionless, bilateral contact
  with the rigid SSE.  With ``n`` the SSE's outward normal (pointing into the Li,
  ``n = -nu``) the constraint is ``u.n = g``, ``g(t) = -delta(t)``: the Li follows
  the interface as stripping removes a layer of thickness ``delta`` (on the planar
  cell ``u_y = -delta``).  ``delta`` ramps linearly from 0 to ``recession`` over
  ``recession_ramp_time``.  The tangential traction is zero.
* ``li_left`` (x = 0) is a mirror plane: ``u_x = 0``.  ``li_right`` is either
  ``"uniform_edge"`` — the edge of a unit cell cut out of a wide foil with a free
  rim: ``u_x = U`` uniform along it, ``U`` a single extra unknown, with zero net
  lateral force — or ``"free"`` (traction-free, for meshes reaching the pellet rim).

Weak form.  With ``sigma`` the Li stress, ``t_n(sigma) = nu.sigma.nu`` and
``c(u) = u.nu + g`` the constraint residual (``u.n - g = -c``), Nitsche's method
imposes only the normal constraint, so the Li slides freely along any interface
shape:

    (sigma, eps(v))  +  <P nu, v>_top
      - <t_n(sigma), v.nu>_I  -  theta <t_n(C:eps(v)), c(u)>_I  +  <gamma E / h  c(u), v.nu>_I  =  0

for all ``v`` vanishing where ``u_x`` is prescribed.  On the interface ``nu`` is the facet
normal averaged at the vertices (:func:`lisse.fem.averaged_boundary_normal`), normalised
between them: continuous, so the Li can slide past the facet kinks of a meshed fillet.
With the facets' own normals each kink node must satisfy ``u.nu = 0`` for two normals,
which pins it (in 2D) or lets it move only along the kink line (in 3D); the Li flows
millimetres past the fillets in an hour, so the pinning dominated the 3D grid's stresses.
``theta = 0`` (incomplete,
default), ``1`` (symmetric) or ``-1`` (skew); the penalty ``gamma E / h`` uses the cell
diameter ``h``.  The consistency term uses the actual (creeping) stress, so its Jacobian
carries the algorithmic tangent C_alg, like the bulk term; the theta term (which
multiplies ``c(u)``, zero for the exact solution, so every theta is consistent) uses the
elastic operator.  That mismatch decides stability.  Once the Li creeps, C_alg loses its
shear stiffness, and the bulk term no longer controls the elastic traction
``t_n(C:eps(v))`` of the theta term: the Jacobian becomes indefinite at the fast-creeping
points (the Newton correction is then no descent direction, and Newton stalls).  This
stalled the 3D unit cell at the pillar foot, whatever the mesh, step or recession.  With
theta = 0 the only boundary term beside the penalty is the consistency term, which is
bounded by the bulk term with the same tangent, so gamma = 100 keeps the Jacobian
positive definite however far the Li relaxes.  On the 2D grid the three variants agree to
0.3 % (segment means; 4 % on the small-stress lower corner, where the variants differ by
discretisation error of the same size on the paper and the production mesh).

Where the stress lives.  With P2 displacements the strain is linear in each
triangle; the stress is computed at the 3 points of the degree-2 Gauss rule and
stored as the one DG1 field taking those values there (3 points <-> 3 DG1
coefficients).  The cell integrals see exactly the quadrature-point stresses,
and the Nitsche traction on a facet is the DG1 trace — exact in the elastic case
(linear stress).  The Jacobian of that trace is assembled exactly as well (see
:meth:`_LiCreepProblem.stress_derivative`), so Newton converges quadratically.

Locking.  Creep is isochoric, so once it has relaxed the deviatoric stress the
Li behaves as a nearly incompressible fluid (the algorithmic tangent keeps the
bulk modulus K and loses its shear stiffness).  The pressure is therefore taken
constant per cell, ``p = -K mean_T(div u)`` (selective reduced integration /
B-bar, i.e. the inf-sup stable P2-P0 pair), while the deviatoric stress keeps
its 3 quadrature points.  The volumetric response is elastic whatever the creep,
so this changes nothing else; the elastic planar solution is reproduced exactly.

Uniform edge.  Write ``u = w + U psi`` with ``psi = (x / x_R, 0)`` and ``w_x = 0``
on ``li_right``.  The extra equation is the residual tested with ``psi`` (no net
lateral force on the edge).  Each Newton step solves the bordered system

    [K   k_U] [dw]     [R_w]
    [r^T k  ] [dU] = - [R_U]

by two back-substitutions with one factorisation of ``K``: ``K a = R_w``,
``K b = k_U``, ``dU = (r.a - R_U) / (k - r.b)``, ``dw = -a - b dU``.  In 3D ``li_back``
is a second uniform edge (``psi = (0, 0, z / z_B)``): one more back-substitution and a 2x2
Schur complement instead of the scalar ``k - r.b``.
"""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import basix
import numpy as np
import pandas as pd
import ufl
from dolfinx import fem, io
from dolfinx.fem import petsc as fem_petsc
from mpi4py import MPI
from petsc4py import PETSc

from lisse.creep import (
    LithiumCreepLaw,
    NortonMaterial,
    equivalent_stress,
    mandel_identity,
    norton_creep_update,
)
from lisse.fem import (Body, averaged_boundary_normal, facet_samples, linear_options, linear_solver,
                       linear_solve_failure, load_cell_body, solve_linear_system, write_vtu)
from lisse.solver_cli import parameters_from_dict, write_outputs
from lisse.interface import InterfaceProfile

logger = logging.getLogger(__name__)

LATERAL_CONDITIONS = ("uniform_edge", "free")
BACK_CONDITIONS = ("uniform_edge", "mirror")
NITSCHE_VARIANTS = {"incomplete": 0.0, "symmetric": 1.0, "skew": -1.0}
INTERFACE_NORMALS = ("averaged", "facet")

INTERFACE_COLUMNS = (
    "time_s",
    "s_m",
    "x_m",
    "y_m",
    "segment",
    "von_mises_Pa",
    "hydrostatic_pressure_Pa",  # -tr(sigma)/3, positive in compression
    "deviatoric_norm_Pa",  # |s| = sqrt(s:s) = sqrt(2/3) sigma_e, s = dev(sigma) (3D, with s_zz)
    "normal_traction_Pa",  # n.sigma.n, negative in compression
    "tangential_traction_Pa",  # t.sigma.n, t = n turned clockwise (direction of increasing s); ~0
    "normal_gap_m",  # u.n - g, the contact-constraint violation
    "tangential_displacement_m",  # u.t, the slip along the rigid SSE
)

# 3D: no interface coordinate; each row is a facet Gauss point with its share of the interface
# area, and tangential quantities are magnitudes (there is no single tangent direction)
INTERFACE_COLUMNS_3D = ("time_s", "x_m", "y_m", "z_m", "area_m2") + INTERFACE_COLUMNS[4:]
SORT_KEYS = {2: ["s_m"], 3: ["segment", "x_m", "z_m", "y_m"]}

SQRT2 = math.sqrt(2.0)
# Quadrature of the cell integrals: degree 2, 3 points per triangle, one per DG1 coefficient
QUADRATURE_DEGREE = 2
# Quadrature of the contact terms: products of P2 (v, du), the linear stress trace and up to
# three (nearly) linear normals.  Set explicitly: UFL's estimate for the normalised averaged
# normal n / sqrt(n.n) is far higher and made the 3D Jacobian assembly 2.3x slower (5.1 s
# against 2.2 s at 63k DOFs); degree 8 changes the 2D grid's segment means by < 1e-4.
CONTACT_QUADRATURE_DEGREE = 6
# Round-off floor of the residual.  Steady Norton flow carries the Li far (the small-strain
# displacement grows like eps_dot t: strains of 10..1e6 after an hour at 1..5 MPa), and the
# stresses are E-sized differences of those strains; the attainable residual then grows with
# time, to ~1e-5 of the applied force at 5 MPa.  A Newton iterate whose residual no line search
# can reduce is accepted (and reported) if |R| <= STAGNATION_RTOL * P |li_top|.
STAGNATION_RTOL = 1e-4


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MechanicsParameters(LithiumCreepLaw):
    """Inputs of one mechanics solve, SI units."""

    stack_pressure: float = 1.0e6  # Pa, on li_top
    temperature: float = 298.15  # K
    youngs_modulus: float = 7.8e9  # Pa (Masias 2019)
    poisson_ratio: float = 0.38
    creep_rate_ref: float = 1.4e-2  # eps_dot_0 at reference_temperature, 1/s (the calibration constant)
    creep_exponent: float = 6.6
    creep_stress_ref: float = 0.95e6  # Pa
    creep_activation_energy: float = 37e3  # J/mol
    reference_temperature: float = 298.15  # K
    recession: float = 1e-6  # m, interface recession delta (thickness stripped)
    recession_ramp_time: float = 1.0  # s, delta ramps linearly from 0 over this time
    t_eval: float = 3600.0  # s, end of the creep transient (half-cycle of the 1 mAh-scale tests)
    creep: bool = True  # False: elastic only
    lateral_condition: str = "uniform_edge"  # "uniform_edge" | "free"
    # 3D only, li_back (z = z_B): a uniform edge with zero net force like li_right (the unit
    # cell of a wide foil), or "mirror", u_z = 0 (plane strain: with the ridges pattern the 3D
    # model then reproduces the 2D one, which is how it is verified)
    back_condition: str = "uniform_edge"
    output_times: tuple[float, ...] = (1.0, 10.0, 100.0)  # s, intermediate interface tables
    initial_time_step: float = 1e-3  # s; ~0.1 x the Maxwell time sigma_ref / (E eps_dot_0) at 25 °C
    # dt *= growth after each quickly converged step.  Where the Li stops flowing (channel
    # Li after the recession ramp) its stress relaxes along the power-law tail
    # sigma ~ (E eps_dot_0 t)^(-1/(n-1)), on which backward Euler with geometric steps has a
    # self-similar relative error of about 6 % (g - 1); g = 1.25 keeps it below 2 % in ~65 steps.
    # Where the Li flows steadily (under the lands) the stress is exact whatever the step.
    time_step_growth: float = 1.25
    fast_newton_iterations: int = 6  # dt grows only after steps converged in at most this many iterations
    max_time_step_cutbacks: int = 10  # consecutive halvings of a failing step before giving up
    max_newton_iterations: int = 25
    max_line_search_halvings: int = 8
    newton_rtol: float = 1e-8  # |residual| <= rtol * P * |li_top| (total applied force per unit depth)
    newton_stol: float = 1e-10  # or |Newton correction| <= stol * |u| (round-off floor once u is large)
    # gamma in gamma E / h.  The penetration it allows, ~ P h / (gamma E), is 1e-11 m here.
    nitsche_penalty: float = 100.0
    # "incomplete" (theta = 0) | "symmetric" (theta = 1) | "skew" (theta = -1): theta = 0 stays
    # stable as creep softens the Li (module docstring); the others stall where the Li creeps fast.
    nitsche_variant: str = "incomplete"
    # The normal of the contact constraint: "averaged" at the vertices (continuous along the
    # interface, lisse.fem.averaged_boundary_normal) or "facet" (the straight facets' own normals,
    # which kink at every facet edge of a meshed fillet and pin the Li sliding past it: on the 3D
    # grid halving the fillet elements halved the stresses; with "averaged" they agree to 2 %)
    interface_normal: str = "averaged"
    # P2: creep is isochoric, and once relaxed the Li flows almost incompressibly (the
    # algorithmic tangent keeps the bulk modulus but loses its shear stiffness).  P1 triangles
    # lock under that constraint, with or without a pressure per cell (P1-P0 is not inf-sup
    # stable): on the 200 um grid they give 0.54 MPa on the channel floor where P2 gives
    # 0.074 MPa.  P2 (with a pressure per cell, below) is stable, and its stresses are linear
    # per cell, so the interface traction is accurate.  Supported: 1 (for comparison), 2.
    element_degree: int = 2
    # Pressure constant per cell (P2-P0): the volumetric response is elastic (creep is
    # isochoric), so it is integrated from the cell-mean volumetric strain — selective reduced
    # integration / B-bar.  Relaxed Li is nearly incompressible, and P2 with a linear pressure
    # per cell (full integration) is not inf-sup stable; P2-P0 is.
    constant_pressure_per_cell: bool = True

    def __post_init__(self):
        if self.lateral_condition not in LATERAL_CONDITIONS:
            raise ValueError(f"lateral_condition must be one of {LATERAL_CONDITIONS}, not {self.lateral_condition!r}")
        if self.back_condition not in BACK_CONDITIONS:
            raise ValueError(f"back_condition must be one of {BACK_CONDITIONS}, not {self.back_condition!r}")
        if self.nitsche_variant not in NITSCHE_VARIANTS:
            raise ValueError(f"nitsche_variant must be one of {tuple(NITSCHE_VARIANTS)}")
        if self.interface_normal not in INTERFACE_NORMALS:
            raise ValueError(f"interface_normal must be one of {INTERFACE_NORMALS}, not {self.interface_normal!r}")
        if self.element_degree not in (1, 2):
            raise ValueError("element_degree must be 1 or 2 (the stress is stored as a DG1 field)")
        if self.temperature <= 0 or self.reference_temperature <= 0:
            raise ValueError("temperatures must be positive (kelvin)")
        if not 0.0 <= self.poisson_ratio < 0.5 or self.youngs_modulus <= 0:
            raise ValueError("need E > 0 and 0 <= nu < 0.5")
        if self.stack_pressure < 0 or self.recession < 0 or self.recession_ramp_time < 0:
            raise ValueError("stack_pressure, recession and recession_ramp_time must be non-negative")
        if self.nitsche_penalty <= 0:
            raise ValueError("nitsche_penalty must be positive")
        if self.t_eval <= 0 or self.initial_time_step <= 0 or self.time_step_growth < 1.0:
            raise ValueError("need t_eval > 0, initial_time_step > 0 and time_step_growth >= 1")
        object.__setattr__(self, "output_times", tuple(float(t) for t in self.output_times))

    @classmethod
    def from_dict(cls, values: dict) -> MechanicsParameters:
        """Build from a plain dict (e.g. parsed JSON); unknown keys are an error, not ignored."""
        return parameters_from_dict(cls, values, "mechanics")

    def material(self) -> NortonMaterial:
        return self.norton_material(self.youngs_modulus, self.poisson_ratio)

    def recession_at(self, t: float) -> float:
        """delta(t): linear ramp from 0 to ``recession`` over ``recession_ramp_time``, then held."""
        if self.recession_ramp_time <= 0.0:
            return self.recession if t > 0.0 else 0.0
        return self.recession * min(t / self.recession_ramp_time, 1.0)

    @property
    def stops(self) -> list[float]:
        """Times the stepping must land on: end of the ramp, output times, t_eval."""
        times = {self.t_eval, *(t for t in self.output_times if 0.0 < t < self.t_eval)}
        if 0.0 < self.recession_ramp_time < self.t_eval:
            times.add(self.recession_ramp_time)
        return sorted(times)


def planar_von_mises(params: MechanicsParameters, relaxed: bool) -> float:
    """Closed-form sigma_e in a planar cell (uniaxial compression, plane strain).

    sigma_yy = -P, sigma_xx = 0; elastically sigma_zz = -nu P, so sigma_e = P sqrt(1 - nu + nu^2);
    once creep has relaxed the out-of-plane deviator, sigma_zz = -P/2 and sigma_e = (sqrt(3)/2) P.
    """
    P, nu = params.stack_pressure, params.poisson_ratio
    return math.sqrt(3.0) / 2.0 * P if relaxed else P * math.sqrt(1.0 - nu + nu * nu)


# Linear solvers for the Newton steps.  The Jacobian is non-symmetric (Nitsche consistency term
# with the creep tangent): GMRES, preconditioned by smoothed-aggregation AMG (GAMG, no hypre in
# this PETSc) that is told the rigid-body modes.  Solves are tight because each Newton step also
# solves for the uniform-edge borders, whose Schur complement needs accurate back-substitutions.
DIRECT_SOLVER = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
ITERATIVE_SOLVER = {"ksp_type": "gmres", "ksp_gmres_restart": 200, "ksp_rtol": 1e-10, "ksp_max_it": 1000,
                    "pc_type": "gamg", "pc_gamg_threshold": 0.01, "mg_levels_ksp_type": "chebyshev",
                    "mg_levels_pc_type": "jacobi"}
# 3D above this many DOFs: iterative (sparse LU fill grows like N^2 in 3D); 2D always LU, its
# meshes of the interface region stay well within direct-solver sizes.  Measured on the default
# 3D unit cell (66k DOFs, creep steps): one MUMPS factorisation 2.7 s + 3 back-substitutions
# 0.2 s per Newton step, against ~50 GMRES + GAMG iterations per solve, 5.6 s (the relaxed Li
# is nearly incompressible and the Nitsche penalty stiff, which smoothed aggregation handles poorly).
# On the paper's 3D meshes (creep steps, 1 rank, another job beside it): 184k DOFs, MUMPS 21 s per
# Newton iteration against ~4x that with GAMG; 326k DOFs, MUMPS 41 s per iteration, 5.9 GB.
DIRECT_SOLVER_MAX_DOFS_3D = 400_000


def default_petsc_options() -> dict:
    """MUMPS LU (what 2D and small 3D problems use; Study B's default too)."""
    return dict(DIRECT_SOLVER)


class MechanicsConvergenceError(RuntimeError):
    """The time stepping gave up: a step kept failing after the allowed cut-backs."""

    def __init__(self, step: int, time_s: float, dt: float, reason: str, residual_norm: float):
        self.step, self.time_s, self.dt, self.reason, self.residual_norm = step, time_s, dt, reason, residual_norm
        super().__init__(f"mechanics time step {step} from t = {time_s:.6g} s failed with dt = {dt:.3e} s after "
                         f"the maximum number of cut-backs: {reason} (last residual norm {residual_norm:.3e})")


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass
class MechanicsResult:
    displacement: fem.Function  # u at t_eval (m)
    interface: pd.DataFrame  # rows per interface sampling point and output time, sorted by (time, s); on every rank
    summary: dict  # JSON-serialisable scalars
    parameters: MechanicsParameters
    _problem: _LiCreepProblem = field(repr=False, default=None)
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


# --------------------------------------------------------------------------------------
# Kinematics and stresses in UFL (plane strain)
# --------------------------------------------------------------------------------------


def strain_mandel(v):
    """The solved strain components as a Mandel vector: [xx, yy, sqrt(2) xy] in plane strain
    (eps_zz = 0), [xx, yy, zz, sqrt(2) xy, sqrt(2) yz, sqrt(2) xz] in 3D."""
    e = ufl.sym(ufl.grad(v))
    if len(v.ufl_shape) and v.ufl_shape[0] == 3:
        return ufl.as_vector([e[0, 0], e[1, 1], e[2, 2], SQRT2 * e[0, 1], SQRT2 * e[1, 2], SQRT2 * e[0, 2]])
    return ufl.as_vector([e[0, 0], e[1, 1], SQRT2 * e[0, 1]])


def mandel_to_tensor(m):
    """The tensor of the space's dimension from a Mandel vector of :func:`strain_mandel`'s layout."""
    if m.ufl_shape[0] == 6:
        return ufl.as_tensor([[m[0], m[3] / SQRT2, m[5] / SQRT2],
                              [m[3] / SQRT2, m[1], m[4] / SQRT2],
                              [m[5] / SQRT2, m[4] / SQRT2, m[2]]])
    return ufl.as_tensor([[m[0], m[2] / SQRT2], [m[2] / SQRT2, m[1]]])


def stress_tensor(stress, tdim: int):
    """Stress of the space's dimension from the stored components: [xx, yy, zz, xy] in plane
    strain (the in-plane part), [xx, yy, zz, xy, yz, xz] in 3D."""
    if tdim == 3:
        return ufl.as_tensor([[stress[0], stress[3], stress[5]],
                              [stress[3], stress[1], stress[4]],
                              [stress[5], stress[4], stress[2]]])
    return ufl.as_tensor([[stress[0], stress[3]], [stress[3], stress[1]]])


def stress_tensor_3d(stress):
    """The full 3x3 stress from the stored components (plane strain: with sigma_zz)."""
    if stress.ufl_shape[0] == 6:
        return stress_tensor(stress, 3)
    return ufl.as_tensor([[stress[0], stress[3], 0], [stress[3], stress[1], 0], [0, 0, stress[2]]])


def cell_mean_divergence(v, centroid):
    """div(v) at the cell centroid = its cell mean (div v is linear on a straight P2/P1 simplex)."""
    x = ufl.SpatialCoordinate(v.ufl_function_space().mesh)
    return ufl.div(v) + ufl.dot(ufl.grad(ufl.div(v)), centroid - x)


def elastic_stress(v, bulk_modulus, shear_modulus, centroid=None):
    """C : eps(v) (its in-plane part under plane strain), K tr(eps) I + 2 G dev(eps), with the
    cell-mean volumetric strain if a centroid field is given."""
    e = ufl.sym(ufl.grad(v))
    identity = ufl.Identity(e.ufl_shape[0])
    volumetric = ufl.div(v) if centroid is None else cell_mean_divergence(v, centroid)
    return bulk_modulus * volumetric * identity + 2.0 * shear_modulus * (e - ufl.div(v) / 3.0 * identity)


def normal_component(tensor, normal):
    return ufl.dot(ufl.dot(tensor, normal), normal)


# --------------------------------------------------------------------------------------
# The discrete problem
# --------------------------------------------------------------------------------------


class _LiCreepProblem:
    """Spaces, forms, quadrature-point state and the Newton solver of the Li body."""

    def __init__(self, body: Body, params: MechanicsParameters, petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.material = material = params.material()
        tdim = mesh.topology.dim
        fdim = tdim - 1
        mesh.topology.create_connectivity(fdim, tdim)
        self.segments = body.interface_segments
        if not self.segments or "li_top" not in body.facet_groups:
            raise KeyError(f"Li body lacks interface segments or li_top; it has {sorted(body.facet_groups)}")
        if params.lateral_condition == "uniform_edge" and "li_right" not in body.facet_groups:
            raise KeyError("lateral_condition 'uniform_edge' needs the li_right facet group")
        if tdim == 3 and params.lateral_condition != "uniform_edge":
            raise ValueError("the 3D unit cell needs lateral_condition 'uniform_edge'")
        self.tdim = tdim
        # stored stress components and the solved (Mandel) strain components among them
        self.n_stress = 6 if tdim == 3 else 4
        self.solved = list(range(6)) if tdim == 3 else [0, 1, 3]
        n_strain = len(self.solved)
        n_points_per_cell = tdim + 1  # degree-2 Gauss rule on a simplex <-> DG1 coefficients

        self.V = V = fem.functionspace(mesh, ("Lagrange", params.element_degree, (tdim,)))
        self.u = fem.Function(V, name="displacement")
        v, du = ufl.TestFunction(V), ufl.TrialFunction(V)

        # ---- quadrature-point state, held in DG1 fields (see the module docstring)
        self.Q = fem.functionspace(mesh, ("DG", 1))
        # [xx, yy, zz, xy] (plane strain) or [xx, yy, zz, xy, yz, xz] (3D)
        self.stress = fem.Function(fem.functionspace(mesh, ("DG", 1, (self.n_stress,))), name="stress")
        # the part of the Mandel tangent C_alg of the solved components differentiated through
        # the DG1 field: all of it, or only the deviatoric part when the pressure is taken per cell
        self.tangent = fem.Function(fem.functionspace(mesh, ("DG", 1, (n_strain, n_strain))))
        self.tangent_moment = fem.Function(fem.functionspace(mesh, ("DG", 1, (n_strain, n_strain, tdim))))  # C (x) x_q
        self.bulk_modulus = material.lame_lambda + 2.0 * material.shear_modulus / 3.0
        # material numbers enter the forms as Constants: one compiled form set serves every case
        bulk = fem.Constant(mesh, self.bulk_modulus)
        shear = fem.Constant(mesh, material.shear_modulus)
        self.bulk = bulk
        self.cell_pressure = params.constant_pressure_per_cell
        if self.cell_pressure:
            W0 = fem.functionspace(mesh, ("DG", 0, (tdim,)))
            self.centroid = fem.Function(W0)
            self.centroid.interpolate(fem.Expression(ufl.SpatialCoordinate(mesh), W0.element.interpolation_points))
        else:
            self.centroid = None
        cell_map = mesh.topology.index_map(tdim)
        self.n_cells = cell_map.size_local + cell_map.num_ghosts  # ghosts too: no scatter of the state needed
        self.cells = np.arange(self.n_cells, dtype=np.int32)
        cell_type = basix.CellType.tetrahedron if tdim == 3 else basix.CellType.triangle
        points, _ = basix.make_quadrature(cell_type, QUADRATURE_DEGREE)
        assert len(points) == n_points_per_cell, "the DG1 storage of the state needs one point per vertex"
        self.n_points_per_cell = n_points_per_cell
        tabulated = self.Q.element.basix_element.tabulate(0, points)[0, :, :, 0]  # (point, dof)
        self.point_to_dof = np.linalg.inv(tabulated)  # DG1 coefficients from the values at the 3 points
        self.dofs = self.Q.dofmap.list[: self.n_cells]  # (cell, tdim + 1): same layout for every DG1 space
        self.strain_at_points = fem.Expression(strain_mandel(self.u), points)
        x_points = fem.Expression(ufl.SpatialCoordinate(mesh), points).eval(mesh, self.cells)
        self.point_coordinates = x_points.reshape(-1, tdim)  # (cell * points + point, coordinates)
        n_points = n_points_per_cell * self.n_cells
        self.creep_strain_old = np.zeros((n_points, self.n_stress))
        self.equivalent_creep_strain_old = np.zeros(n_points)
        self.update = None  # CreepUpdate of the current iterate
        self.linear_iterations = 0  # Krylov iterations over all solves (1 per solve with LU)

        # ---- loads and constraint data
        self.pressure = fem.Constant(mesh, float(params.stack_pressure))
        self.gap = fem.Constant(mesh, 0.0)  # g = -delta(t)
        nu_top = ufl.FacetNormal(mesh)
        # nu: outward from the Li, into the SSE (n = -nu), continuous along the interface by default
        if params.interface_normal == "averaged":
            self.interface_normal = averaged_boundary_normal(body, self.segments)
            nu = self.interface_normal / ufl.sqrt(ufl.dot(self.interface_normal, self.interface_normal))
        else:
            self.interface_normal = None
            nu = nu_top
        h = ufl.CellDiameter(mesh)
        penalty = fem.Constant(mesh, params.nitsche_penalty * params.youngs_modulus) / h
        theta = fem.Constant(mesh, NITSCHE_VARIANTS[params.nitsche_variant])
        dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        ds_top = body.ds("li_top")
        ds_contact = body.ds(*self.segments).reconstruct(metadata={"quadrature_degree": CONTACT_QUADRATURE_DEGREE})
        sigma = stress_tensor(self.stress, tdim)
        constraint = ufl.dot(self.u, nu) + self.gap  # = -(u.n - g)

        elastic_test_stress = elastic_stress(v, bulk, shear, self.centroid)
        residual = (
            ufl.inner(sigma, ufl.sym(ufl.grad(v))) * dx
            + self.pressure * ufl.dot(v, nu_top) * ds_top
            - normal_component(sigma, nu) * ufl.dot(v, nu) * ds_contact
            - theta * normal_component(elastic_test_stress, nu) * constraint * ds_contact
            + penalty * constraint * ufl.dot(v, nu) * ds_contact
        )
        jacobian = (
            ufl.inner(self.stress_derivative(du), strain_mandel(v)) * dx
            - normal_component(mandel_to_tensor(self.stress_derivative(du)), nu) * ufl.dot(v, nu) * ds_contact
            - theta * normal_component(elastic_test_stress, nu) * ufl.dot(du, nu) * ds_contact
            + penalty * ufl.dot(du, nu) * ufl.dot(v, nu) * ds_contact
        )
        self.residual_form = fem.form(residual)
        self.jacobian_form = fem.form(jacobian)

        # ---- boundary conditions on the increments: mirror planes (u_x = 0 on li_left, u_z = 0 on
        # li_front in 3D) and w = 0 normal to each uniform edge
        mirrors = [("li_left", 0)] + ([("li_front", 2)] if tdim == 3 else [])
        self.edges = []  # (facet group, displacement component) of each uniform edge
        if params.lateral_condition == "uniform_edge":
            self.edges.append(("li_right", 0))
        if tdim == 3:
            (self.edges if params.back_condition == "uniform_edge" else mirrors).append(("li_back", 2))
        self.bcs = []
        for name, component in mirrors + self.edges:
            if name not in body.facet_groups:
                raise KeyError(f"the Li body lacks the {name} facet group; it has {sorted(body.facet_groups)}")
            dofs = fem.locate_dofs_topological(V.sub(component), fdim, body.facets(name))
            self.bcs.append(fem.dirichletbc(0.0, dofs, V.sub(component)))
        self.edge_bcs = self.bcs[len(mirrors):]

        # ---- uniform edges: psi_j = x_c / x_c,max e_c, whose couplings border the Newton system
        self.psi = []
        for name, component in self.edges:
            extent = self.comm.allreduce(float(mesh.geometry.x[:, component].max(initial=-np.inf)), op=MPI.MAX)
            psi = fem.Function(V)
            psi.interpolate(lambda x, c=component, L=extent: np.vstack(
                [x[c] / L if k == c else np.zeros_like(x[0]) for k in range(tdim)]))
            self.psi.append(psi)
        # owned rows (and columns) of the constrained increments, in the matrix's local numbering
        bs = V.dofmap.index_map_bs
        owned = V.dofmap.index_map.size_local * bs
        constrained = np.concatenate([bc.dof_indices()[0] for bc in self.bcs] or [np.zeros(0, np.int32)])
        self.constrained_rows = np.unique(constrained[constrained < owned]).astype(PETSc.IntType)

        # ---- linear algebra
        self.A = fem_petsc.create_matrix(self.jacobian_form)
        self.A.setNearNullSpace(rigid_body_modes(V))  # GAMG builds its coarse spaces from these
        self.b = fem_petsc.create_vector(V)
        self.solution = self.b.duplicate()
        n_dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs
        use_direct = tdim == 2 or n_dofs <= DIRECT_SOLVER_MAX_DOFS_3D
        self.petsc_options = linear_options(dict(petsc_options or {}), DIRECT_SOLVER, ITERATIVE_SOLVER, use_direct)
        self.ksp = linear_solver(self.comm, prefix, self.petsc_options)
        self.border_columns = [self.b.duplicate() for _ in self.psi]
        self.border_rows = [self.b.duplicate() for _ in self.psi]
        self.border_solutions = [self.b.duplicate() for _ in self.psi]
        self.psi_norms = [psi.x.petsc_vec.norm() for psi in self.psi]

        self.top_length = _assemble(self.comm, 1.0 * ds_top)
        # residual entries are nodal forces per unit depth: scale by the total applied force
        stress_scale = params.stack_pressure if params.stack_pressure > 0 else params.creep_stress_ref
        self.force_scale = stress_scale * self.top_length
        self.n_dofs = n_dofs + len(self.psi)  # plus one border unknown per uniform edge

    # ---- the constitutive update at the quadrature points -> DG1 fields

    def stress_derivative(self, du):
        """Exact directional derivative of the DG1 stress field, in-plane Mandel components.

        The DG1 field is the interpolant through the values at the quadrature points x_q:
        d(sigma_h)[du](x) = sum_q L_q(x) C_q eps(du)(x_q).  eps(du) is linear on a straight
        triangle, so eps(du)(x_q) = eps(du)(x) + grad(eps(du)) (x_q - x), and with the DG1
        interpolants C_h of C_q and M_h of C_q (x) x_q:
            d(sigma_h)[du] = C_h eps(du) + (M_h - C_h (x) x) : grad(eps(du)).
        At the quadrature points this is exactly C_q eps(du)(x_q).  With a pressure per cell,
        C_h is the deviatoric part and the cell pressure adds K mean(div du) I.
        """
        e = strain_mandel(du)
        i, j, k = ufl.indices(3)  # UFL index objects (ranges follow the operands' shapes)
        x = ufl.SpatialCoordinate(self.mesh)
        moment = self.tangent_moment[i, j, k] - self.tangent[i, j] * x[k]
        derivative = ufl.as_vector(self.tangent[i, j] * e[j] + moment * ufl.grad(e)[j, k], i)
        if self.cell_pressure:
            volumetric = self.bulk * cell_mean_divergence(du, self.centroid)
            identity = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0] if self.tdim == 3 else [1.0, 1.0, 0.0]
            derivative = derivative + volumetric * ufl.as_vector(identity)
        return derivative

    def _to_dg1(self, function: fem.Function, values_at_points: np.ndarray) -> None:
        """Set a DG1 field from its values at the tdim + 1 quadrature points of every local cell."""
        per_cell = values_at_points.reshape(self.n_cells, self.n_points_per_cell, -1)
        coefficients = np.einsum("dq,cqk->cdk", self.point_to_dof, per_cell)
        bs = function.function_space.dofmap.index_map_bs
        function.x.array.reshape(-1, bs)[self.dofs.ravel()] = coefficients.reshape(-1, bs)

    def update_constitutive(self, dt: float) -> None:
        solved = self.strain_at_points.eval(self.mesh, self.cells).reshape(-1, len(self.solved))
        strain = np.zeros((len(solved), self.n_stress))
        strain[:, self.solved] = solved  # plane strain: eps_zz = 0
        self.update = update = norton_creep_update(strain, self.creep_strain_old, dt, self.material)
        tangent = update.tangent
        if self.cell_pressure:  # creep is deviatoric: only the elastic pressure K tr(eps) changes
            identity = mandel_identity(self.n_stress)
            trace = strain[:, :3].sum(axis=1)
            m = self.n_points_per_cell  # equal weights of the degree-2 rule: the cell mean is the point mean
            cell_mean_trace = np.repeat(trace.reshape(-1, m).mean(axis=1), m)
            update.stress += (self.bulk_modulus * (cell_mean_trace - trace))[:, None] * identity
            tangent = tangent - self.bulk_modulus * np.outer(identity, identity)
        stress = update.stress.copy()
        stress[:, 3:] /= SQRT2  # Mandel -> tensor shear components
        self._to_dg1(self.stress, stress)
        tangent = tangent[:, self.solved][:, :, self.solved]
        self._to_dg1(self.tangent, tangent)
        moment = tangent[:, :, :, None] * self.point_coordinates[:, None, None, :]
        self._to_dg1(self.tangent_moment, moment)

    def commit(self) -> None:
        """Accept the current iterate as the state at the end of the step."""
        self.creep_strain_old = self.update.creep_strain.copy()
        self.equivalent_creep_strain_old = self.equivalent_creep_strain_old + self.update.creep_increment

    # ---- Newton

    def _assemble_residual(self) -> tuple[float, np.ndarray]:
        """Assemble R into self.b (constrained rows zeroed); return (|R|, R_U) with R_U_j = R . psi_j."""
        with self.b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(self.b, self.residual_form)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        edge_residuals = np.array([self.b.dot(psi.x.petsc_vec) for psi in self.psi])
        fem_petsc.set_bc(self.b, self.bcs, alpha=0.0)
        return math.sqrt(self.b.norm() ** 2 + float(edge_residuals @ edge_residuals)), edge_residuals

    def _assemble_jacobian(self) -> np.ndarray:
        """Assemble K into self.A and the border of the Newton system; return its corner psi_i^T K_full psi_j.

        The border comes from the unconstrained matrix K_full, before the constrained rows and
        columns are replaced by the identity: k_j = K_full psi_j, r_j = K_full^T psi_j.
        """
        self.A.zeroEntries()
        fem_petsc.assemble_matrix(self.A, self.jacobian_form)
        self.A.assemble()
        for psi, column, row in zip(self.psi, self.border_columns, self.border_rows):
            self.A.mult(psi.x.petsc_vec, column)
            self.A.multTranspose(psi.x.petsc_vec, row)
        corner = np.array([[psi.x.petsc_vec.dot(column) for column in self.border_columns] for psi in self.psi])
        for vector in self.border_columns + self.border_rows:
            fem_petsc.set_bc(vector, self.bcs, alpha=0.0)
        self.A.zeroRowsColumnsLocal(self.constrained_rows, diag=1.0)
        return corner

    def _evaluate(self, dt: float) -> tuple[float, np.ndarray]:
        """Constitutive update and residual at the current u: (|R|, R_U); |R| = inf if either failed."""
        try:
            self.update_constitutive(dt)
            failed = 0
        except RuntimeError:  # the return mapping did not converge at some point
            failed = 1
        if self.comm.allreduce(failed, op=MPI.MAX):  # every rank must take the same branch
            return math.inf, np.zeros(len(self.psi))
        return self._assemble_residual()

    def _newton_direction(self, edge_residuals: np.ndarray) -> np.ndarray:
        """Solve for the Newton correction -du into self.solution (w part); return dU (psi parts).

        With k uniform edges the bordered system is reduced to its k x k Schur complement:
        K a = R_w, K b_j = k_j, S_ij = corner_ij - r_i . b_j, S dU = r . a - R_U, solution = a + b dU.
        """
        corner = self._assemble_jacobian()
        self.ksp.setOperators(self.A)
        self._linear_solve(self.b, self.solution)  # K a = R_w
        if not self.psi:
            return np.zeros(0)
        for column, solution in zip(self.border_columns, self.border_solutions):
            self._linear_solve(column, solution)  # K b_j = k_j
        schur = corner - np.array([[row.dot(b) for b in self.border_solutions] for row in self.border_rows])
        rhs = np.array([row.dot(self.solution) for row in self.border_rows]) - edge_residuals
        dU = np.linalg.solve(schur, rhs)
        for dU_j, b in zip(dU, self.border_solutions):
            self.solution.axpy(dU_j, b)  # a + b dU: then du = -solution + dU . psi
        return dU

    def _linear_solve(self, rhs: PETSc.Vec, solution: PETSc.Vec) -> None:
        solve_linear_system(self.ksp, rhs, solution)
        self.linear_iterations += self.ksp.getIterationNumber()
        if self.ksp.getConvergedReason() <= 0:
            raise _LinearSolveError(linear_solve_failure(self.ksp))

    def newton(self, dt: float) -> tuple[bool, int, float, str]:
        """Solve the step from the current guess in self.u; returns (converged, iterations, |R|, reason).

        Newton with a back-tracking line search on |R|: with n = 6.6 the tangent is stiff
        where the Li barely creeps and soft where it flows, and full steps from a poor
        guess (e.g. when the recession stops at the end of its ramp) can wander off.
        """
        p = self.params
        norm, edge_residuals = self._evaluate(dt)
        correction_norm = math.inf
        u_start = self.u.x.petsc_vec.copy()
        for iteration in range(p.max_newton_iterations + 1):
            if self.comm.rank == 0:
                logger.debug("  Newton %2d: |R| = %.3e, |du| = %.3e, %d Krylov its so far",
                             iteration, norm, correction_norm, self.linear_iterations)
            if not math.isfinite(norm):
                return False, iteration, norm, "constitutive update failed or residual not finite"
            if norm <= p.newton_rtol * self.force_scale:
                return True, iteration, norm, "converged"
            # Once the creep flow has carried u far, the residual is limited by round-off
            # (stresses are E-sized differences of large strains): then accept a Newton
            # correction at round-off level relative to u.
            if correction_norm <= p.newton_stol * self.u.x.petsc_vec.norm():
                return True, iteration, norm, "converged (correction at round-off level)"
            if iteration == p.max_newton_iterations:
                break
            try:
                dU = self._newton_direction(edge_residuals)
            except _LinearSolveError as error:
                return False, iteration, norm, str(error)
            direction_norm = math.sqrt(self.solution.norm() ** 2 + float(np.sum((dU * self.psi_norms) ** 2)))
            self.u.x.petsc_vec.copy(u_start)
            roundoff = direction_norm <= p.newton_stol * u_start.norm()
            alpha = 1.0
            for _ in range(p.max_line_search_halvings + 1):
                self.u.x.petsc_vec.waxpy(-alpha, self.solution, u_start)
                for dU_j, psi in zip(dU, self.psi):
                    self.u.x.petsc_vec.axpy(alpha * dU_j, psi.x.petsc_vec)
                self.u.x.scatter_forward()
                trial_norm, trial_edge = self._evaluate(dt)
                if roundoff or trial_norm <= (1.0 - 1e-4 * alpha) * norm:
                    break
                alpha *= 0.5
            else:
                # No descent along the Newton direction: the residual sits at its round-off
                # floor if it is already small (accept), a failure otherwise.
                if norm <= STAGNATION_RTOL * self.force_scale:
                    u_start.copy(self.u.x.petsc_vec)  # back to the last iterate and its state
                    self.u.x.scatter_forward()
                    self._evaluate(dt)
                    return True, iteration, norm, "converged (residual stagnates at round-off level)"
                return False, iteration + 1, norm, "line search found no decrease of the residual"
            norm, edge_residuals = trial_norm, trial_edge
            correction_norm = alpha * direction_norm
        return False, p.max_newton_iterations, norm, f"no convergence in {p.max_newton_iterations} Newton iterations"


class _LinearSolveError(RuntimeError):
    """A Newton direction could not be computed; the message says why (linear_solve_failure)."""


def rigid_body_modes(V: fem.FunctionSpace) -> PETSc.NullSpace:
    """Translations and rotations (3 in 2D, 6 in 3D), for GAMG's near-null space."""
    dim = V.mesh.geometry.dim
    zero = np.zeros_like
    if dim == 2:
        fields = [lambda x: np.vstack([np.ones_like(x[0]), zero(x[0])]),
                  lambda x: np.vstack([zero(x[0]), np.ones_like(x[0])]),
                  lambda x: np.vstack([-x[1], x[0]])]
    else:
        fields = [lambda x, k=k: np.vstack([np.ones_like(x[0]) if i == k else zero(x[0]) for i in range(3)])
                  for k in range(3)]
        fields += [lambda x: np.vstack([-x[1], x[0], zero(x[0])]),
                   lambda x: np.vstack([zero(x[0]), -x[2], x[1]]),
                   lambda x: np.vstack([x[2], zero(x[0]), -x[0]])]
    modes = [fem.Function(V) for _ in fields]
    for mode, rigid_motion in zip(modes, fields):
        mode.interpolate(rigid_motion)
    orthonormalised = []
    for vec in (m.x.petsc_vec for m in modes):  # Gram-Schmidt: PETSc wants an orthonormal basis
        w = vec.copy()
        for q in orthonormalised:
            w.axpy(-w.dot(q), q)
        w.normalize()
        orthonormalised.append(w)
    return PETSc.NullSpace().create(vectors=orthonormalised, comm=V.mesh.comm)


def _assemble(comm: MPI.Comm, form) -> float:
    """Assemble a scalar form over the owned cells/facets and sum over ranks."""
    compiled = form if isinstance(form, fem.Form) else fem.form(form)
    return comm.allreduce(fem.assemble_scalar(compiled), op=MPI.SUM)


# --------------------------------------------------------------------------------------
# Interface sampling
# --------------------------------------------------------------------------------------


class _InterfaceSampler:
    """Gauss points on every owned interface facet (2 per edge in 2D, 3 per triangle in 3D), with
    the facet's normal, its cell and its share of the interface length (area).

    Values come from the DG1 stress of the facet's own cell, the same trace the Nitsche
    terms use.  In 2D each point also gets its interface coordinate ``s``; facet-interior
    points never coincide, so ``s`` is strictly increasing.
    """

    def __init__(self, problem: _LiCreepProblem, profile: InterfaceProfile | None):
        self.problem = problem
        self.tdim = tdim = problem.tdim
        samples = facet_samples(problem.body, problem.segments, degree=3 if tdim == 2 else 2)
        self.cells, self.points, self.weights = samples.cells, samples.points, samples.weights
        # n: the SSE's outward normal, into the Li; the constraint's own normal
        if problem.interface_normal is None:
            self.normal = -samples.normals
        else:
            averaged = problem.interface_normal.eval(samples.points, samples.cells).reshape(-1, tdim)
            self.normal = -averaged / np.linalg.norm(averaged, axis=1)[:, None]
        if tdim == 2:
            # Gauss points lie on the straight facets, off a fillet arc by at most its sagitta h^2 / (8 r)
            longest = problem.comm.allreduce(float(2.0 * self.weights.max(initial=0.0)), op=MPI.MAX)
            self.s, self.segment = profile.locate(self.points[:, :2], tolerance=max(1e-9, 0.5 * longest))
            self.tangent = np.column_stack([self.normal[:, 1], -self.normal[:, 0]])  # n turned clockwise
        else:
            self.segment = samples.groups

    def sample(self, t: float) -> pd.DataFrame:
        """Interface quantities at time t, gathered on every rank and sorted (by s in 2D)."""
        problem, tdim = self.problem, self.tdim
        components = problem.stress.eval(self.points, self.cells).reshape(-1, problem.n_stress)
        u = problem.u.eval(self.points, self.cells).reshape(-1, tdim)
        mandel = components.copy()
        mandel[:, 3:] *= SQRT2
        von_mises = equivalent_stress(mandel)
        n = self.normal
        if tdim == 2:  # [xx, yy, zz, xy]
            tensor = components[:, [0, 3, 3, 1]].reshape(-1, 2, 2)
        else:  # [xx, yy, zz, xy, yz, xz]
            tensor = components[:, [0, 3, 5, 3, 1, 4, 5, 4, 2]].reshape(-1, 3, 3)
        traction = np.einsum("pij,pj->pi", tensor, n)
        normal_traction = np.einsum("pi,pi->p", traction, n)
        normal_displacement = np.einsum("pi,pi->p", u, n)
        columns = {
            "time_s": np.full(len(self.points), float(t)),
            "x_m": self.points[:, 0],
            "y_m": self.points[:, 1],
            "segment": self.segment.astype(str),
            "von_mises_Pa": von_mises,
            "hydrostatic_pressure_Pa": -(components[:, 0] + components[:, 1] + components[:, 2]) / 3.0,
            "deviatoric_norm_Pa": math.sqrt(2.0 / 3.0) * von_mises,
            "normal_traction_Pa": normal_traction,
            "normal_gap_m": normal_displacement - float(problem.gap.value),
        }
        if tdim == 2:
            columns["s_m"] = self.s
            columns["tangential_traction_Pa"] = np.einsum("pi,pi->p", traction, self.tangent)
            columns["tangential_displacement_m"] = np.einsum("pi,pi->p", u, self.tangent)
            order = list(INTERFACE_COLUMNS)
        else:  # no tangent direction on a surface: magnitudes of the tangential parts
            columns["z_m"] = self.points[:, 2]
            columns["area_m2"] = self.weights
            columns["tangential_traction_Pa"] = np.linalg.norm(traction - normal_traction[:, None] * n, axis=1)
            columns["tangential_displacement_m"] = np.linalg.norm(u - normal_displacement[:, None] * n, axis=1)
            order = list(INTERFACE_COLUMNS_3D)
        local = pd.DataFrame(columns, columns=order)
        table = pd.concat(problem.comm.allgather(local), ignore_index=True)
        return table.sort_values(SORT_KEYS[tdim], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# The solve
# --------------------------------------------------------------------------------------


def solve_mechanics(body: Body, profile: InterfaceProfile | None, params: MechanicsParameters,
                    petsc_options: dict | None = None, prefix: str = "me_") -> MechanicsResult:
    """Creep of the Li body from t = 0 to ``t_eval``; interface tables at the output times and t_eval.

    ``petsc_options`` override the linear-solver preset (MUMPS LU, or GMRES + GAMG above
    :data:`DIRECT_SOLVER_MAX_DOFS_3D` in 3D; see :func:`lisse.fem.linear_options`; keys without the prefix).
    Raises :class:`MechanicsConvergenceError` if a time step keeps failing.
    """
    t_start = time.perf_counter()
    problem = _LiCreepProblem(body, params, petsc_options, prefix)
    comm = problem.comm
    sampler = _InterfaceSampler(problem, profile)

    # Length-weighted segment means of sigma_e, assembled over the DG1 trace
    deviator = ufl.dev(stress_tensor_3d(problem.stress))
    von_mises = ufl.sqrt(1.5 * ufl.inner(deviator, deviator))
    segment_length = {name: _assemble(comm, 1.0 * body.ds(name)) for name in problem.segments}
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
            "segment_mean_von_mises_Pa": {name: _assemble(comm, segment_integral[name]) / segment_length[name]
                                          for name in problem.segments},
            "interface_mean_von_mises_Pa": sum(_assemble(comm, segment_integral[n]) for n in problem.segments)
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


def _edge_displacement(problem: _LiCreepProblem, index: int = 0) -> float | None:
    """U_j, the uniform normal displacement of uniform edge ``index`` (li_right, then li_back; None if absent)."""
    if index >= len(problem.edge_bcs):
        return None
    dofs = problem.edge_bcs[index].dof_indices()[0]
    local = problem.u.x.array[dofs]
    values = problem.comm.allgather(local[:1].tolist())
    values = [v for chunk in values for v in chunk]
    return float(values[0]) if values else None


def _equivalent_creep_strain_dg1(problem: _LiCreepProblem) -> np.ndarray:
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
