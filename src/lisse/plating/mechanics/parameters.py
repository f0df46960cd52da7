"""Inputs of one plating solve (SI), the confined closed form, and the failure a solve reports."""

from __future__ import annotations

from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np

from lisse.core.constants import (
    FARADAY,
    LI_CREEP_ACTIVATION_ENERGY,
    LI_CREEP_EXPONENT,
    LI_CREEP_RATE_REF,
    LI_CREEP_REFERENCE_TEMPERATURE,
    LI_CREEP_STRESS_REF,
    LI_MOLAR_VOLUME,
    LI_POISSON_RATIO,
    LI_YOUNGS_MODULUS,
    LLZO_POISSON_RATIO,
    LLZO_YOUNGS_MODULUS,
)
from lisse.core.creep import LithiumCreepLaw, NortonMaterial
from lisse.core.parameters import parameters_from_dict
from lisse.core.stepping import Stepsize, TimeSteppingError
from lisse.plating.fracture import LLZO_CLEAVAGE_STRENGTH

CONSTRAINTS = ("top", "top_lateral", "none")
KINEMATICS = ("finite", "small")


@dataclass(frozen=True)
class PlatingNumerics:
    """The numerical choices of a plating solve: time stepping and Newton."""

    # time stepping: first dt = t_end / initial_steps, dt <= max_step_fraction t_end, *= growth when easy
    initial_steps: int = 40
    max_step_fraction: float = 0.05
    time_step_growth: float = 1.25
    fast_newton_iterations: int = 5
    max_time_step_cutbacks: int = 10
    max_newton_iterations: int = 25
    max_line_search_halvings: int = 8  # SNES line-search iterations (snes_linesearch_max_it)
    newton_rtol: float = 1e-8  # |R| <= rtol * K_Li * plated_thickness (nodal forces per unit depth)
    newton_stol: float = 1e-11  # or |Newton correction| <= stol * |u|


@dataclass(frozen=True)
class PlatingParameters(PlatingNumerics, LithiumCreepLaw):
    """Inputs of one plating solve, SI units: the physics here, the numerics in
    :class:`PlatingNumerics` (one flat set of keyword arguments and JSON keys)."""

    constraint: str = "top"  # "top" | "top_lateral" | "none"
    current_density: float = 40.0  # A/m² (40 A/m² = 4 mA/cm²)
    plated_thickness: float = 4e-9  # m, thickness plated by the end of the run (fixed for every i); without duration
    duration: float | None = None  # s, deposition time (the same for every i); replaces plated_thickness when set
    pit_growth: bool = False  # True: the Li in the pit grows too (Li plated on the pit walls); False: only the layer
    temperature: float = 298.15  # K
    molar_volume: float = LI_MOLAR_VOLUME  # m³/mol
    # Li: Study A's constants
    li_youngs_modulus: float = LI_YOUNGS_MODULUS
    li_poisson_ratio: float = LI_POISSON_RATIO
    creep: bool = True  # False: Li hyperelastic
    creep_rate_ref: float = LI_CREEP_RATE_REF  # eps_dot_0 at reference_temperature, 1/s
    creep_exponent: float = LI_CREEP_EXPONENT
    creep_stress_ref: float = LI_CREEP_STRESS_REF  # Pa
    creep_activation_energy: float = LI_CREEP_ACTIVATION_ENERGY  # J/mol
    reference_temperature: float = LI_CREEP_REFERENCE_TEMPERATURE  # K
    yield_strength: float = 0.0  # Pa; 0 = none (pure Norton); else Perzyna threshold sigma_y
    # LLZO
    llzo_youngs_modulus: float = LLZO_YOUNGS_MODULUS
    llzo_poisson_ratio: float = LLZO_POISSON_RATIO
    llzo_cleavage_strength: float = LLZO_CLEAVAGE_STRENGTH  # Pa; a run stops where sigma_1 in the LLZO exceeds it
    kinematics: str = "finite"  # "finite" | "small"
    axisymmetric: bool = False  # True: x is the radius (a spheroidal pit under a spherical probe); finite kinematics
    output_fractions: tuple[float, ...] = (0.25, 0.5, 0.75)  # field snapshots at these fractions of t_end

    def __post_init__(self):
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, not {self.constraint!r}")
        if self.kinematics not in KINEMATICS:
            raise ValueError(f"kinematics must be one of {KINEMATICS}, not {self.kinematics!r}")
        if self.axisymmetric and self.kinematics != "finite":
            raise ValueError("axisymmetric needs kinematics 'finite'")
        if self.current_density <= 0 or self.plated_thickness <= 0:
            raise ValueError("current_density and plated_thickness must be positive")
        if self.duration is not None and not self.duration > 0:
            raise ValueError(f"duration must be positive (s) or None (plate plated_thickness), not {self.duration!r}")
        for name in ("li", "llzo"):
            E, nu = getattr(self, f"{name}_youngs_modulus"), getattr(self, f"{name}_poisson_ratio")
            if E <= 0 or not -1.0 < nu < 0.5:
                raise ValueError(f"need {name}_youngs_modulus > 0 and -1 < {name}_poisson_ratio < 0.5")
        if not self.llzo_cleavage_strength > 0:
            raise ValueError("llzo_cleavage_strength must be positive (Pa)")
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
        """t_end: the deposition time if given, else plated_thickness / v, s."""
        return self.duration if self.duration is not None else self.plated_thickness / self.plating_velocity

    @property
    def final_plated_thickness(self) -> float:
        """v t_end, m: plated_thickness, or what the deposition time plates at this current."""
        return self.plating_velocity * self.end_time

    def li_material(self) -> NortonMaterial:
        return self.norton_material(self.li_youngs_modulus, self.li_poisson_ratio)

    def llzo_material(self) -> NortonMaterial:
        return NortonMaterial(self.llzo_youngs_modulus, self.llzo_poisson_ratio, 0.0, 1.0, 1.0)

    def stepsize(self) -> Stepsize:
        """First step t_end / initial_steps, at most max_step_fraction t_end."""
        return Stepsize(self.end_time / self.initial_steps, growth_factor=self.time_step_growth,
                        fast_iterations=self.fast_newton_iterations, max_cutbacks=self.max_time_step_cutbacks,
                        max_value=self.max_step_fraction * self.end_time)

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


class PlatingConvergenceError(TimeSteppingError):
    """The time stepping gave up: a step kept failing after the allowed cut-backs."""

    kind = "plating"
