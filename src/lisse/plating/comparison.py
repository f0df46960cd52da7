"""Study B against the numbers the study reports (Nat. Commun. 2022, Fig. 4 and text): a table and a figure.

Each reported value is matched with the model's at the same constraint case and current density,
on the sweep's figure flaw size (``plating.figures.flaw_size_nm``).  A current the sweep did not
solve is interpolated linearly in (log i, log value) between the two solved currents around it
(``model_source``), never extrapolated.  The row the deposition time was fitted to is marked
``calibrated``; every other row is a prediction.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lisse.core.constants import FARADAY, LI_MOLAR_VOLUME, LI_SURFACE_ENERGY
from lisse.core.figures import plt, save
from lisse.core.units import MA_CM2
from lisse.plating.fracture import current_density_from_velocity, whisker_stress

WHISKER_VELOCITY = 1940e-9  # m/s, the study's measured whisker growth velocity
WHISKER_OVERPOTENTIAL = 1.65e-3  # V, the study's measured overpotential of that growth
WHISKER_CURRENT_MA_CM2 = float(current_density_from_velocity(WHISKER_VELOCITY)) / MA_CM2  # 1.44 A/cm²

# (quantity, case, current mA/cm², reported value Pa, what the study says)
REPORTED = (
    ("p_max", "top", 4.0, 9.7e6, "top constraint only, 4 mA/cm2: p in Li (Fig. 4b)"),
    ("sigma1_tip", "top", 4.0, 30.6e6, "top constraint only, 4 mA/cm2: sigma_1 at the pit tip (Fig. 4c)"),
    ("p_max", "top_lateral", 2000.0, 4.9e9, "top + lateral constraint, 2 A/cm2: p in Li (Fig. 4d, e)"),
    ("sigma1_tip", "top_lateral", 2000.0, 16.3e9, "top + lateral constraint, 2 A/cm2: sigma_1 at the pit tip (Fig. 4d, f)"),
    ("p_max", "top_lateral", 3000.0, 10e9, "grows with i 'to the 10 GPa level' at 3-4 A/cm2 (Fig. 4d; a level, not a value)"),
    ("p_max", "top_lateral", 4000.0, 10e9, "grows with i 'to the 10 GPa level' at 3-4 A/cm2 (Fig. 4d; a level, not a value)"),
    ("p_max", "none", WHISKER_CURRENT_MA_CM2, 6.9e6,
     "no top constraint, fast whisker growth (Fig. 4h), at the measured 1940 nm/s = 1.44 A/cm2"),
    ("whisker_stress", "none", WHISKER_CURRENT_MA_CM2, FARADAY * WHISKER_OVERPOTENTIAL / LI_MOLAR_VOLUME,
     "whisker growth stress F dphi / V_m at the measured dphi = 1.65 mV and 1940 nm/s (text)"),
)
QUANTITY_LABELS = {"p_max": "max p in Li", "sigma1_tip": "σ₁ at the pit tip", "whisker_stress": "whisker γs/A + ρv²/2"}
COLUMNS = ("quantity", "constraint", "current_mA_cm2", "study_Pa", "model_Pa", "ratio", "role", "model_source",
           "flaw_size_nm", "study_says", "model_note")


def _at_current(sub: pd.DataFrame, column: str, current: float) -> tuple[float, str]:
    """The model's value at a current: solved, interpolated in (log i, log value), or NaN outside."""
    currents = sub["current_mA_cm2"].to_numpy(float)
    values = sub[column].to_numpy(float)
    exact = np.isclose(currents, current, rtol=1e-9)
    if exact.any():
        return float(values[exact][0]), "computed"
    if len(currents) < 2 or not currents.min() < current < currents.max():
        return math.nan, "not computed (outside the solved currents)"
    k = int(np.searchsorted(currents, current))
    i0, i1, v0, v1 = currents[k - 1], currents[k], values[k - 1], values[k]
    w = math.log(current / i0) / math.log(i1 / i0)
    if v0 > 0 and v1 > 0:
        value = math.exp((1 - w) * math.log(v0) + w * math.log(v1))
    else:
        value = (1 - w) * v0 + w * v1
    return value, f"interpolated (log-log) between {i0:g} and {i1:g} mA/cm2"


def compare_with_study(table: pd.DataFrame, flaw_size_nm: float, contact_half_width_m: float,
                       calibration: dict | None = None) -> pd.DataFrame:
    """One row per reported value: the study's, the model's, their ratio and where the model's comes from.

    ``table`` is the sweep table (:func:`lisse.plating.plots.collect_summaries`), ``calibration``
    the record of the fitted deposition time (its target row is marked ``calibrated``).
    """
    target = (calibration or {}).get("target", {})
    rows = []
    for quantity, case, current, study, says in REPORTED:
        sub = table[(table["constraint"] == case) & np.isclose(table["flaw_size_nm"], flaw_size_nm)]
        sub = sub.sort_values("current_mA_cm2")
        if quantity == "whisker_stress":
            s_over_a = 2.0 / contact_half_width_m
            model = float(whisker_stress(WHISKER_VELOCITY, contact_half_width_m))
            source = "closed form"
            note = (f"s/A = 2/R of a disc contact of radius R = contact half-width {contact_half_width_m * 1e9:g} nm "
                    f"({s_over_a:.3g} 1/m); the study's value needs s/A = {study / LI_SURFACE_ENERGY:.3g} 1/m "
                    f"(R = {2 * LI_SURFACE_ENERGY / study * 1e9:.0f} nm)")
        elif sub.empty:
            model, source, note = math.nan, "case not solved", ""
        else:
            column = "p_max_Pa" if quantity == "p_max" else "sigma1_tip_Pa"
            model, source = _at_current(sub, column, current)
            note = ""
        calibrated = (quantity == "p_max" and case == target.get("constraint")
                      and math.isclose(current, target.get("current_mA_cm2", math.nan), rel_tol=1e-9))
        rows.append({"quantity": quantity, "constraint": case, "current_mA_cm2": current, "study_Pa": study,
                     "model_Pa": model, "ratio": model / study, "role": "calibrated" if calibrated else "prediction",
                     "model_source": source, "flaw_size_nm": flaw_size_nm, "study_says": says, "model_note": note})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _current_label(current_mA_cm2: float) -> str:
    return f"{current_mA_cm2 / 1000:.3g} A/cm²" if current_mA_cm2 >= 1000 else f"{current_mA_cm2:.3g} mA/cm²"


def comparison_figure(comparison: pd.DataFrame, png_path: str | Path, case_colours: dict, case_labels: dict,
                      floor_Pa: float = 1e3) -> None:
    """Dot chart: per reported value, the study's (black star) and the model's (coloured dot), ratio at the right.

    A model value below ``floor_Pa`` (zero up to round-off) is drawn as a left-pointing triangle at the
    axis' left end and its ratio written as "≈ 0".
    """
    n = len(comparison)
    fig, ax = plt.subplots(figsize=(9.5, 0.55 * n + 1.6), layout="constrained")
    y = np.arange(n)[::-1]
    shown = [v for v in list(comparison["study_Pa"]) + list(comparison["model_Pa"]) if np.isfinite(v) and v >= floor_Pa]
    left, right = min(shown) / 5.0, max(shown) * 3.0
    for yk, (_, row) in zip(y, comparison.iterrows()):
        colour = case_colours.get(row["constraint"], "grey")
        model, zero = row["model_Pa"], np.isfinite(row["model_Pa"]) and row["model_Pa"] < floor_Pa
        drawn = left if zero else model
        if np.isfinite(model):
            ax.plot([row["study_Pa"], drawn], [yk, yk], color=colour, lw=1.0, alpha=0.6)
        ax.scatter(row["study_Pa"], yk, marker="*", s=150, color="black", zorder=5)
        if np.isfinite(model):
            ax.scatter(drawn, yk, marker="<" if zero else "o", s=60, color=colour, zorder=6, clip_on=False,
                       edgecolors="white" if row["role"] == "prediction" else "black", linewidths=1.2)
        if zero:
            ratio = f"≈ 0 (model < {floor_Pa / 1e3:g} kPa)"
        else:
            ratio = f"× {row['ratio']:.2f}" if np.isfinite(row["ratio"]) else "not computed"
        if row["role"] == "calibrated":
            ratio += " (fitted)"
        elif row["model_source"].startswith("interpolated"):
            ratio += " (interp.)"
        ax.annotate(ratio, xy=(1.01, yk), xycoords=("axes fraction", "data"), va="center", fontsize=8.5)
    labels = [f"{QUANTITY_LABELS[r.quantity]} · {case_labels.get(r.constraint, r.constraint)} · "
              f"{_current_label(r.current_mA_cm2)}" + (" (study: a level)" if "a level" in r.study_says else "")
              for r in comparison.itertuples()]
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_xscale("log")
    ax.set_xlim(left, right)
    ax.set_xlabel("stress (Pa)")
    ax.set_ylim(-0.7, n - 0.3)
    ax.scatter([], [], marker="*", s=150, color="black", label="study (Nat. Commun. 2022)")
    ax.scatter([], [], marker="o", s=60, color="grey", edgecolors="white", label="model (prediction)")
    ax.scatter([], [], marker="o", s=60, color="grey", edgecolors="black", linewidths=1.2,
               label="model (fitted: the deposition time)")
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    ax.set_title("Study B against the study's reported values (model / study at the right)", fontsize=10)
    save(fig, png_path)
