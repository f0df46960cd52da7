"""The Hencky-Norton update at quadrature points (numpy, vectorised): finite and small strain."""

from __future__ import annotations

import math
from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np

from lisse.core.creep import (
    DEVIATORIC_PROJECTOR,
    CreepUpdate,
    NortonMaterial,
    creep_increment,
    equivalent_stress,
    norton_creep_update,
)

SQRT2 = math.sqrt(2.0)


def overstress_update(strain: np.ndarray, creep_strain_old: np.ndarray, dt: float, material: NortonMaterial,
                      yield_strength: float = 0.0) -> CreepUpdate:
    """Backward-Euler Norton return mapping with an optional threshold sigma_y.

    sigma_y = 0 is Study A's :func:`lisse.core.creep.norton_creep_update` itself.  With a
    threshold, dp solves dp = dt eps_dot_0 ((q_tr - sigma_y - 3 G dp) / sigma_ref)^n, which
    is Study A's scalar equation for the over-stress q_tr - sigma_y, so
    :func:`lisse.core.creep.creep_increment` solves it; the consistent tangent keeps Study A's
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

    tau: np.ndarray  # (N, 3) in-plane [xx, yy, xy] of the stress entering P (J_g tau_e,dev or sigma_dev); (N, 4)
    # with the hoop component of an axisymmetric model
    dtau: np.ndarray  # (N, 3, 3) d tau / d(kinematic measure [xx, yy, xy]); (N, 4, 4) with the hoop stretch
    deviator: np.ndarray  # (N, 4) Mandel deviatoric Kirchhoff (finite, intermediate config) or Cauchy (small)
    state: np.ndarray  # (N, 4) new state: C_v^-1 [xx, yy, zz, xy] (finite) or eps_v Mandel (small)
    creep_increment: np.ndarray  # (N,)


def finite_strain_update(grad_u: np.ndarray, growth: np.ndarray, inverse_viscous_metric: np.ndarray, dt: float,
                         material: NortonMaterial, yield_strength: float = 0.0,
                         hoop: np.ndarray | None = None) -> PointUpdate:
    """Exponential-map update of the Hencky-Norton law with growth F_g = I + g e_y (x) e_y.

    ``grad_u`` (N, 2, 2), ``growth`` g (N,), ``inverse_viscous_metric`` C_v,n^-1 as
    [xx, yy, zz, xy] (N, 4).  The kinematic measure is b_tr (in-plane).  ``hoop``: the
    out-of-plane stretch F_zz = 1 + u_r / r of an axisymmetric model (N,), a fourth measure;
    None is plane strain (F_zz = 1), with 3-component outputs.
    """
    n = len(grad_u)
    stretch = np.ones(n) if hoop is None else np.asarray(hoop, dtype=float)
    F = grad_u + np.eye(2)
    Fbar = F.copy()
    Fbar[:, :, 1] /= (1.0 + growth)[:, None]  # F F_g^-1
    A = np.stack([np.stack([inverse_viscous_metric[:, 0], inverse_viscous_metric[:, 3]], -1),
                  np.stack([inverse_viscous_metric[:, 3], inverse_viscous_metric[:, 1]], -1)], -2)
    b = Fbar @ A @ np.transpose(Fbar, (0, 2, 1))
    eps2, deps = log_strain_2d(b)
    if np.any(stretch <= 0.0):
        raise FloatingPointError("hoop stretch not positive (inverted element)")
    trial = _tensor_to_mandel(eps2, np.log(stretch) + 0.5 * np.log(inverse_viscous_metric[:, 2]))
    update = overstress_update(trial @ DEVIATORIC_PROJECTOR, np.zeros_like(trial), dt, material, yield_strength)
    jg = 1.0 + growth
    tangent = update.tangent @ DEVIATORIC_PROJECTOR  # d tau_dev / d eps_tr
    deps_mandel = np.stack([_tensor_to_mandel(deps[:, k], np.zeros(n)) for k in range(3)]
                           + [np.column_stack([np.zeros(n), np.zeros(n), 1.0 / stretch, np.zeros(n)])], axis=1)
    dtau_mandel = deps_mandel @ np.transpose(tangent, (0, 2, 1))  # (N, k, 4)
    dtau = jg[:, None, None] * np.stack([dtau_mandel[:, :, 0], dtau_mandel[:, :, 1], dtau_mandel[:, :, 3] / SQRT2,
                                         dtau_mandel[:, :, 2]], axis=1)  # (N, component, k)
    tau = jg[:, None] * np.column_stack([update.stress[:, 0], update.stress[:, 1], update.stress[:, 3] / SQRT2,
                                         update.stress[:, 2]])
    if hoop is None:  # plane strain: the in-plane components against the in-plane measure
        tau, dtau = tau[:, :3], dtau[:, :3, :3]
    elastic = trial - update.creep_strain  # eps_e, coaxial with eps_tr
    be = exp_2d(_mandel_to_tensor_2d(elastic))
    det = Fbar[:, 0, 0] * Fbar[:, 1, 1] - Fbar[:, 0, 1] * Fbar[:, 1, 0]
    Finv = np.stack([np.stack([Fbar[:, 1, 1], -Fbar[:, 0, 1]], -1), np.stack([-Fbar[:, 1, 0], Fbar[:, 0, 0]], -1)],
                    -2) / det[:, None, None]
    A_new = Finv @ be @ np.transpose(Finv, (0, 2, 1))
    state = np.column_stack([A_new[:, 0, 0], A_new[:, 1, 1], np.exp(2.0 * elastic[:, 2]) / stretch**2, A_new[:, 0, 1]])
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


