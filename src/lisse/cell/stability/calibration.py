"""Calibration of the creep prefactor eps_dot_0 to a measured critical current of the planar cell."""


from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lisse.cell.stability.criterion import StabilityCriterion
from lisse.cell.stability.response import InterfaceResponse

# Study A: Adv. Mater. 2021, 2104009; README, "Stability criterion"

# --------------------------------------------------------------------------------------
# Calibration of eps_dot_0
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationResult:
    """eps_dot_0 such that the predicted CCD(P) equals the target."""

    eps_dot_0: float  # 1/s, at the temperature the response was solved at
    bracket: tuple[float, float]  # 1/s, the eps_dot_0 bracket searched
    residual: float  # CCD(eps_dot_0) / target - 1
    iterations: int
    critical_current_density_A_m2: float
    target_ccd_A_m2: float
    pressure_Pa: float


def find_root_illinois(g: Callable[[float], float], a: float, b: float, xtol: float = 1e-12, ftol: float = 0.0,
                       max_iterations: int = 200) -> tuple[float, int]:
    """Root of g in [a, b] (g(a), g(b) of opposite signs) by the Illinois method.

    Regula falsi keeps a bracket; Illinois halves the stale end's value so the bracket
    shrinks from both sides; a bisection step is forced whenever two steps failed to
    halve the bracket, so convergence is never slower than bisection's.
    Returns (root, number of evaluations of g after the two end points).
    """
    ga, gb = g(a), g(b)
    if ga == 0:
        return a, 0
    if gb == 0:
        return b, 0
    if np.sign(ga) == np.sign(gb):
        raise ValueError(f"g does not change sign on [{a}, {b}]: g(a) = {ga}, g(b) = {gb}")
    side, widths = 0, [b - a]  # bracket width after each step
    for iteration in range(1, max_iterations + 1):
        stalled = len(widths) >= 3 and widths[-1] > 0.5 * widths[-3]
        x = 0.5 * (a + b) if stalled else (a * gb - b * ga) / (gb - ga)
        if not a < x < b:  # regula falsi can land on an end in floating point
            x = 0.5 * (a + b)
        gx = g(x)
        if gx == 0 or abs(gx) <= ftol:
            return x, iteration
        if np.sign(gx) == np.sign(gb):
            b, gb = x, gx
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            a, ga = x, gx
            if side == +1:
                gb *= 0.5
            side = +1
        widths.append(b - a)
        if b - a <= xtol:
            return x, iteration
    raise RuntimeError(f"no convergence in {max_iterations} iterations; bracket [{a}, {b}]")


def calibrate_creep_prefactor(response: InterfaceResponse, target_ccd: float, pressure: float,
                              bracket: tuple[float, float] = (1e-9, 1e3),
                              criterion: StabilityCriterion = StabilityCriterion(),
                              current_bounds: tuple[float, float] | None = None,
                              xtol: float = 1e-12, ccd_rtol: float = 1e-13) -> CalibrationResult:
    """eps_dot_0 (1/s) such that CCD(pressure; eps_dot_0) = target_ccd (A/m²), usually on the planar cell.

    Solves g(x) = ln(CCD(e^x) / target) = 0 in x = ln eps_dot_0 by the Illinois method.
    eps_dot_ME is proportional to eps_dot_0, so the stable fraction, and with it the CCD,
    never decreases with eps_dot_0 and the root is unique.  When the CCD leaves
    ``current_bounds`` (default target x/÷ 1e6) the bound stands in for it: it has the
    right sign, which is all the bracketing needs.
    """
    target_ccd, pressure = float(target_ccd), float(pressure)
    if current_bounds is None:
        current_bounds = (target_ccd * 1e-6, target_ccd * 1e6)
    if not current_bounds[0] < target_ccd < current_bounds[1]:
        raise ValueError("target_ccd must lie inside current_bounds")
    if not 0 < bracket[0] < bracket[1]:
        raise ValueError("bracket must be (low, high) with 0 < low < high")

    def ccd(eps_dot_0):
        result = response.critical_current_density(pressure, eps_dot_0, current_bounds, criterion, ccd_rtol)
        return current_bounds[0] if result.status == "unstable_throughout" else result.current_density_A_m2

    def log_mismatch(x):
        return math.log(ccd(math.exp(x)) / target_ccd)

    x, iterations = find_root_illinois(log_mismatch, math.log(bracket[0]), math.log(bracket[1]), xtol=xtol,
                                       ftol=10 * ccd_rtol)
    eps_dot_0 = math.exp(x)
    predicted = ccd(eps_dot_0)
    return CalibrationResult(eps_dot_0, (float(bracket[0]), float(bracket[1])), predicted / target_ccd - 1.0,
                             iterations, predicted, target_ccd, pressure)
