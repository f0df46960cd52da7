"""The description page of the Snakemake report: what the study is, its configuration, its
calibration and score, and the figures in reading order (written by rule ``report_description``
from the results; the Snakefile's ``report:`` statement points at it)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from lisse.core.units import stress_text
from lisse.plating.comparison import QUANTITY_LABELS

# The report's figures in reading order: file name -> what it shows
READING_ORDER = {
    "field_maps.png": "where the current and the stress go, planar cell against a grid (Study A, Fig. 1)",
    "interface_profiles.png": "current density and stress along the interface of every cell (Fig. 2)",
    "strain_rates.png": "stripping strain rate against creep strain rate per interface segment (Fig. 3)",
    "phase_diagrams.png": "stable and unstable (current, pressure) plane of every cell (Fig. 4)",
    "phase_boundaries.png": "the boundaries of every cell on one plot (Fig. 4)",
    "ccd_vs_channel_width.png": "the critical current density at the calibration pressure against channel width (Fig. 5)",
    "validation_table.png": "every experiment against the model's verdict (Fig. 6)",
    "model_forms.png": "2D cross-section against 3D unit cell, transient against steady creep",
    "design_map.png": "the predicted CCD over channel width and depth, against the interface area",
    "sensitivity.png": "how far the CCD moves with each input nobody measured, re-calibrated",
    "plating_stress_vs_current.png": "Study B: Li pressure and LLZO stress against the plating current",
    "plating_vs_paper.png": "Study B: the model against the values the study reports",
    "plating_fields.png": "Study B: pressure and stress fields at the current collector's tip",
    "plating_fracture_map.png": "Study B: crack or no crack over current density and flaw size",
}


def _range(values, unit: str) -> str:
    values = sorted(values)
    return f"{values[0]:g} to {values[-1]:g} {unit} ({len(values)} values)" if len(values) > 1 else f"{values[0]:g} {unit}"


def _cells(config: dict) -> str:
    g = config["geometry"]
    kind = "3D unit cells of the square grid" if g["dimension"] == 3 else "plane-strain cross-sections"
    cells = (["planar"] if g["planar"] else []) + [f"{w:g} um" for w in g["channel_widths_um"]]
    return (f"{', '.join(cells)} ({kind}; land = {g['land_to_channel_width_ratio']:g} x channel width, "
            f"channel depth {g['channel_depth_um']:g} um)")


def description_rst(config: dict, figures: list[str], calibration: dict | None = None,
                    validation: pd.DataFrame | None = None, ccd: pd.DataFrame | None = None,
                    plating: pd.DataFrame | None = None, plating_calibration: dict | None = None,
                    plating_vs_paper: pd.DataFrame | None = None) -> str:
    """The page in reStructuredText; ``figures`` are the report's figure files of this study."""
    title = f"lisse, study {config['study']}: stability of Li | LLZO | Li interfaces"
    lines = [title, "=" * len(title), ""]
    lines += ["Electro-chemo-mechanical model of Li metal on the garnet solid electrolyte LLZO, regenerating "
              "two published studies with DOLFINx (the project's README documents the model and its sources)."]
    if "cells" in config["studies"]:
        me, ec, st = config["mechanics"], config["electrochemistry"], config["stability"]
        lines += ["", "Study A: planar and micropatterned interfaces", "-" * 45, "",
                  "*Adv. Mater.* 2021, 2104009: is the Li stripped from the interface replaced by creep under the "
                  "stack pressure? Where it is not, voids open and the cell shorts.", "",
                  f"- Cells: {_cells(config)}.",
                  f"- Temperature {config['temperature_C']:g} C; applied current densities "
                  f"{_range(ec['current_densities_mA_cm2'], 'mA/cm2')}; stack pressures "
                  f"{_range(me['stack_pressures_MPa'], 'MPa')} ({me['method']} creep mechanics).",
                  f"- Criterion: a cell is stable where creep keeps up with stripping on at least "
                  f"{st['critical_stable_fraction']:g} of its interface area."]
        if calibration is not None:
            value = calibration["eps_dot_0_per_s"]
            how = (f"fitted on the {calibration['dimension']}D planar cell so that its CCD at "
                   f"{calibration['pressure_MPa']:g} MPa is the measured {calibration['target_ccd_mA_cm2']:g} mA/cm2"
                   if calibration["calibrated"] else "the literature value (calibration off)")
            lines.append(f"- Creep prefactor eps_dot_0 = {value:.4g} 1/s, {how}; literature "
                         f"{calibration['literature_eps_dot_0_per_s']:.3g} 1/s.")
        if ccd is not None and len(ccd):
            values = "; ".join(f"{row.geometry} {row.ccd_mA_cm2:.3g}" if not math.isnan(row.ccd_mA_cm2)
                               else f"{row.geometry} none in range" for row in ccd.itertuples())
            lines.append(f"- Predicted CCD at {ccd['pressure_MPa'].iloc[0]:g} MPa (mA/cm2): {values}.")
        scored = None if validation is None else validation[validation["role"] != "calibration"]
        if scored is not None and len(scored):  # the calibration target is met by construction
            wrong = [f"{row.geometry} at {row.current_mA_cm2:g} mA/cm2 ({row.test}, measured {row.outcome})"
                     for row in scored.itertuples() if not row.agree]
            lines.append(f"- Agreement with the experiments not used to calibrate: **{int(scored['agree'].sum())} of "
                         f"{len(scored)}**" + (f"; wrong: {', '.join(wrong)}." if wrong else "."))
    if "plating" in config["studies"] and plating is not None:
        p = config["plating"]
        lines += ["", "Study B: plating under a rigid current collector", "-" * 48, "",
                  "*Nat. Commun.* 2022: Li plated into a confined space builds GPa-level pressure and cracks LLZO.", "",
                  f"- {len(plating)} plating solves: constraint cases {', '.join(p['constraint_cases'])}; flaw sizes "
                  f"{', '.join(f'{a:g}' for a in p['flaw_sizes_nm'])} nm; current densities "
                  f"{_range(p['current_densities_mA_cm2'], 'mA/cm2')}."]
        if plating_calibration is not None:
            target = plating_calibration["target"]
            lines.append(f"- Deposition time t_d = {plating_calibration['duration_s'] * 1e3:.4g} ms for every current, "
                         f"fitted so that p in Li is {stress_text(target['p_max_Pa'])} at {target['current_mA_cm2']:g} "
                         f"mA/cm2 under {target['constraint']} (the one fitted constant).")
        for case, rows in plating.groupby("constraint", sort=False):
            top = rows[rows["current_mA_cm2"] == rows["current_mA_cm2"].max()]
            lines.append(f"- {case}: at {top['current_mA_cm2'].iloc[0]:g} mA/cm2, p in Li up to "
                         f"{stress_text(top['p_max_Pa'].max())}, sigma_1 at the pit tip up to "
                         f"{stress_text(top['sigma1_tip_Pa'].max())}.")
        stopped = (~plating["valid"].astype(bool)).sum() if "valid" in plating else 0
        if stopped:
            lines.append(f"- {stopped} of {len(plating)} runs stopped where they left the model (Li through the free "
                         "LLZO surface, or the pit tip above the LLZO's ideal strength); their values are those there.")
        if plating_vs_paper is not None and len(plating_vs_paper):
            ratios = "; ".join(f"{QUANTITY_LABELS.get(row.quantity, row.quantity)}, {row.constraint}, "
                               f"{row.current_mA_cm2:.4g} "
                               f"mA/cm2: " + (f"x {row.ratio:.2f}" if row.ratio >= 0.01 else "about 0")
                               + (" (fitted)" if row.role == "calibrated" else "")
                               for row in plating_vs_paper.itertuples() if math.isfinite(row.ratio))
            lines.append(f"- Model / study for the values the study reports (plating_vs_paper.csv): {ratios}.")
    present = [name for name in READING_ORDER if name in {Path(f).name for f in figures}]
    if present:
        lines += ["", "Figures in reading order", "-" * 24, ""]
        lines += [f"{k}. `{name}`_: {READING_ORDER[name]}." for k, name in enumerate(present, start=1)]
    lines += ["", "Each figure's caption says what to conclude from it; the tables are under *Validation*, the "
              "meshes under *Geometry*. Provenance (config, versions, commit) is in provenance.json next to the results.",
              ""]
    return "\n".join(lines)


def read_optional(path: str | None):
    """A JSON record or CSV table the page summarises, None if this study has none."""
    if not path:
        return None
    return json.loads(Path(path).read_text()) if path.endswith(".json") else pd.read_csv(path)
