"""Post-processing glue between the solvers' files and :mod:`lisse.cell.stability` (no DOLFINx).

The rule scripts stay thin: they pass file lists and sweep values here and write
what comes back.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from lisse.cell import stability
from lisse.cell.stability import InterfaceResponse, StabilityCriterion
from lisse.core.units import MA_CM2, MPA, UM, kelvin


def criterion(config: dict) -> StabilityCriterion:
    """The criterion's constants from the validated config (h = the recession the mechanics imposes)."""
    me = config["mechanics"]
    return StabilityCriterion(thickness=me["recession_um"] * UM, stress_ref=me["creep_stress_ref_MPa"] * MPA,
                              exponent=me["creep_exponent"],
                              critical_fraction=config["stability"]["critical_stable_fraction"])


def creep_prefactor_at(eps_dot_0: float, temperature_K: float, at_temperature_K: float, config: dict) -> float:
    """eps_dot_0 known at ``at_temperature_K`` moved to ``temperature_K`` (Arrhenius, Q from the config)."""
    return float(stability.creep_rate_prefactor(eps_dot_0, temperature_K, at_temperature_K,
                                                config["mechanics"]["creep_activation_energy_kJ_mol"] * 1e3))


def response(ec_paths: list[str], currents_A_m2: list[float], me_paths: list[str],
             pressures_Pa: list[float]) -> InterfaceResponse:
    """The interface response of one geometry from its solved electrochemistry and mechanics tables."""
    return InterfaceResponse.from_tables(
        {float(i): pd.read_csv(path) for i, path in zip(currents_A_m2, ec_paths)},
        {float(p): pd.read_csv(path) for p, path in zip(pressures_Pa, me_paths)})


STRESS_COLUMNS = ("von_mises_Pa", "hydrostatic_pressure_Pa", "deviatoric_norm_Pa", "normal_traction_Pa",
                  "tangential_traction_Pa")


def mechanics_table(path: str | Path, stress_scale: float = 1.0) -> pd.DataFrame:
    """A mechanics interface table with its stresses multiplied by ``stress_scale`` (a steady solve
    moved to another pressure; 1 for a solve at the pressure wanted)."""
    table = pd.read_csv(path)
    for column in STRESS_COLUMNS:
        table[column] *= stress_scale
    return table


def log_grid(low: float, high: float, points_per_decade: int) -> np.ndarray:
    n = max(2, int(round(math.log10(high / low) * points_per_decade)) + 1)
    return np.geomspace(low, high, n)


def read_eps_dot_0(calibration_json: str | Path) -> float:
    return float(json.loads(Path(calibration_json).read_text())["eps_dot_0_per_s"])


def phase_diagram(resp: InterfaceResponse, eps_dot_0: float, config: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dense classification of the (i_app, P) plane and the boundary curve CCD(P), lab units."""
    st = config["stability"]
    currents = log_grid(*st["current_range_mA_cm2"], st["points_per_decade"]) * MA_CM2
    pressures = log_grid(*st["pressure_range_MPa"], st["points_per_decade"]) * MPA
    crit = criterion(config)
    stability_map = resp.classify(currents, pressures, eps_dot_0, crit)
    i_grid, p_grid = np.meshgrid(currents, pressures, indexing="ij")
    diagram = pd.DataFrame({
        "current_mA_cm2": i_grid.ravel() / MA_CM2,
        "pressure_MPa": p_grid.ravel() / MPA,
        "stable_fraction": stability_map.stable_fraction.ravel(),
        "mean_log10_rate_ratio": stability_map.mean_log10_ratio.ravel(),
        "stable": stability_map.stable.ravel(),
        "extrapolated": stability_map.extrapolated.ravel(),
    })
    bounds = (currents[0] * 1e-3, currents[-1] * 1e3)
    boundary = resp.boundary_curve(pressures, eps_dot_0, bounds, crit)
    ccd = pd.DataFrame({
        "pressure_MPa": boundary["pressure_Pa"] / MPA,
        "ccd_mA_cm2": boundary["critical_current_density_A_m2"] / MA_CM2,
        "status": boundary["status"],
        "extrapolated": boundary["extrapolated"],
    })
    return diagram, ccd


def critical_current_mA_cm2(resp: InterfaceResponse, pressure_MPa: float, eps_dot_0: float, config: dict) -> dict:
    result = resp.critical_current_density(pressure_MPa * MPA, eps_dot_0, (1e-4 * MA_CM2, 1e3 * MA_CM2),
                                           criterion(config))
    return {"ccd_mA_cm2": result.current_density_A_m2 / MA_CM2, "status": result.status,
            "extrapolated": bool(result.extrapolated)}


def unit_cell_3d_stability(responses: dict[str, InterfaceResponse], cells: dict[str, dict],
                           pressures_Pa: list[float], eps_dot_0: float, current_mA_cm2: float,
                           config: dict) -> pd.DataFrame:
    """The criterion on each 3D unit cell and 2D cross-section at its mechanics pressures.

    ``responses`` and ``cells`` (table columns: geometry, channel width, dimension) by geometry
    label.  One row per geometry and pressure: the stable fraction (area in 3D, length in 2D)
    at ``current_mA_cm2`` and the CCD at that pressure.
    """
    rows = []
    for label, resp in responses.items():
        for pressure in pressures_Pa:
            metrics = resp.metrics(current_mA_cm2 * MA_CM2, pressure, eps_dot_0, criterion(config))
            ccd = critical_current_mA_cm2(resp, pressure / MPA, eps_dot_0, config)
            rows.append({**cells[label], "stack_pressure_MPa": pressure / MPA,
                         "stable_fraction": metrics.stable_fraction, "mean_log10_rate_ratio": metrics.mean_log10_ratio,
                         "ccd_mA_cm2": ccd["ccd_mA_cm2"], "ccd_status": ccd["status"]})
    return pd.DataFrame(rows)


def validation_table(experiments_csv: str | Path, cases: dict[str, dict], eps_dot_0: float,
                     config: dict) -> pd.DataFrame:
    """Each experiment with the model's stable fraction, verdict and agreement.

    eps_dot_0 is the (calibrated) prefactor at the study temperature; a point at another
    temperature uses its own electrochemistry solves and eps_dot_0 moved by Arrhenius.  The
    planar CCD point the calibration was fitted to is marked ``role = calibration`` and left
    out of the score: the model reproduces it by construction (it sits exactly on the boundary).
    """
    from lisse.cell.experiments import read_experiments

    experiments = read_experiments(experiments_csv, default_temperature_C=config["temperature_C"])
    st, crit = config["stability"], criterion(config)
    responses: dict[str, InterfaceResponse] = {}
    rows = []
    for row in experiments.itertuples():
        geometry_key = next(key for key, case in cases.items() if case["temperature_C"] == row.temperature_C
                            and case["channel_width_um"] == row.channel_width_um)
        case = cases[geometry_key]
        if geometry_key not in responses:
            responses[geometry_key] = response(case["ec"], case["currents_A_m2"], case["me"], case["pressures_Pa"])
        resp = responses[geometry_key]
        eps_at_t = creep_prefactor_at(eps_dot_0, kelvin(row.temperature_C), kelvin(config["temperature_C"]), config)
        metrics = resp.metrics(row.current_mA_cm2 * MA_CM2, row.pressure_MPa * MPA, eps_at_t, crit)
        model = "stable" if metrics.stable else "short"
        is_calibration = (st["calibrate"] and row.channel_width_um == 0 and row.test == "ccd"
                          and math.isclose(row.current_mA_cm2, st["calibration_target_ccd_mA_cm2"])
                          and math.isclose(row.pressure_MPa, st["calibration_pressure_MPa"]))
        ccd = critical_current_mA_cm2(resp, row.pressure_MPa, eps_at_t, config)
        rows.append({
            "row": row.row, "geometry": row.geometry, "channel_width_um": row.channel_width_um,
            "current_mA_cm2": row.current_mA_cm2, "pressure_MPa": row.pressure_MPa,
            "temperature_C": row.temperature_C, "test": row.test, "outcome": row.outcome,
            "model": model, "stable_fraction": metrics.stable_fraction,
            "mean_log10_rate_ratio": metrics.mean_log10_ratio,
            "predicted_ccd_mA_cm2": ccd["ccd_mA_cm2"], "extrapolated": metrics.extrapolated,
            "role": "calibration" if is_calibration else "validation",
            "agree": (model == row.outcome) if not is_calibration else True,
            "source": row.source, "note": row.note,
        })
    return pd.DataFrame(rows)


def agreement_score(validation_csv: str | Path) -> tuple[int, int]:
    table = pd.read_csv(validation_csv)
    scored = table[table["role"] == "validation"]
    return int(scored["agree"].sum()), len(scored)
