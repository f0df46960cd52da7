"""Study B's one fitted constant: the deposition time, fitted to one pressure the study reports.

With ``deposition: duration`` every current plates for the same time t_d, so the growth strain
g = i V_m t_d / (F h0) grows with the current, as in the study's fixed-duration step (Nat. Commun.
2022, Fig. 4d).  The study does not give t_d; it is fitted so that the maximum Li pressure of one
run equals one reported value (by default 4.9 GPa at 2 A/cm² under top + lateral constraint).
Every other number of the sweep is then a prediction.

Method.  A run to time t passes through every shorter run at the same current (same loading
path), so one run that overshoots the target brackets t_d, and its history p_max(t), interpolated
linearly, is the first estimate; runs at the estimate then refine it by Newton steps on the final
pressure with the slope dp/dt of their own last steps (the time steps of a shorter run differ, so
the history is an estimate to the time discretisation).  Cheap: the confined Li is elastic in
its volume, so each run is a few seconds on the default mesh.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np

from lisse.core.units import MA_CM2
from lisse.plating.mechanics.parameters import PlatingParameters, bulk_modulus
from lisse.plating.mechanics.solve import solve_plating

logger = logging.getLogger(__name__)


class CalibrationError(RuntimeError):
    """The deposition time could not be fitted (the target is not reached, or the fit does not converge)."""


def confined_growth_strain(pressure: float, bulk: float) -> float:
    """g with K (1 + g) ln(1 + g) = p: the growth strain that a layer confined by rigid walls needs
    (the FE layer, on compliant LLZO, needs more).  Newton on the convex left-hand side."""
    g = pressure / bulk
    for _ in range(50):
        step = ((1.0 + g) * math.log1p(g) - pressure / bulk) / (math.log1p(g) + 1.0)
        g -= step
        if abs(step) <= 1e-14 * max(g, 1e-300):
            break
    return g


def _crossing(times: np.ndarray, pressures: np.ndarray, target: float) -> float:
    """First t where the pressure history reaches the target, linear between steps."""
    k = int(np.argmax(pressures >= target))
    t0, t1, p0, p1 = times[k - 1], times[k], pressures[k - 1], pressures[k]
    return float(t0 + (t1 - t0) * (target - p0) / (p1 - p0))


def fit_deposition_time(mesh_data, facts: dict, params: PlatingParameters, target_pressure: float,
                        rtol: float = 1e-3, max_solves: int = 8, petsc_options: dict | None = None) -> dict:
    """Fit the deposition time t_d so that the run ``params`` (its case and current) ends at p_max = target.

    Returns the calibration record (JSON-serialisable): the fitted t_d, the plated thickness and
    growth strain it gives at the calibration current, the pressure reached, and every solve.
    Raises :class:`CalibrationError` naming the pressures reached.
    """
    h0, velocity = float(facts["li_thickness_m"]), params.plating_velocity
    g_confined = confined_growth_strain(target_pressure, bulk_modulus(params.li_material()))
    duration = 3.0 * g_confined * h0 / velocity  # on compliant LLZO the layer needs more than the rigid bound (2.3x)
    solves = []

    def run(t_d: float):
        result = solve_plating(mesh_data, facts, replace(params, duration=t_d), petsc_options=petsc_options,
                               prefix="plcal_")
        if result.summary["stopped_early"]:
            raise CalibrationError(f"the calibration run with t_d = {t_d:.4g} s left the model at "
                                   f"t = {result.summary['reached_time_s']:.4g} s: {result.summary['stopped_early']}")
        history = result.history
        solves.append({"duration_s": t_d, "p_max_Pa": result.summary["p_max_Pa"],
                       "sigma1_tip_Pa": result.summary["sigma1_tip_Pa"], "time_steps": result.summary["time_steps"],
                       "wall_time_s": result.summary["wall_time_s"]})
        logger.info("calibration solve %d: t_d = %.6e s, p_max = %.6e Pa (target %.6e Pa)", len(solves), t_d,
                    result.summary["p_max_Pa"], target_pressure)
        return result, history["time_s"].to_numpy(), history["p_max_Pa"].to_numpy()

    # bracket: double the deposition time until the run overshoots the target
    while True:
        result, times, pressures = run(duration)
        if pressures[-1] >= target_pressure:
            break
        if len(solves) >= max_solves:
            raise CalibrationError(f"p_max = {pressures[-1]:.4g} Pa after t_d = {duration:.4g} s does not reach the "
                                   f"target {target_pressure:.4g} Pa within {max_solves} solves")
        duration *= 2.0
    duration = _crossing(times, pressures, target_pressure)
    while True:
        result, times, pressures = run(duration)
        error = pressures[-1] / target_pressure - 1.0
        if abs(error) <= rtol:
            break
        if len(solves) >= max_solves:
            raise CalibrationError(f"the fit did not converge in {max_solves} solves: p_max = {pressures[-1]:.6g} Pa "
                                   f"at t_d = {duration:.6g} s against {target_pressure:.6g} Pa (rtol {rtol:g})")
        slope = (pressures[-1] - pressures[-2]) / (times[-1] - times[-2])
        if not slope > 0:
            raise CalibrationError(f"p_max does not grow with the deposition time at t_d = {duration:.6g} s")
        duration += (target_pressure - pressures[-1]) / slope
    summary = result.summary
    return {
        "fitted": "deposition time",
        "duration_s": duration,
        "plated_thickness_m": velocity * duration,  # at the calibration current
        "growth_strain": velocity * duration / h0,
        "target": {"constraint": params.constraint, "current_density_A_m2": params.current_density,
                   "current_mA_cm2": params.current_density / MA_CM2, "p_max_Pa": target_pressure, "rtol": rtol},
        "achieved": {"p_max_Pa": summary["p_max_Pa"], "relative_error": error,
                     "sigma1_tip_Pa": summary["sigma1_tip_Pa"], "p_mean_Pa": summary["p_mean_Pa"]},
        "confined_growth_strain": g_confined,  # what a layer between rigid walls would need
        "li_thickness_m": h0,
        "flaw_size_m": facts.get("flaw_size_m"),
        "solves": solves,
        "wall_time_s": sum(s["wall_time_s"] for s in solves),
        "method": "bracket by doubling t_d, first estimate from the p_max(t) history, then Newton on the final p_max",
    }
