"""Norton power-law creep of Li with J2 flow: the constitutive update at quadrature points.

The model (Study A: Adv. Mater. 2021, 2104009; README, Model, "Mechanics"), small strain, SI units:

    sigma      = C : (eps - eps_cr)                       isotropic linear elasticity
    deps_cr/dt = (3/2) eps_dot_0 (sigma_e / sigma_ref)^n  s / sigma_e
    sigma_e    = sqrt(3/2 s : s),   s = dev(sigma)

Backward Euler over a time step dt gives the classical radial return: from the
elastic trial stress sigma_tr = C : (eps_{n+1} - eps_cr_n) with equivalent
stress q_tr and flow direction N = (3/2) s_tr / q_tr, the equivalent creep
increment dp solves the scalar equation

    dp = dt eps_dot_0 ((q_tr - 3 G dp) / sigma_ref)^n,

and sigma_{n+1} = sigma_tr - 2 G dp N, eps_cr_{n+1} = eps_cr_n + dp N.

Tensors are Mandel 4-vectors ``[xx, yy, zz, sqrt(2) xy]`` in plane strain (which keeps
the out-of-plane stress and creep strain; the total eps_zz is zero) and Mandel 6-vectors
``[xx, yy, zz, sqrt(2) xy, sqrt(2) yz, sqrt(2) xz]`` in 3D, so double contractions are dot
products and the algorithmic tangent is a symmetric 4x4 (6x6) matrix.  Every function
works on arrays of points at once (leading axis) and takes the layout from the last axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lisse.core.constants import GAS_CONSTANT
from lisse.core.units import kelvin


def mandel_identity(components: int = 4) -> np.ndarray:
    """The identity tensor as a Mandel vector of 4 (plane strain) or 6 (3D) components."""
    if components not in (4, 6):
        raise ValueError(f"Mandel vectors have 4 (plane strain) or 6 (3D) components, not {components}")
    return np.array([1.0, 1.0, 1.0] + [0.0] * (components - 3))


def deviatoric_projector(components: int = 4) -> np.ndarray:
    identity = mandel_identity(components)
    return np.eye(components) - np.outer(identity, identity) / 3.0


MANDEL_IDENTITY = mandel_identity(4)
DEVIATORIC_PROJECTOR = deviatoric_projector(4)


def arrhenius_creep_rate(temperature, rate_ref, activation_energy, reference_temperature):
    """eps_dot_0(T) = eps_dot_0(T_ref) exp(-Q/R (1/T - 1/T_ref)), 1/s."""
    return rate_ref * np.exp(-activation_energy / GAS_CONSTANT * (1.0 / temperature - 1.0 / reference_temperature))


@dataclass(frozen=True)
class NortonMaterial:
    """Elastic constants and the Norton law at one temperature (SI)."""

    youngs_modulus: float
    poisson_ratio: float
    creep_rate: float  # eps_dot_0 at the working temperature, 1/s (0 switches creep off)
    creep_exponent: float
    creep_stress_ref: float

    @property
    def shear_modulus(self) -> float:
        return self.youngs_modulus / (2.0 * (1.0 + self.poisson_ratio))

    @property
    def lame_lambda(self) -> float:
        nu = self.poisson_ratio
        return self.youngs_modulus * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))

    @property
    def maxwell_time(self) -> float:
        """sigma_ref / (E eps_dot_0): time for creep to relax a stress of sigma_ref (s)."""
        return self.creep_stress_ref / (self.youngs_modulus * self.creep_rate) if self.creep_rate > 0 else np.inf

    def elastic_stiffness(self, components: int = 4) -> np.ndarray:
        """C in Mandel form: lambda I (x) I + 2 G Id."""
        identity = mandel_identity(components)
        return self.lame_lambda * np.outer(identity, identity) + 2.0 * self.shear_modulus * np.eye(components)

    def steady_creep_rate(self, equivalent_stress):
        """Equivalent creep strain rate eps_dot_0 (sigma_e / sigma_ref)^n (1/s)."""
        return self.creep_rate * (np.asarray(equivalent_stress) / self.creep_stress_ref) ** self.creep_exponent


class LithiumCreepLaw:
    """Li's Norton law with an Arrhenius prefactor, shared by the parameter dataclasses of Study A
    (:class:`lisse.cell.mechanics.MechanicsParameters`) and Study B (:class:`lisse.plating.mechanics.PlatingParameters`).

    Needs the fields ``creep``, ``temperature``, ``creep_rate_ref``, ``creep_activation_energy``,
    ``reference_temperature``, ``creep_exponent`` and ``creep_stress_ref`` (SI).
    """

    creep: bool
    temperature: float  # K
    creep_rate_ref: float  # 1/s, at reference_temperature
    creep_activation_energy: float  # J/mol
    reference_temperature: float  # K
    creep_exponent: float
    creep_stress_ref: float  # Pa

    @property
    def creep_rate(self) -> float:
        """eps_dot_0 at the working temperature (1/s); 0 when creep is off."""
        if not self.creep:
            return 0.0
        return float(arrhenius_creep_rate(self.temperature, self.creep_rate_ref, self.creep_activation_energy,
                                          self.reference_temperature))

    def norton_material(self, youngs_modulus: float, poisson_ratio: float) -> NortonMaterial:
        return NortonMaterial(youngs_modulus, poisson_ratio, self.creep_rate, self.creep_exponent,
                              self.creep_stress_ref)


def creep_law_from_config(section: dict) -> dict:
    """The :class:`LithiumCreepLaw` fields (SI) from a config section's creep keys."""
    return {
        "creep": section["creep"],
        "creep_rate_ref": section["creep_rate_ref_per_s"],
        "creep_exponent": section["creep_exponent"],
        "creep_stress_ref": section["creep_stress_ref_MPa"] * 1e6,
        "creep_activation_energy": section["creep_activation_energy_kJ_mol"] * 1e3,
        "reference_temperature": kelvin(section["creep_reference_temperature_C"]),
    }


def equivalent_stress(stress: np.ndarray) -> np.ndarray:
    """von Mises sigma_e = sqrt(3/2 s : s) of Mandel stresses (..., 4) or (..., 6)."""
    s = stress @ deviatoric_projector(stress.shape[-1])
    return np.sqrt(1.5 * np.einsum("...i,...i->...", s, s))


def hydrostatic_pressure(stress: np.ndarray) -> np.ndarray:
    """p = -tr(sigma)/3, positive in compression."""
    return -(stress @ mandel_identity(stress.shape[-1])) / 3.0


def creep_increment(trial_equivalent_stress: np.ndarray, dt: float, material: NortonMaterial,
                    tolerance: float = 1e-13, max_iterations: int = 100) -> np.ndarray:
    """Equivalent creep strain increment dp of a backward-Euler Norton step, per point.

    With z = q / q_tr the fraction of the trial equivalent stress left after the step
    (dp = (1 - z) q_tr / (3 G)), the scalar equation is

        1 - z = a z^n,   a = 3 G dt eps_dot_0 (q_tr / sigma_ref)^n / q_tr,

    solved for w = ln z:  F(w) = ln(1 - e^w) - ln a - n w = 0.  F is decreasing and
    concave, so Newton started right of the root descends to it monotonically, with
    no overshoot, for any a — i.e. any dt, however stiff; a spans hundreds of decades
    between low stresses and long steps, so it is only ever used as ln a.  The start
    w0 = min(-ln(a)/n, ln(1 - a (1 + a)^-n)) is right of the root because the root
    satisfies a z^n < 1 and z > 1/(1 + a); it is already close to the root in both
    the stiff (a >> 1) and the nearly elastic (a << 1) limits.
    """
    q_tr = np.asarray(trial_equivalent_stress, dtype=float)
    dp = np.zeros_like(q_tr)
    if dt <= 0.0 or material.creep_rate <= 0.0:
        return dp
    if not np.all(np.isfinite(q_tr)):
        raise RuntimeError("Norton return mapping: non-finite trial stress")
    G, n = material.shear_modulus, material.creep_exponent
    active = q_tr > 0.0
    q = q_tr[active]
    log_a = np.log(3.0 * G * dt * material.creep_rate / q) + n * np.log(q / material.creep_stress_ref)
    w = np.minimum(-log_a / n, np.log1p(-np.exp(log_a - n * np.log1p(np.exp(np.minimum(log_a, 700.0))))))
    for _ in range(max_iterations):
        relaxed = -np.expm1(w)  # 1 - z
        F = np.log(relaxed) - log_a - n * w
        dF = -np.exp(w) / relaxed - n
        step = -F / dF
        w = w + step
        if np.all(np.abs(step) <= tolerance * np.abs(w)):
            break
    else:
        raise RuntimeError(f"Norton return mapping did not converge in {max_iterations} iterations "
                           f"(worst relative step {np.max(np.abs(step) / np.abs(w)):.2e})")
    dp[active] = -np.expm1(w) * q / (3.0 * G)
    return dp


@dataclass
class CreepUpdate:
    """State at the end of a step, per point (Mandel components)."""

    stress: np.ndarray  # (N, 4) or (N, 6)
    creep_strain: np.ndarray  # like stress, deviatoric
    creep_increment: np.ndarray  # (N,), equivalent creep strain increment dp
    tangent: np.ndarray  # (N, 4, 4) or (N, 6, 6), d(stress)/d(strain), algorithmic (consistent)

    @property
    def equivalent_stress(self) -> np.ndarray:
        return equivalent_stress(self.stress)


def norton_creep_update(strain: np.ndarray, creep_strain_old: np.ndarray, dt: float,
                        material: NortonMaterial) -> CreepUpdate:
    """Backward-Euler return mapping for total strains (N, 4) or (N, 6) given the creep strains of the last step.

    The consistent tangent, with h = d(dp)/d(q_tr) = n dp / (q + 3 G n dp), is

        C_alg = C - (6 G^2 dp / q_tr) Dev - 4 G^2 (h - dp / q_tr) N (x) N,

    which is C where nothing creeps (dp = 0) and loses its deviatoric stiffness in
    the relaxed limit of long steps.
    """
    G, n = material.shear_modulus, material.creep_exponent
    components = strain.shape[-1]
    stiffness = material.elastic_stiffness(components)
    projector = deviatoric_projector(components)
    trial = (strain - creep_strain_old) @ stiffness
    q_tr = equivalent_stress(trial)
    dp = creep_increment(q_tr, dt, material)

    creeping = dp > 0.0
    flow = np.zeros_like(trial)  # N = (3/2) s_tr / q_tr
    flow[creeping] = 1.5 * (trial[creeping] @ projector) / q_tr[creeping, None]
    stress = trial - 2.0 * G * dp[:, None] * flow
    creep_strain = creep_strain_old + dp[:, None] * flow

    tangent = np.broadcast_to(stiffness, (len(strain), components, components)).copy()
    if np.any(creeping):
        dp_c, q_tr_c, flow_c = dp[creeping], q_tr[creeping], flow[creeping]
        q = q_tr_c - 3.0 * G * dp_c
        h = n * dp_c / (q + 3.0 * G * n * dp_c)
        ratio = dp_c / q_tr_c
        tangent[creeping] -= (6.0 * G**2 * ratio)[:, None, None] * projector
        tangent[creeping] -= (4.0 * G**2 * (h - ratio))[:, None, None] * np.einsum("pi,pj->pij", flow_c, flow_c)
    return CreepUpdate(stress=stress, creep_strain=creep_strain, creep_increment=dp, tangent=tangent)
