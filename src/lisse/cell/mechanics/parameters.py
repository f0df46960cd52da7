"""Inputs of one mechanics solve (SI), the planar closed forms, and the failure a solve reports."""

from __future__ import annotations

import math
from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

from lisse.core.constants import (
    LI_CREEP_ACTIVATION_ENERGY,
    LI_CREEP_EXPONENT,
    LI_CREEP_RATE_REF,
    LI_CREEP_REFERENCE_TEMPERATURE,
    LI_CREEP_STRESS_REF,
    LI_POISSON_RATIO,
    LI_YOUNGS_MODULUS,
)
from lisse.core.creep import LithiumCreepLaw, NortonMaterial
from lisse.core.parameters import parameters_from_dict
from lisse.core.stepping import Stepsize, TimeSteppingError

METHODS = ("steady", "transient")
LATERAL_CONDITIONS = ("uniform_edge", "free")
BACK_CONDITIONS = ("uniform_edge", "mirror")
NITSCHE_VARIANTS = {"incomplete": 0.0, "symmetric": 1.0, "skew": -1.0}
INTERFACE_NORMALS = ("averaged", "facet")


@dataclass(frozen=True)
class MechanicsNumerics:
    """The numerical choices of a mechanics solve: method, time stepping, Newton, Nitsche, elements."""

    # "steady": the steady creep flow, one solve for every P, T and eps_dot_0 (lisse.cell.mechanics.steady);
    # "transient": elastic loading and creep from t = 0 to t_eval (lisse.cell.mechanics.solve)
    method: str = "steady"
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
    # interface, lisse.core.mesh.averaged_boundary_normal) or "facet" (the straight facets' own normals,
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
    # ---- steady creep only
    # The linear-viscous floor: strain rates below this (in units of the uniaxial flow rate
    # under P) count as rest, where the power-law viscosity would be infinite.  It bounds the
    # equivalent stress of Li at rest to rest_strain_rate^(1/n) P (0.06 P at n = 6.6).
    rest_strain_rate: float = 1e-8
    # Continuation in n from 1: the first step tries the whole way (measured on the 3D 200 um cell:
    # 18 Newton iterations in one jump against 28 in steps of 1, 1.5, 2.25), halving on failure
    exponent_step: float = 8.0
    exponent_step_growth: float = 1.5  # after a step converged in at most fast_newton_iterations
    # Newton tolerance of the continuation's intermediate exponents (|R| / (P |li_top|)): they only
    # provide the next guess, so only the last one is solved to newton_rtol
    continuation_rtol: float = 1e-4
    # a steady residual that no line search reduces is accepted below this x P |li_top|
    steady_stagnation_rtol: float = 1e-8


@dataclass(frozen=True)
class MechanicsParameters(MechanicsNumerics, LithiumCreepLaw):
    """Inputs of one mechanics solve, SI units: the physics here, the numerics in
    :class:`MechanicsNumerics` (one flat set of keyword arguments and JSON keys)."""

    stack_pressure: float = 1.0e6  # Pa, on li_top
    temperature: float = 298.15  # K
    youngs_modulus: float = LI_YOUNGS_MODULUS  # Pa (Masias 2019)
    poisson_ratio: float = LI_POISSON_RATIO
    creep_rate_ref: float = LI_CREEP_RATE_REF  # eps_dot_0 at reference_temperature, 1/s (the calibration constant)
    creep_exponent: float = LI_CREEP_EXPONENT
    creep_stress_ref: float = LI_CREEP_STRESS_REF  # Pa
    creep_activation_energy: float = LI_CREEP_ACTIVATION_ENERGY  # J/mol
    reference_temperature: float = LI_CREEP_REFERENCE_TEMPERATURE  # K
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

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.method == "steady" and not self.creep:
            raise ValueError("method 'steady' needs creep: elastic Li has no steady creep flow")
        if self.method == "steady" and not (self.creep_exponent >= 1.0 and 0.0 < self.rest_strain_rate < 1e-2):
            raise ValueError("method 'steady' needs creep_exponent >= 1 and 0 < rest_strain_rate < 1e-2")
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

    def stepsize(self) -> Stepsize:
        return Stepsize(self.initial_time_step, growth_factor=self.time_step_growth,
                        fast_iterations=self.fast_newton_iterations, max_cutbacks=self.max_time_step_cutbacks)

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


class MechanicsConvergenceError(TimeSteppingError):
    """The time stepping gave up: a step kept failing after the allowed cut-backs."""

    kind = "mechanics"


