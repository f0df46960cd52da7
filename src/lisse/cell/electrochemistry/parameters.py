"""Inputs of one electrochemistry solve (SI), Butler-Volmer and the planar closed forms, the failure a solve reports."""

from __future__ import annotations

import math
from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import ufl

from lisse.core.constants import BOLTZMANN_EV, FARADAY, GAS_CONSTANT
from lisse.core.parameters import parameters_from_dict
from lisse.core.units import MA_CM2, ZERO_CELSIUS


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




class ElectrochemistryConvergenceError(RuntimeError):
    """The solve did not converge (the Newton solve, or the linear solve of its initial guess)."""

    def __init__(self, reason_name: str, iterations: int, residual_norm: float, params: ElectrochemistryParameters,
                 stage: str = "Newton (SNES)"):
        self.reason_name, self.iterations, self.residual_norm, self.stage = reason_name, iterations, residual_norm, stage
        super().__init__(
            f"electrochemistry {stage} solve failed: {reason_name} after {iterations} iterations, "
            f"residual norm {residual_norm:.3e} (i_app = {params.applied_current_density / MA_CM2:g} mA/cm², "
            f"T = {params.temperature - ZERO_CELSIUS:g} °C); adjust petsc_options or check the inputs"
        )


