"""Plating-induced stress in Li under a rigid current collector, and the LLZO stress at a pit tip.

The model (SCIENCE.md, Study B, "Model"), 2D plane strain, SI units, on the meshes of
:mod:`lisse.plating_geometry` (LLZO plate with a Li-filled surface pit, a Li interphase
layer, a rigid CC tip as the Li's top boundary; mirror symmetry about x = 0).

Growth (plating).  Li is plated at the Li/LLZO interface at the local current density i
(uniform, choice) and thickens the layer normal to the LLZO surface, d(thickness)/dt =
v = i V_m / F.  It is represented as a growth deformation of the layer above the LLZO
surface plane (y > 0), F_g = I + g(t) n (x) n with n = e_y and

    g(t) = v t / h0 = i V_m t / (F h0),

h0 the layer thickness under the CC apex (``li_thickness``): a free layer of thickness
h0 thickens by exactly v t.  The Li in the pit does not grow (choice: its share of the
plated interface is negligible, and growth of a bonded wedge along a fixed direction would
stress the pit even in free growth).  Loading runs to a fixed plated thickness
``plated_thickness`` (default 4 nm = 20 % of h0 = 20 nm) at every current density,
i.e. over t_end = plated_thickness / v: faster plating leaves less time for creep.

Kinematics (``kinematics = "finite"``, default).  Multiplicative split
F = F_e F_v F_g: growth acts first, in the reference frame (its direction is the
reference LLZO normal), and the viscous flow F_v acts on the grown, stress-free
configuration (choice: with this order the state of an isotropic law is C_v^-1 alone;
the order F_e F_g F_v of the brief would need the full, rotating F_v; the two agree
when F_g and F_v are coaxial).  With Fg_bar = F F_g^-1 the elastic left Cauchy-Green
trial tensor of a step is b_tr = Fg_bar C_v,n^-1 Fg_bar^T, and the exponential-map
return mapping (Weber-Anand 1990, Eterovic-Bathe 1990, Simo 1992) works on the
logarithmic elastic strain eps_tr = 1/2 ln b_tr with Study A's small-strain Norton
return mapping (:func:`lisse.creep.norton_creep_update`) unchanged: the Hencky energy
psi = K/2 (ln J_e)^2 + G |dev eps_e|^2 (per unit grown volume) gives the Kirchhoff
stress tau_e = K ln J_e I + 2 G dev eps_e, the radial return keeps eps_e coaxial with
eps_tr, and after the step b_e = exp(2 eps_e), C_v^-1 = Fg_bar^-1 b_e Fg_bar^-T.
Viscous flow is isochoric (det C_v = 1).  The first Piola-Kirchhoff stress is
P = J_g tau_e F^-T (J_g = 1 + g: the grown volume carries the energy).
``kinematics = "small"`` is the linearised model (eps = sym grad u = eps_e + g n (x) n
+ eps_v, sigma = C : eps_e); the tests show where it departs.

Constitutive laws.  Li: Hencky elasticity (E = 7.8 GPa, nu = 0.38) with Study A's
Norton creep, optionally with a yield strength sigma_y as a Perzyna-type threshold,
eps_dot_v = eps_dot_0 <(sigma_e - sigma_y) / sigma_ref>^n (sigma_y = 0: pure Norton).
LLZO: the same Hencky law without flow (E = 150 GPa, nu = 0.26): hyperelastic and
consistent with the Li law; its strains stay below a few per cent.

Discretisation.  P2 displacements; the deviatoric stress lives at the 3 points of
the degree-2 rule (quadrature spaces), updated in numpy (vectorised return mapping)
with the exact algorithmic tangent d tau / d b_tr, chained in UFL through d b_tr / du.
Volumetric locking (viscous flow is isochoric, the relaxed Li is a nearly
incompressible fluid): the volumetric energy J_g K/2 ln(theta / J_g)^2 uses the cell
mean theta of J (mean dilatation, Nagtegaal / Simo-Taylor-Pister; the finite-strain
form of Study A's P2-P0 pressure, which the small-strain option reuses as is).  On an
affine P2 triangle J is quadratic, so its mean is exact in closed form
(:func:`_cell_mean_jacobian`), and UFL differentiates it exactly.

Boundary conditions (``constraint``):
* ``top``: the CC is rigid and fixed, the Li bonded to it (u = 0 on ``li_cc``); the Li
  may spread laterally through its free edge ``li_free``.  Choice of bonded over
  frictionless: plated Li adheres to Cu/W current collectors and to LLZO, the no-slip
  squeeze film is what makes the top constraint "strong", and it is imposed exactly.
* ``top_lateral``: also u_x = 0 on ``li_free`` (no time to spread).
* ``none``: ``li_cc`` and ``li_free`` traction free (free, whisker-like growth).
Always: Li bonded to LLZO (one displacement field), u_x = 0 on the symmetry edges,
u_y = 0 on ``llzo_bottom`` (frictionless support), ``llzo_sides`` and ``llzo_free``
traction free.  A mesh without LLZO cells (verification strips) sits on a rigid
substrate: u = 0 on ``li_llzo``.

Outputs.  p = -tr(sigma)/3 (Cauchy, positive in compression), per cell (the
mean-dilatation pressure); its maximum over the Li.  sigma_1 = the largest principal
Cauchy stress (in-plane pair and sigma_zz); at the pit tip it is sampled on the LLZO
side of the ``pit_tip`` facets (the notch cap within rho/2 of the axis) from the
stress interpolated linearly through the 3 quadrature points of the LLZO cell, at the
facet ends and 2 Gauss points each: ``sigma1_tip`` is the maximum (the notch-root
stress), ``sigma1_tip_mean`` the length average.

Time integration: backward Euler, adaptive steps (grow after fast Newton convergence,
halve on failure), Newton with a back-tracking line search.  A step that keeps failing
raises :class:`PlatingConvergenceError` naming step, time, dt, reason and residual.
"""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import basix
import basix.ufl
import numpy as np
import pandas as pd
import ufl
from dolfinx import fem, io
from dolfinx import mesh as dmesh
from dolfinx.fem import petsc as fem_petsc
from mpi4py import MPI
from petsc4py import PETSc

from lisse.constants import FARADAY, LI_MOLAR_VOLUME
from lisse.creep import (
    DEVIATORIC_PROJECTOR,
    MANDEL_IDENTITY,
    CreepUpdate,
    LithiumCreepLaw,
    NortonMaterial,
    creep_increment,
    equivalent_stress,
    norton_creep_update,
)
from lisse.fem import Body, linear_solve_failure, linear_solver, load_mesh, solve_linear_system, write_vtu
from lisse.fracture import (
    GRIFFITH_GEOMETRY_FACTOR,
    LLZO_CLEAVAGE_STRENGTH,
    griffith_critical_stress,
    whisker_stress,
)
from lisse.mechanics import cell_mean_divergence, default_petsc_options
from lisse.solver_cli import parameters_from_dict, write_outputs

logger = logging.getLogger(__name__)

CONSTRAINTS = ("top", "top_lateral", "none")
KINEMATICS = ("finite", "small")
SQRT2 = math.sqrt(2.0)
QUADRATURE_DEGREE = 2  # 3 points per triangle
ROUNDOFF_RESIDUAL_FACTOR = 100.0
LLZO, LI = 1, 2  # cell tags (lisse.plating_geometry.CELL_GROUPS)

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


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatingParameters(LithiumCreepLaw):
    """Inputs of one plating solve, SI units."""

    constraint: str = "top"  # "top" | "top_lateral" | "none"
    current_density: float = 40.0  # A/m² (40 A/m² = 4 mA/cm²)
    plated_thickness: float = 4e-9  # m, thickness plated by the end of the run (fixed for every i)
    temperature: float = 298.15  # K
    molar_volume: float = LI_MOLAR_VOLUME  # m³/mol
    # Li: Study A's constants
    li_youngs_modulus: float = 7.8e9
    li_poisson_ratio: float = 0.38
    creep: bool = True  # False: Li hyperelastic
    creep_rate_ref: float = 1.4e-2  # eps_dot_0 at reference_temperature, 1/s
    creep_exponent: float = 6.6
    creep_stress_ref: float = 0.95e6  # Pa
    creep_activation_energy: float = 37e3  # J/mol
    reference_temperature: float = 298.15  # K
    yield_strength: float = 0.0  # Pa; 0 = none (pure Norton); else Perzyna threshold sigma_y
    # LLZO
    llzo_youngs_modulus: float = 150e9
    llzo_poisson_ratio: float = 0.26
    kinematics: str = "finite"  # "finite" | "small"
    # time stepping: first dt = t_end / initial_steps, dt <= max_step_fraction t_end, *= growth when easy
    initial_steps: int = 40
    max_step_fraction: float = 0.05
    time_step_growth: float = 1.25
    fast_newton_iterations: int = 5
    max_time_step_cutbacks: int = 10
    max_newton_iterations: int = 25
    max_line_search_halvings: int = 8
    newton_rtol: float = 1e-8  # |R| <= rtol * K_Li * plated_thickness (nodal forces per unit depth)
    newton_stol: float = 1e-11  # or |Newton correction| <= stol * |u|
    output_fractions: tuple[float, ...] = (0.25, 0.5, 0.75)  # field snapshots at these fractions of t_end

    def __post_init__(self):
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, not {self.constraint!r}")
        if self.kinematics not in KINEMATICS:
            raise ValueError(f"kinematics must be one of {KINEMATICS}, not {self.kinematics!r}")
        if self.current_density <= 0 or self.plated_thickness <= 0:
            raise ValueError("current_density and plated_thickness must be positive")
        for name in ("li", "llzo"):
            E, nu = getattr(self, f"{name}_youngs_modulus"), getattr(self, f"{name}_poisson_ratio")
            if E <= 0 or not -1.0 < nu < 0.5:
                raise ValueError(f"need {name}_youngs_modulus > 0 and -1 < {name}_poisson_ratio < 0.5")
        if self.yield_strength < 0:
            raise ValueError("yield_strength must be >= 0 (0: none)")
        if self.temperature <= 0 or self.reference_temperature <= 0:
            raise ValueError("temperatures must be positive (kelvin)")
        if self.initial_steps < 1 or not 0 < self.max_step_fraction <= 1 or self.time_step_growth < 1:
            raise ValueError("need initial_steps >= 1, 0 < max_step_fraction <= 1, time_step_growth >= 1")
        object.__setattr__(self, "output_fractions",
                           tuple(sorted(float(f) for f in self.output_fractions if 0.0 < f < 1.0)))

    @classmethod
    def from_dict(cls, values: dict) -> PlatingParameters:
        """Build from a plain dict (e.g. parsed JSON); unknown keys are an error, not ignored."""
        values = dict(values)
        if values.get("yield_strength") is None:
            values.pop("yield_strength", None)
        return parameters_from_dict(cls, values, "plating")

    @property
    def plating_velocity(self) -> float:
        """v = i V_m / F, m/s."""
        return self.current_density * self.molar_volume / FARADAY

    @property
    def end_time(self) -> float:
        """t_end = plated_thickness / v, s."""
        return self.plated_thickness / self.plating_velocity

    def li_material(self) -> NortonMaterial:
        return self.norton_material(self.li_youngs_modulus, self.li_poisson_ratio)

    def llzo_material(self) -> NortonMaterial:
        return NortonMaterial(self.llzo_youngs_modulus, self.llzo_poisson_ratio, 0.0, 1.0, 1.0)

    @property
    def stops(self) -> list[float]:
        return [f * self.end_time for f in self.output_fractions] + [self.end_time]


def bulk_modulus(material: NortonMaterial) -> float:
    return material.lame_lambda + 2.0 * material.shear_modulus / 3.0


def confined_pressure(growth_strain, bulk, kinematics: str = "finite"):
    """Closed-form pressure of a layer growing by F_g = I + g n (x) n while confined in every direction.

    F = I, so J_e = 1 / (1 + g); viscous flow is isochoric and cannot relax it.
    Finite strain (Hencky, Cauchy stress): p = -K ln(J_e) / J_e = K (1 + g) ln(1 + g).
    Small strain: p = K g.  Both are K g + O(g^2): they depart by g/2 to first order.
    """
    g = np.asarray(growth_strain, dtype=float)
    return bulk * (1.0 + g) * np.log1p(g) if kinematics == "finite" else bulk * g


class PlatingConvergenceError(RuntimeError):
    """The time stepping gave up: a step kept failing after the allowed cut-backs."""

    def __init__(self, step: int, time_s: float, dt: float, reason: str, residual_norm: float):
        self.step, self.time_s, self.dt, self.reason, self.residual_norm = step, time_s, dt, reason, residual_norm
        super().__init__(f"plating time step {step} from t = {time_s:.6g} s failed with dt = {dt:.3e} s after the "
                         f"maximum number of cut-backs: {reason} (last residual norm {residual_norm:.3e})")


# --------------------------------------------------------------------------------------
# Constitutive update at quadrature points (numpy, vectorised)
# --------------------------------------------------------------------------------------


def overstress_update(strain: np.ndarray, creep_strain_old: np.ndarray, dt: float, material: NortonMaterial,
                      yield_strength: float = 0.0) -> CreepUpdate:
    """Backward-Euler Norton return mapping with an optional threshold sigma_y.

    sigma_y = 0 is Study A's :func:`lisse.creep.norton_creep_update` itself.  With a
    threshold, dp solves dp = dt eps_dot_0 ((q_tr - sigma_y - 3 G dp) / sigma_ref)^n, which
    is Study A's scalar equation for the over-stress q_tr - sigma_y, so
    :func:`lisse.creep.creep_increment` solves it; the consistent tangent keeps Study A's
    form with h = n dp / (q_tr - sigma_y - 3 G dp + 3 G n dp).
    """
    if yield_strength <= 0.0:
        return norton_creep_update(strain, creep_strain_old, dt, material)
    G, n = material.shear_modulus, material.creep_exponent
    stiffness = material.elastic_stiffness()
    trial = (strain - creep_strain_old) @ stiffness
    q_tr = equivalent_stress(trial)
    dp = creep_increment(np.maximum(q_tr - yield_strength, 0.0), dt, material)
    creeping = dp > 0.0
    flow = np.zeros_like(trial)
    flow[creeping] = 1.5 * (trial[creeping] @ DEVIATORIC_PROJECTOR) / q_tr[creeping, None]
    stress = trial - 2.0 * G * dp[:, None] * flow
    tangent = np.broadcast_to(stiffness, (len(strain), 4, 4)).copy()
    if np.any(creeping):
        dp_c, q_tr_c, flow_c = dp[creeping], q_tr[creeping], flow[creeping]
        over = q_tr_c - yield_strength - 3.0 * G * dp_c
        h = n * dp_c / (over + 3.0 * G * n * dp_c)
        ratio = dp_c / q_tr_c
        tangent[creeping] -= (6.0 * G**2 * ratio)[:, None, None] * DEVIATORIC_PROJECTOR
        tangent[creeping] -= (4.0 * G**2 * (h - ratio))[:, None, None] * np.einsum("pi,pj->pij", flow_c, flow_c)
    return CreepUpdate(stress=stress, creep_strain=creep_strain_old + dp[:, None] * flow, creep_increment=dp,
                       tangent=tangent)


def _eigen_2d(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form eigen-decomposition of symmetric 2x2 tensors (N, 2, 2).

    Returns the eigenvalues (N, 2), larger first, and the cosine and sine of the angle of
    the first eigenvector (the second is (-sin, cos)).
    """
    p, q, r = t[:, 0, 0], t[:, 1, 1], 0.5 * (t[:, 0, 1] + t[:, 1, 0])
    mean, half = 0.5 * (p + q), 0.5 * (p - q)
    radius = np.hypot(half, r)
    angle = 0.5 * np.arctan2(r, half)
    return np.column_stack([mean + radius, mean - radius]), np.cos(angle), np.sin(angle)


def _from_eigen_2d(values: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """sum_a values_a n_a (x) n_a with n_0 = (c, s), n_1 = (-s, c)."""
    v0, v1 = values[:, 0], values[:, 1]
    out = np.empty((len(c), 2, 2))
    out[:, 0, 0] = v0 * c * c + v1 * s * s
    out[:, 1, 1] = v0 * s * s + v1 * c * c
    out[:, 0, 1] = out[:, 1, 0] = (v0 - v1) * c * s
    return out


def log_strain_2d(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eps = 1/2 ln b of SPD 2x2 tensors (N, 2, 2), and d eps / d b along the 3 sym basis directions.

    In the eigenbasis b = sum_a lambda_a n_a (x) n_a, d ln b [db] = sum_ab theta_ab (n_a.db.n_b)
    n_a (x) n_b with theta_aa = 1/lambda_a and theta_ab = (ln lambda_a - ln lambda_b) /
    (lambda_a - lambda_b) (the inverse logarithmic mean, 2 / (lambda_a + lambda_b) when close).
    Closed form, element-wise over the points.  Returns eps (N, 2, 2) and the derivative
    (N, 3, 2, 2) for db = E_xx, E_yy, E_xy (both off-diagonal entries 1).
    """
    lam, c, s = _eigen_2d(b)
    if np.any(lam[:, 1] <= 0.0) or not np.all(np.isfinite(lam)):
        raise FloatingPointError("elastic stretch tensor not positive definite (inverted element)")
    log_lam = np.log(lam)
    eps = 0.5 * _from_eigen_2d(log_lam, c, s)
    l0, l1 = lam[:, 0], lam[:, 1]
    gap = l0 - l1
    close = gap <= 1e-9 * (l0 + l1)
    theta_01 = np.where(close, 2.0 / (l0 + l1), (log_lam[:, 0] - log_lam[:, 1]) / np.where(close, 1.0, gap))
    n = ((c, s), (-s, c))  # n[a][i]
    theta = ((1.0 / l0, theta_01), (theta_01, 1.0 / l1))
    derivative = np.zeros((len(b), 3, 2, 2))
    for a in range(2):
        for bb in range(2):
            projections = (n[a][0] * n[bb][0], n[a][1] * n[bb][1], n[a][0] * n[bb][1] + n[a][1] * n[bb][0])
            for i in range(2):
                for j in range(2):
                    weight = 0.5 * theta[a][bb] * n[a][i] * n[bb][j]
                    for k in range(3):
                        derivative[:, k, i, j] += weight * projections[k]
    return eps, derivative


def exp_2d(e: np.ndarray) -> np.ndarray:
    """exp(2 e) of symmetric 2x2 tensors (N, 2, 2)."""
    lam, c, s = _eigen_2d(e)
    return _from_eigen_2d(np.exp(2.0 * lam), c, s)


def _tensor_to_mandel(t2: np.ndarray, zz: np.ndarray) -> np.ndarray:
    return np.column_stack([t2[:, 0, 0], t2[:, 1, 1], zz, SQRT2 * t2[:, 0, 1]])


def _mandel_to_tensor_2d(m: np.ndarray) -> np.ndarray:
    return np.stack([np.stack([m[:, 0], m[:, 3] / SQRT2], axis=-1), np.stack([m[:, 3] / SQRT2, m[:, 1]], axis=-1)],
                    axis=-2)


@dataclass
class PointUpdate:
    """Result of the constitutive update at a set of points."""

    tau: np.ndarray  # (N, 3) in-plane [xx, yy, xy] of the stress entering P (J_g tau_e,dev or sigma_dev)
    dtau: np.ndarray  # (N, 3, 3) d tau / d(kinematic measure [xx, yy, xy])
    deviator: np.ndarray  # (N, 4) Mandel deviatoric Kirchhoff (finite, intermediate config) or Cauchy (small)
    state: np.ndarray  # (N, 4) new state: C_v^-1 [xx, yy, zz, xy] (finite) or eps_v Mandel (small)
    creep_increment: np.ndarray  # (N,)


def finite_strain_update(grad_u: np.ndarray, growth: np.ndarray, inverse_viscous_metric: np.ndarray, dt: float,
                         material: NortonMaterial, yield_strength: float = 0.0) -> PointUpdate:
    """Exponential-map update of the Hencky-Norton law with growth F_g = I + g e_y (x) e_y.

    ``grad_u`` (N, 2, 2), ``growth`` g (N,), ``inverse_viscous_metric`` C_v,n^-1 as
    [xx, yy, zz, xy] (N, 4).  The kinematic measure is b_tr (in-plane).
    """
    F = grad_u + np.eye(2)
    Fbar = F.copy()
    Fbar[:, :, 1] /= (1.0 + growth)[:, None]  # F F_g^-1
    A = np.stack([np.stack([inverse_viscous_metric[:, 0], inverse_viscous_metric[:, 3]], -1),
                  np.stack([inverse_viscous_metric[:, 3], inverse_viscous_metric[:, 1]], -1)], -2)
    b = Fbar @ A @ np.transpose(Fbar, (0, 2, 1))
    eps2, deps = log_strain_2d(b)
    trial = _tensor_to_mandel(eps2, 0.5 * np.log(inverse_viscous_metric[:, 2]))
    update = overstress_update(trial @ DEVIATORIC_PROJECTOR, np.zeros_like(trial), dt, material, yield_strength)
    jg = 1.0 + growth
    tangent = update.tangent @ DEVIATORIC_PROJECTOR  # d tau_dev / d eps_tr
    deps_mandel = np.stack([_tensor_to_mandel(deps[:, k], np.zeros(len(b))) for k in range(3)], axis=1)  # (N,k,4)
    dtau_mandel = deps_mandel @ np.transpose(tangent, (0, 2, 1))  # (N, k, 4)
    dtau = jg[:, None, None] * np.stack([dtau_mandel[:, :, 0], dtau_mandel[:, :, 1], dtau_mandel[:, :, 3] / SQRT2],
                                        axis=1)  # (N, component, k)
    tau = jg[:, None] * np.column_stack([update.stress[:, 0], update.stress[:, 1], update.stress[:, 3] / SQRT2])
    elastic = trial - update.creep_strain  # eps_e, coaxial with eps_tr
    be = exp_2d(_mandel_to_tensor_2d(elastic))
    det = Fbar[:, 0, 0] * Fbar[:, 1, 1] - Fbar[:, 0, 1] * Fbar[:, 1, 0]
    Finv = np.stack([np.stack([Fbar[:, 1, 1], -Fbar[:, 0, 1]], -1), np.stack([-Fbar[:, 1, 0], Fbar[:, 0, 0]], -1)],
                    -2) / det[:, None, None]
    A_new = Finv @ be @ np.transpose(Finv, (0, 2, 1))
    state = np.column_stack([A_new[:, 0, 0], A_new[:, 1, 1], np.exp(2.0 * elastic[:, 2]), A_new[:, 0, 1]])
    return PointUpdate(tau=tau, dtau=dtau, deviator=update.stress, state=state, creep_increment=update.creep_increment)


def small_strain_update(grad_u: np.ndarray, growth: np.ndarray, viscous_strain: np.ndarray, dt: float,
                        material: NortonMaterial, yield_strength: float = 0.0) -> PointUpdate:
    """Linearised counterpart: eps = sym grad u, eps_e = eps - g e_y (x) e_y - eps_v (Mandel state eps_v)."""
    e = 0.5 * (grad_u + np.transpose(grad_u, (0, 2, 1)))
    strain = _tensor_to_mandel(e, np.zeros(len(e)))
    strain[:, 1] -= growth
    update = overstress_update(strain @ DEVIATORIC_PROJECTOR, viscous_strain, dt, material, yield_strength)
    tangent = update.tangent @ DEVIATORIC_PROJECTOR
    basis = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, SQRT2]])  # d eps / d e_k
    dtau_mandel = np.einsum("pij,kj->pki", tangent, basis)
    dtau = np.stack([dtau_mandel[:, :, 0], dtau_mandel[:, :, 1], dtau_mandel[:, :, 3] / SQRT2], axis=1)
    tau = np.column_stack([update.stress[:, 0], update.stress[:, 1], update.stress[:, 3] / SQRT2])
    return PointUpdate(tau=tau, dtau=dtau, deviator=update.stress, state=update.creep_strain,
                       creep_increment=update.creep_increment)


def principal_max(stress: np.ndarray) -> np.ndarray:
    """Largest principal value of stresses given as tensor components [xx, yy, zz, xy] (N, 4)."""
    centre = 0.5 * (stress[:, 0] + stress[:, 1])
    radius = np.sqrt(0.25 * (stress[:, 0] - stress[:, 1]) ** 2 + stress[:, 3] ** 2)
    return np.maximum(centre + radius, stress[:, 2])


# --------------------------------------------------------------------------------------
# UFL pieces
# --------------------------------------------------------------------------------------


def _cell_mean_jacobian(u, centroid, second_moment):
    """Exact cell mean of J = det(I + grad u) on an affine P2 triangle.

    grad u is linear: F(x) = F_c + H.(x - x_c) with F_c = F at the centroid and H = grad grad u
    constant.  J is quadratic, the linear term averages out, and the mean of the quadratic
    term is det-like in H contracted with the second moment S = mean (x - x_c)(x - x_c)^T.
    """
    x = ufl.SpatialCoordinate(u.ufl_function_space().mesh)
    H = ufl.grad(ufl.grad(u))
    Fc = ufl.Identity(2) + ufl.grad(u) + ufl.dot(H, centroid - x)
    k, l_ = ufl.indices(2)
    quadratic = (H[0, 0, k] * H[1, 1, l_] - H[0, 1, k] * H[1, 0, l_]) * second_moment[k, l_]
    return ufl.det(Fc) + quadratic


def _sym_tensor(v):
    return ufl.as_tensor([[v[0], v[2]], [v[2], v[1]]])


# --------------------------------------------------------------------------------------
# The discrete problem
# --------------------------------------------------------------------------------------


class _PlatingProblem:
    """Spaces, forms, quadrature-point state and the Newton solver of the Li + LLZO body."""

    def __init__(self, body: Body, cell_tags: dmesh.MeshTags, layer_thickness: float, params: PlatingParameters,
                 petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.finite = params.kinematics == "finite"
        self.layer_thickness = layer_thickness
        self.li_material, self.llzo_material = params.li_material(), params.llzo_material()
        tdim, fdim = 2, 1
        mesh.topology.create_connectivity(fdim, tdim)
        cell_map = mesh.topology.index_map(tdim)
        self.n_owned = cell_map.size_local
        self.n_cells = cell_map.size_local + cell_map.num_ghosts
        self.cells = np.arange(self.n_cells, dtype=np.int32)

        # ---- per-cell data (DG0): material, growth indicator, bulk modulus, centroid, second moment
        self.Q0 = fem.functionspace(mesh, ("DG", 0))
        dg0_dofs = self.Q0.dofmap.list[: self.n_cells, 0]
        material = fem.Function(self.Q0)
        material.x.array[dg0_dofs[cell_tags.indices[cell_tags.indices < self.n_cells]]] = \
            cell_tags.values[cell_tags.indices < self.n_cells]
        material.x.scatter_forward()
        self.cell_material = np.rint(material.x.array[dg0_dofs]).astype(int)
        if not np.all(np.isin(self.cell_material, (LLZO, LI))):
            raise ValueError("every cell must be tagged llzo (1) or li (2)")
        vertices = mesh.geometry.x[dmesh.entities_to_geometry(mesh, tdim, self.cells)][:, :, :2]  # (cell, 3, 2)
        centroids = vertices.mean(axis=1)
        relative = vertices - centroids[:, None, :]
        second_moments = np.einsum("cvi,cvj->cij", relative, relative) / 12.0
        self.cell_centroids = centroids
        self.growing_cell = (self.cell_material == LI) & (centroids[:, 1] > 0.0)  # the layer above y = 0
        self.pit_cell = (self.cell_material == LI) & (centroids[:, 1] < 0.0)
        self.has_llzo = self.comm.allreduce(int(np.any(self.cell_material[: self.n_owned] == LLZO)), op=MPI.MAX) > 0

        self.growth = fem.Function(self.Q0, name="growth_strain")
        self.bulk = fem.Function(self.Q0)
        self.bulk_li, self.bulk_llzo = bulk_modulus(self.li_material), bulk_modulus(self.llzo_material)
        self.cell_bulk = np.where(self.cell_material == LI, self.bulk_li, self.bulk_llzo)
        self.bulk.x.array[dg0_dofs] = self.cell_bulk
        W0 = fem.functionspace(mesh, ("DG", 0, (2,)))
        T0 = fem.functionspace(mesh, ("DG", 0, (2, 2)))
        self.centroid, self.second_moment = fem.Function(W0), fem.Function(T0)
        self.centroid.x.array.reshape(-1, 2)[W0.dofmap.list[: self.n_cells, 0]] = centroids
        self.second_moment.x.array.reshape(-1, 4)[T0.dofmap.list[: self.n_cells, 0]] = second_moments.reshape(-1, 4)
        self.dg0_dofs = dg0_dofs

        # ---- displacement and quadrature-point fields
        self.V = V = fem.functionspace(mesh, ("Lagrange", 2, (tdim,)))
        self.u = fem.Function(V, name="displacement")
        v, du = ufl.TestFunction(V), ufl.TrialFunction(V)
        points, weights = basix.make_quadrature(basix.CellType.triangle, QUADRATURE_DEGREE)
        assert len(points) == 3
        self.quadrature_points = points

        def quadrature_space(shape):
            element = basix.ufl.quadrature_element(mesh.basix_cell(), value_shape=shape, degree=QUADRATURE_DEGREE)
            return fem.functionspace(mesh, element)

        self.tau_q = fem.Function(quadrature_space((3,)))
        self.dtau_q = fem.Function(quadrature_space((3, 3)))
        self.state_q = fem.Function(quadrature_space((3,)))  # finite: C_v^-1 in-plane [xx, yy, xy]
        assert np.allclose(self.tau_q.function_space.element.interpolation_points, points)  # same rule, same order
        self.q_dofs = self.tau_q.function_space.dofmap.list[: self.n_cells]  # (cell, point): same for all
        self.grad_at_points = fem.Expression(ufl.grad(self.u), points)
        x_points = fem.Expression(ufl.SpatialCoordinate(mesh), points).eval(mesh, self.cells)
        self.point_coordinates = x_points.reshape(-1, tdim)
        detJ = fem.Expression(abs(ufl.JacobianDeterminant(mesh)), points).eval(mesh, self.cells).reshape(-1, 3)
        self.point_weights = (detJ * weights[None, :]).ravel()  # area of each point's share of its cell
        self.point_cell = np.repeat(self.cells, 3)
        self.point_material = self.cell_material[self.point_cell]
        self.li_points = self.point_material == LI
        self.owned_points = self.point_cell < self.n_owned
        n_points = 3 * self.n_cells
        self.state = np.tile([1.0, 1.0, 1.0, 0.0], (n_points, 1)) if self.finite else np.zeros((n_points, 4))
        self.equivalent_viscous_strain = np.zeros(n_points)
        self.update: PointUpdate | None = None
        self._set_quadrature(self.state_q, self.state[:, [0, 1, 3]])

        # ---- forms
        dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        g = self.growth
        bulk = self.bulk
        tau = _sym_tensor(self.tau_q)
        if self.finite:
            F = ufl.Identity(2) + ufl.grad(self.u)
            n = ufl.as_vector([0.0, 1.0])
            Fbar = F * (ufl.Identity(2) - g / (1.0 + g) * ufl.outer(n, n))
            b = Fbar * _sym_tensor(self.state_q) * Fbar.T
            measure = ufl.as_vector([b[0, 0], b[1, 1], b[0, 1]])
            FinvT = ufl.inv(F).T
            dmeasure = ufl.derivative(measure, self.u, du)
            dtau = _sym_tensor(ufl.dot(self.dtau_q, dmeasure))
            residual_dev = ufl.inner(tau * FinvT, ufl.grad(v)) * dx
            jacobian_dev = ufl.inner(dtau * FinvT + tau * ufl.derivative(FinvT, self.u, du), ufl.grad(v)) * dx
            self.theta = _cell_mean_jacobian(self.u, self.centroid, self.second_moment)
            volumetric_energy = (1.0 + g) * bulk / 2.0 * ufl.ln(self.theta / (1.0 + g)) ** 2
        else:
            e = ufl.sym(ufl.grad(du))
            dtau = _sym_tensor(ufl.dot(self.dtau_q, ufl.as_vector([e[0, 0], e[1, 1], e[0, 1]])))
            residual_dev = ufl.inner(tau, ufl.grad(v)) * dx
            jacobian_dev = ufl.inner(dtau, ufl.grad(v)) * dx
            self.theta = cell_mean_divergence(self.u, self.centroid)  # Study A's P2-P0 volumetric strain
            volumetric_energy = bulk / 2.0 * (self.theta - g) ** 2
        residual_vol = ufl.derivative(volumetric_energy * dx, self.u, v)
        self.residual_form = fem.form(residual_dev + residual_vol)
        self.jacobian_form = fem.form(jacobian_dev + ufl.derivative(residual_vol, self.u, du))
        self.theta_at_points = fem.Expression(self.theta, points)

        # ---- boundary conditions (homogeneous: the load is the growth)
        groups = body.facet_groups
        x_fixed, y_fixed, all_fixed = ["li_symmetry", "llzo_symmetry"], ["llzo_bottom"], []
        if params.constraint in ("top", "top_lateral"):
            all_fixed.append("li_cc")
        if params.constraint == "top_lateral":
            x_fixed.append("li_free")
        if not self.has_llzo:
            all_fixed.append("li_llzo")  # a Li-only mesh sits on a rigid substrate
        self.bcs = []
        for names, sub in ((x_fixed, 0), (y_fixed, 1)):
            present = [name for name in names if name in groups]
            if present:
                dofs = fem.locate_dofs_topological(V.sub(sub), fdim, body.facets(*present))
                self.bcs.append(fem.dirichletbc(0.0, dofs, V.sub(sub)))
        present = [name for name in all_fixed if name in groups]
        if present:
            dofs = fem.locate_dofs_topological(V, fdim, body.facets(*present))
            self.bcs.append(fem.dirichletbc(np.zeros(2), dofs, V))
        self.constrained = {"u_x = 0": [n for n in x_fixed if n in groups],
                            "u_y = 0": [n for n in y_fixed if n in groups], "u = 0": present}

        # ---- linear algebra
        self.A = fem_petsc.create_matrix(self.jacobian_form)
        self.b = fem_petsc.create_vector(V)
        self.solution = self.b.duplicate()
        self.petsc_options = {**default_petsc_options(), **(petsc_options or {})}
        self.ksp = linear_solver(self.comm, prefix, self.petsc_options)
        self.force_scale = self.bulk_li * params.plated_thickness  # nodal forces per unit depth, N/m
        self.n_dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs

    # ---- quadrature-point state

    def _set_quadrature(self, function: fem.Function, values: np.ndarray) -> None:
        bs = function.function_space.dofmap.index_map_bs
        function.x.array.reshape(-1, bs)[self.q_dofs.ravel()] = values.reshape(len(values), -1)

    def set_growth(self, growth_strain: float) -> None:
        self.growth.x.array[self.dg0_dofs] = np.where(self.growing_cell, growth_strain, 0.0)

    @property
    def point_growth(self) -> np.ndarray:
        return np.repeat(self.growth.x.array[self.dg0_dofs], 3)

    def update_constitutive(self, dt: float) -> None:
        grad_u = self.grad_at_points.eval(self.mesh, self.cells).reshape(-1, 2, 2)
        growth = self.point_growth
        step = finite_strain_update if self.finite else small_strain_update
        n = len(grad_u)
        tau, dtau = np.empty((n, 3)), np.empty((n, 3, 3))
        deviator, state, dp = np.empty((n, 4)), np.empty((n, 4)), np.zeros(n)
        p = self.params
        for mask, material, dt_m, ys in ((self.li_points, self.li_material, dt, p.yield_strength),
                                         (~self.li_points, self.llzo_material, 0.0, 0.0)):
            if not np.any(mask):
                continue
            result = step(grad_u[mask], growth[mask], self.state[mask], dt_m, material, ys)
            tau[mask], dtau[mask], deviator[mask] = result.tau, result.dtau, result.deviator
            state[mask], dp[mask] = result.state, result.creep_increment
        self.update = PointUpdate(tau=tau, dtau=dtau, deviator=deviator, state=state, creep_increment=dp)
        self._set_quadrature(self.tau_q, tau)
        self._set_quadrature(self.dtau_q, dtau)

    def commit(self) -> None:
        self.state = self.update.state.copy()
        self.equivalent_viscous_strain = self.equivalent_viscous_strain + self.update.creep_increment
        if self.finite:
            self._set_quadrature(self.state_q, self.state[:, [0, 1, 3]])

    def cauchy_stress(self) -> tuple[np.ndarray, np.ndarray]:
        """Cauchy stress per point as tensor components [xx, yy, zz, xy], and the pressure per cell."""
        theta = self.theta_at_points.eval(self.mesh, self.cells).reshape(-1, 3).mean(axis=1)
        g = self.growth.x.array[self.dg0_dofs]
        if self.finite:
            elastic_volume = theta / (1.0 + g)
            volumetric = self.cell_bulk * np.log(elastic_volume)  # Kirchhoff (intermediate configuration)
            pressure = -volumetric / elastic_volume
            scale = np.repeat(1.0 / elastic_volume, 3)
        else:
            volumetric = self.cell_bulk * (theta - g)
            pressure = -volumetric
            scale = np.ones(3 * self.n_cells)
        mandel = (self.update.deviator + np.repeat(volumetric, 3)[:, None] * MANDEL_IDENTITY) * scale[:, None]
        stress = mandel.copy()
        stress[:, 3] /= SQRT2
        return stress, pressure

    # ---- Newton

    def _assemble_residual(self) -> float:
        with self.b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(self.b, self.residual_form)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem_petsc.set_bc(self.b, self.bcs, alpha=0.0)
        return self.b.norm()

    def _evaluate(self, dt: float) -> float:
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                self.update_constitutive(dt)
            failed = 0
        except (RuntimeError, FloatingPointError, np.linalg.LinAlgError):
            failed = 1
        if self.comm.allreduce(failed, op=MPI.MAX):
            return math.inf
        norm = self._assemble_residual()
        return norm if math.isfinite(norm) else math.inf

    def newton(self, dt: float) -> tuple[bool, int, float, str]:
        """Solve the step from the current guess in self.u: (converged, iterations, |R|, reason)."""
        p = self.params
        norm = self._evaluate(dt)
        correction_norm = math.inf
        u_start = self.u.x.petsc_vec.copy()
        tolerance = p.newton_rtol * self.force_scale
        for iteration in range(p.max_newton_iterations + 1):
            if self.comm.rank == 0:
                logger.debug("  Newton %2d: |R| = %.3e, |du| = %.3e", iteration, norm, correction_norm)
            if not math.isfinite(norm):
                return False, iteration, norm, "constitutive update failed or residual not finite"
            if norm <= tolerance:
                return True, iteration, norm, "converged"
            if correction_norm <= p.newton_stol * self.u.x.petsc_vec.norm():
                return True, iteration, norm, "converged (correction at round-off level)"
            if iteration == p.max_newton_iterations:
                break
            self.A.zeroEntries()
            fem_petsc.assemble_matrix(self.A, self.jacobian_form, bcs=self.bcs)
            self.A.assemble()
            self.ksp.setOperators(self.A)
            solve_linear_system(self.ksp, self.b, self.solution)
            if self.ksp.getConvergedReason() <= 0:
                return False, iteration, norm, linear_solve_failure(self.ksp)
            direction_norm = self.solution.norm()
            self.u.x.petsc_vec.copy(u_start)
            slope0 = -self.b.dot(self.solution)  # d/d alpha of the incremental energy along -solution
            if direction_norm <= p.newton_stol * u_start.norm():
                alpha, trial_norm = 1.0, self._step_to(1.0, u_start, dt)[0]
            else:
                alpha, trial_norm = self._line_search(u_start, dt, norm, slope0)
            if alpha is None:
                if norm <= ROUNDOFF_RESIDUAL_FACTOR * tolerance:
                    u_start.copy(self.u.x.petsc_vec)
                    self.u.x.scatter_forward()
                    self._evaluate(dt)
                    return True, iteration, norm, "converged (residual stagnates at round-off level)"
                return False, iteration + 1, norm, "line search found no acceptable step"
            if self.comm.rank == 0:
                logger.debug("    line search: alpha = %.3g", alpha)
            norm = trial_norm
            correction_norm = alpha * direction_norm
        return False, p.max_newton_iterations, norm, f"no convergence in {p.max_newton_iterations} Newton iterations"

    def _step_to(self, alpha: float, u_start: PETSc.Vec, dt: float) -> tuple[float, float]:
        """u = u_start - alpha * solution; returns (|R|, slope = R . (-solution))."""
        self.u.x.petsc_vec.waxpy(-alpha, self.solution, u_start)
        self.u.x.scatter_forward()
        norm = self._evaluate(dt)
        return norm, (-self.b.dot(self.solution) if math.isfinite(norm) else math.inf)

    def _line_search(self, u_start: PETSc.Vec, dt: float, norm0: float, slope0: float):
        """Critical-point line search along the Newton direction: (alpha, |R|) or (None, |R0|).

        The backward-Euler step of the Hencky-Norton law has an incremental potential
        (Ortiz-Stainier), whose derivative along the direction is slope(alpha) = R . d.
        The full step is taken when the potential still decreases there (slope <= 0) or
        has nearly stopped changing; otherwise the root of the slope is bracketed in
        (0, 1) and found by Illinois-secant steps to |slope| <= eta |slope0|.  Plain
        back-tracking on |R| stalls here: near the flow stress the Norton tangent changes
        by orders of magnitude over one Newton step.  Without descent (slope0 >= 0) it
        falls back to back-tracking on |R|.
        """
        p = self.params
        eta = 0.5
        if not slope0 < 0.0:
            alpha = 1.0
            for _ in range(p.max_line_search_halvings + 1):
                trial, _ = self._step_to(alpha, u_start, dt)
                if trial <= (1.0 - 1e-4 * alpha) * norm0:
                    return alpha, trial
                alpha *= 0.5
            return None, norm0
        trial, slope = self._step_to(1.0, u_start, dt)
        if math.isfinite(trial) and (slope <= 0.0 or abs(slope) <= eta * abs(slope0)):
            return 1.0, trial
        lo, g_lo, hi, g_hi = 0.0, slope0, 1.0, slope
        side = 0
        for _ in range(2 * p.max_line_search_halvings):
            if math.isfinite(g_hi):
                alpha = lo - g_lo * (hi - lo) / (g_hi - g_lo)
                alpha = min(max(alpha, lo + 0.01 * (hi - lo)), hi - 0.01 * (hi - lo))
            else:
                alpha = 0.5 * (lo + hi)
            trial, slope = self._step_to(alpha, u_start, dt)
            if math.isfinite(trial) and abs(slope) <= eta * abs(slope0):
                return alpha, trial
            if math.isfinite(slope) and slope < 0.0:
                lo, g_lo = alpha, slope
                if side == -1 and math.isfinite(g_hi):
                    g_hi *= 0.5  # Illinois
                side = -1
            else:
                hi, g_hi = alpha, slope
                if side == 1:
                    g_lo *= 0.5
                side = 1
        if lo > 0.0:  # the best point found on the descending side
            trial, _ = self._step_to(lo, u_start, dt)
            if math.isfinite(trial):
                return lo, trial
        return None, norm0


# --------------------------------------------------------------------------------------
# Sampling: the pit tip, the Li top on the axis
# --------------------------------------------------------------------------------------


class _TipSampler:
    """Points on the owned ``pit_tip`` facets (ends and 2 Gauss points), in their LLZO cell."""

    GAUSS = (0.5 - 0.5 / math.sqrt(3.0), 0.5 + 0.5 / math.sqrt(3.0))

    def __init__(self, problem: _PlatingProblem):
        self.problem = problem
        mesh, body = problem.mesh, problem.body
        self.active = "pit_tip" in body.facet_groups and problem.has_llzo
        if not self.active:
            return
        facets = body.facets("pit_tip")
        facets = facets[facets < mesh.topology.index_map(1).size_local]
        f2c = mesh.topology.connectivity(1, 2)
        cells = []
        for f in facets:
            linked = f2c.links(f)
            llzo = [c for c in linked if problem.cell_material[c] == LLZO]
            cells.append(llzo[0])
        cells = np.asarray(cells, dtype=np.int32)
        ends = mesh.geometry.x[dmesh.entities_to_geometry(mesh, 1, facets)][:, :2, :2] if len(facets) else \
            np.zeros((0, 2, 2))
        chord = ends[:, 1] - ends[:, 0]
        self.length = np.linalg.norm(chord, axis=1)
        params = (0.0, *self.GAUSS, 1.0)
        self.xy = np.stack([ends[:, 0] + t * chord for t in params], axis=1).reshape(-1, 2)
        self.cells = np.repeat(cells, len(params))
        self.is_gauss = np.tile([False, True, True, False], len(facets))
        self.weights = np.repeat(self.length, len(params)) * 0.5 * self.is_gauss
        self.points = np.column_stack([self.xy, np.zeros(len(self.xy))])

    def sample(self, stress_dg1: fem.Function) -> tuple[float, float]:
        """(max, length-mean) of sigma_1 over the tip samples; NaN without a pit tip."""
        if not self.active:
            return math.nan, math.nan
        values = stress_dg1.eval(self.points, self.cells).reshape(-1, 4) if len(self.cells) else np.zeros((0, 4))
        s1 = principal_max(values)
        comm = self.problem.comm
        peak = comm.allreduce(float(s1.max(initial=-np.inf)), op=MPI.MAX)
        total = comm.allreduce(float(np.sum(self.weights * s1)), op=MPI.SUM)
        length = comm.allreduce(float(np.sum(self.weights)), op=MPI.SUM)
        return peak, total / length


def _axis_top_node(problem: _PlatingProblem, layer_thickness: float) -> int | None:
    """Local index of the P2 node at (0, h0) if this rank owns it."""
    coordinates = problem.V.tabulate_dof_coordinates()[: problem.V.dofmap.index_map.size_local]
    distance = np.hypot(coordinates[:, 0], coordinates[:, 1] - layer_thickness)
    if len(distance) and distance.min() <= 1e-6 * layer_thickness:
        return int(distance.argmin())
    return None


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass
class PlatingResult:
    history: pd.DataFrame  # one row per time step (and t = 0)
    summary: dict  # JSON-serialisable
    parameters: PlatingParameters
    _problem: _PlatingProblem = field(repr=False, default=None)
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
        """The final state as one serial .vtu (:func:`lisse.fem.write_vtu`), for the workflow's figures."""
        Q1, fields_ = self._dg1_fields()
        self._fill(Q1, fields_, self._snapshots[-1])
        write_vtu(path, fields_)


# --------------------------------------------------------------------------------------
# The solve
# --------------------------------------------------------------------------------------


def body_of(mesh_data) -> Body:
    """The whole two-body mesh as one :class:`lisse.fem.Body` (Li and LLZO share the displacement)."""
    groups = {name: group.tag for name, group in mesh_data.physical_groups.items() if group.dim == 1}
    present = set(mesh_data.facet_tags.values.tolist())
    present = set().union(*mesh_data.mesh.comm.allgather(present))
    return Body(mesh=mesh_data.mesh, facet_tags=mesh_data.facet_tags,
                facet_groups={name: tag for name, tag in groups.items() if tag in present})


def solve_plating(mesh_data, facts: dict, params: PlatingParameters, petsc_options: dict | None = None,
                  prefix: str = "pl_") -> PlatingResult:
    """Plate ``params.plated_thickness`` at ``params.current_density``; history and final summary.

    ``mesh_data`` is :func:`lisse.fem.load_mesh`'s result for a plating mesh; ``facts`` its
    geometry JSON (at least ``li_thickness_m``; ``flaw_size_m``, ``pit_tip_radius_m`` and
    ``contact_half_width_m`` when present).  Raises :class:`PlatingConvergenceError`.
    """
    t_start = time.perf_counter()
    h0 = float(facts["li_thickness_m"])
    body = body_of(mesh_data)
    problem = _PlatingProblem(body, mesh_data.cell_tags, h0, params, petsc_options, prefix)
    comm = problem.comm
    sampler = _TipSampler(problem)
    top_node = _axis_top_node(problem, h0)
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
