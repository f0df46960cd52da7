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


class CalibrationMismatch(ValueError):
    """A calibration applied to cells of another dimension than the planar cell it was fitted on."""


def calibration_record(ec_paths: list[str], currents_A_m2: list[float], me_paths: list[str], pressures_Pa: list[float],
                       config: dict, cell: dict) -> dict:
    """eps_dot_0 fitted so that the planar cell's CCD at the calibration pressure is the measured one
    (or the literature value when stability.calibrate is false), with the cell it came from
    (``cell``: label, geometry id, dimension, mechanics method)."""
    st, me = config["stability"], config["mechanics"]
    literature = creep_prefactor_at(me["creep_rate_ref_per_s"], kelvin(config["temperature_C"]),
                                    kelvin(me["creep_reference_temperature_C"]), config)
    record = {"temperature_C": config["temperature_C"], "literature_eps_dot_0_per_s": literature,
              "calibrated": st["calibrate"], "cell": cell, "dimension": cell["dimension"]}
    if not st["calibrate"]:
        return {**record, "eps_dot_0_per_s": literature}
    planar = response(ec_paths, currents_A_m2, me_paths, pressures_Pa)
    fit = stability.calibrate_creep_prefactor(planar, st["calibration_target_ccd_mA_cm2"] * MA_CM2,
                                              st["calibration_pressure_MPa"] * MPA, criterion=criterion(config))
    return {**record, "eps_dot_0_per_s": fit.eps_dot_0, "bracket_per_s": list(fit.bracket), "residual": fit.residual,
            "iterations": fit.iterations, "target_ccd_mA_cm2": st["calibration_target_ccd_mA_cm2"],
            "predicted_ccd_mA_cm2": fit.critical_current_density_A_m2 / MA_CM2,
            "pressure_MPa": st["calibration_pressure_MPa"], "geometry": cell["label"]}


def read_eps_dot_0(calibration_json: str | Path, dimension: int) -> float:
    """The calibrated eps_dot_0 (1/s, at the study temperature) for cells of ``dimension``.

    The planar cell's equivalent stress differs between dimensions (plane strain sigma_e = (sqrt 3 / 2) P,
    the 3D cell P), and the creep rate goes as sigma_e^n: an eps_dot_0 fitted in one dimension
    moves every CCD of the other by (sqrt 3 / 2)^-n ~ 2.6, so it is refused."""
    record = json.loads(Path(calibration_json).read_text())
    fitted_in = record.get("dimension")
    if fitted_in != dimension:
        raise CalibrationMismatch(
            f"{calibration_json}: eps_dot_0 was fitted on a {fitted_in}D planar cell "
            f"({record.get('cell', {}).get('geometry_id', 'unknown cell')}) and cannot be applied to {dimension}D cells; "
            f"calibrate on the planar cell of the cells' own dimension")
    return float(record["eps_dot_0_per_s"])


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


def model_form_table(forms: dict[str, dict], experiments_csv: str | Path, config: dict) -> pd.DataFrame:
    """Per model form (or sensitivity variant) and geometry: eps_dot_0 calibrated on the form's own
    planar cell, the CCD at the calibration pressure, and the form's agreement score on the experiments.

    ``forms``: name -> title, dimension, method, record, calibration file, currents_A_m2,
    pressures_Pa, geometries (label -> channel width, ec and me tables) and validation cases
    (:meth:`lisse.workflow.sweep.CellSweep.model_form_cases`).
    """
    pressure = config["stability"]["calibration_pressure_MPa"]
    rows = []
    for name, form in forms.items():
        own = form.get("config", config)  # a sensitivity variant's criterion and creep law are its own
        eps_dot_0 = read_eps_dot_0(form["calibration"], form["dimension"])
        validation = validation_table(experiments_csv, form["validation"], eps_dot_0, own)
        scored = validation[validation["role"] == "validation"]
        for tables in form["geometries"].values():
            resp = response(tables["ec"], form["currents_A_m2"], tables["me"], form["pressures_Pa"])
            ccd = critical_current_mA_cm2(resp, pressure, eps_dot_0, own)
            width = tables["channel_width_um"]
            rows.append({"form": name, "model": form["title"], "dimension": form["dimension"], "method": form["method"],
                         "model_of_record": form["record"], "geometry": f"grid{width:g}" if width else "planar",
                         "channel_width_um": width, "eps_dot_0_per_s": eps_dot_0, "pressure_MPa": pressure,
                         "ccd_mA_cm2": ccd["ccd_mA_cm2"], "ccd_status": ccd["status"],
                         "agree": int(scored["agree"].sum()), "scored": len(scored)})
    return pd.DataFrame(rows)
