"""Study B post-processing and figures: the sweep table, the fracture map, three figures.

Pure pandas/matplotlib (no DOLFINx), so the workflow's post-processing rules start fast; the
rules call these functions through thin scripts (scripts/plating_summary.py, fracture_map.py,
plating_figure_*.py).

Fracture map (Study B: Nat. Commun. 2022; README, "Study B").  Per constraint case, the FE
pit-tip stress sigma_1(i, a) of the sweep is interpolated linearly in (log i, log a) and
compared, through :func:`lisse.plating.fracture.fracture_map`, against min(sigma_c(a), sigma_th):
Griffith sigma_c(a) = K_IC / (Y sqrt(pi a)) and the cleavage strength sigma_th = 16.1 GPa
(column ``crack``, the study's criterion).  It compares a notch-root stress with a
nominal-stress criterion, which is conservative (the pit's own stress concentration is
counted on the load side).  A consistent alternative is also given (``crack_k``): the
notch-root stress of a blunt slender notch gives K_I = sqrt(pi rho) sigma_1 / 2
(Creager-Paris), and a crack starts when K_I >= K_IC or sigma_1 >= sigma_th.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from lisse.core.atomic import write_atomically
from lisse.core.figures import plt, save
from lisse.core.units import MA_CM2, stress_text
from lisse.plating.fracture import (
    GRIFFITH_GEOMETRY_FACTOR,
    LLZO_CLEAVAGE_STRENGTH,
    LLZO_FRACTURE_TOUGHNESS,
    fracture_map,
    griffith_critical_stress,
)

CASE_ORDER = ("top", "top_lateral", "none")
CASE_COLOURS = {"top": "#1f5fa8", "top_lateral": "#b2412b", "none": "#2e8b57"}
CASE_LABELS = {"top": "top constraint (Li spreads)", "top_lateral": "top + lateral constraint",
               "none": "no constraint (free growth)"}
FLAW_STYLES = ("-", "--", ":", "-.")
FLAW_MARKERS = ("o", "s", "^", "D", "v", "P")

SUMMARY_COLUMNS = (
    "constraint", "kinematics", "flaw_size_m", "flaw_size_nm", "pit_tip_radius_m", "current_density_A_m2",
    "current_mA_cm2", "duration_s", "plated_thickness_m", "final_growth_strain", "end_time_s", "reached_time_s",
    "stopped_early", "pit_growth",
    "p_max_Pa", "p_mean_Pa", "p_pit_mean_Pa",
    "sigma1_tip_Pa", "sigma1_tip_mean_Pa", "sigma1_llzo_max_Pa", "von_mises_li_max_Pa",
    "confined_pressure_bound_Pa", "whisker_stress_Pa", "griffith_critical_stress_Pa",
    "stress_intensity_estimate_Pa_sqrt_m", "dofs", "cells", "time_steps", "time_step_cutbacks", "newton_iterations",
    "wall_time_s", "n_ranks", "li_llzo_overlap_m", "valid", "summary",
)


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def collect_summaries(paths: list[str | Path]) -> pd.DataFrame:
    """One row per plating run, sorted by case, flaw size and current density."""
    rows = []
    for path in paths:
        s = json.loads(Path(path).read_text())
        row = {key: s.get(key) for key in SUMMARY_COLUMNS}
        row["flaw_size_nm"] = s["flaw_size_m"] * 1e9 if s.get("flaw_size_m") is not None else math.nan
        row["current_mA_cm2"] = s["current_density_A_m2"] / MA_CM2
        row["summary"] = str(path)
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    order = {case: k for k, case in enumerate(CASE_ORDER)}
    table = table.sort_values(["constraint", "flaw_size_m", "current_density_A_m2"],
                              key=lambda col: col.map(order) if col.name == "constraint" else col)
    return table.reset_index(drop=True)


def _bilinear_log(x_nodes, y_nodes, values, x, y) -> np.ndarray:
    """values (n_x, n_y) on (x_nodes, y_nodes), interpolated linearly in (log x, log y) at the grid x (.) y.

    With a single node along an axis the values are constant along it.  No extrapolation:
    x and y are clipped to the node range.
    """
    lx, ly = np.log(np.asarray(x_nodes, float)), np.log(np.asarray(y_nodes, float))
    along_y = np.array([np.interp(np.log(y), ly, row) for row in np.asarray(values, float)])  # (n_x, len(y))
    return np.array([np.interp(np.log(x), lx, column) for column in along_y.T]).T  # (len(x), len(y))


def _log_grid(nodes: np.ndarray, per_decade: int) -> np.ndarray:
    """A log-spaced grid from the first to the last node that contains every node exactly."""
    low, high = float(nodes[0]), float(nodes[-1])
    if high <= low:
        return np.array([low])
    n = max(2, int(math.ceil(per_decade * math.log10(high / low))) + 1)
    dense = np.geomspace(low, high, n)
    near = np.min(np.abs(np.log(dense)[:, None] - np.log(nodes)[None, :]), axis=1) < 1e-9
    return np.unique(np.concatenate([dense[~near], nodes]))


def fracture_assessment(table: pd.DataFrame, points_per_decade: int = 20,
                        report_currents_A_m2: tuple[float, ...] = (),
                        fracture_toughness: float = LLZO_FRACTURE_TOUGHNESS,
                        geometry_factor: float = GRIFFITH_GEOMETRY_FACTOR,
                        cleavage_strength: float = LLZO_CLEAVAGE_STRENGTH) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fracture map per constraint case on a dense (i, a) grid, and the critical flaw size per current.

    Returns ``(map, critical)``.  ``map`` rows: constraint, current, flaw size, interpolated
    sigma_1, Griffith and critical stresses, ``crack``/``mechanism`` (the study's criterion,
    :func:`lisse.plating.fracture.fracture_map`), K_I and ``crack_k`` (the K-based alternative), and
    ``computed`` (a sweep point), ``outside_model`` (a sweep point whose run stopped where it left the model,
    so its sigma_1 is the one there).  ``critical`` rows: per case and current (the computed ones,
    the ``report_currents_A_m2``), the flaw size a* below which the LLZO survives by each
    criterion (interpolated in log a), NaN with ``bound`` = "above_range" if no computed flaw
    cracks, "below_range" if the smallest one already does.
    """
    maps, critical = [], []
    for case in [c for c in CASE_ORDER if c in set(table["constraint"])] + \
            sorted(set(table["constraint"]) - set(CASE_ORDER)):
        sub = table[table["constraint"] == case]
        currents = np.sort(sub["current_density_A_m2"].unique())
        flaws = np.sort(sub["flaw_size_m"].unique())
        pivot = sub.pivot_table(index="current_density_A_m2", columns="flaw_size_m", values="sigma1_tip_Pa")
        pivot = pivot.reindex(index=currents, columns=flaws)
        if pivot.isna().any().any():
            missing = [(i, a) for i in currents for a in flaws if np.isnan(pivot.loc[i, a])]
            raise ValueError(f"case {case!r}: the sweep is not a full (current x flaw size) grid; missing {missing}")
        rho = float(sub["pit_tip_radius_m"].iloc[0])
        i_grid, a_grid = _log_grid(currents, points_per_decade), _log_grid(flaws, points_per_decade)
        sigma = _bilinear_log(currents, flaws, pivot.to_numpy(), i_grid, a_grid)
        frame = fracture_map(i_grid, a_grid, sigma, fracture_toughness, geometry_factor, cleavage_strength)
        k = 0.5 * math.sqrt(math.pi * rho) * frame["max_principal_stress_Pa"].to_numpy()
        frame["stress_intensity_Pa_sqrt_m"] = k
        frame["crack_k"] = (k >= fracture_toughness) | (frame["max_principal_stress_Pa"] >= cleavage_strength)
        frame["fracture_toughness_Pa_sqrt_m"] = fracture_toughness
        frame["computed"] = np.isin(frame["current_density_A_m2"], currents) & np.isin(frame["flaw_size_m"], flaws)
        flagged = sub[_invalid(sub)]
        left = set(zip(flagged["current_density_A_m2"], flagged["flaw_size_m"]))
        frame["outside_model"] = [(i, a) in left for i, a in zip(frame["current_density_A_m2"], frame["flaw_size_m"])]
        frame.insert(0, "constraint", case)
        frame.insert(2, "current_mA_cm2", frame["current_density_A_m2"] / MA_CM2)
        frame.insert(4, "flaw_size_nm", frame["flaw_size_m"] * 1e9)
        maps.append(frame)

        griffith = np.minimum(griffith_critical_stress(a_grid, fracture_toughness, geometry_factor), cleavage_strength)
        wanted = sorted(set(currents.tolist()) | {i for i in report_currents_A_m2
                                                  if currents[0] * (1 - 1e-9) <= i <= currents[-1] * (1 + 1e-9)})
        for i in wanted:
            s1 = _bilinear_log(currents, flaws, pivot.to_numpy(), [i], a_grid)[0]
            row = {"constraint": case, "current_density_A_m2": i, "current_mA_cm2": i / MA_CM2}
            for name, margin in (("", s1 / griffith - 1.0),
                                 ("_k", np.maximum(0.5 * math.sqrt(math.pi * rho) * s1 / fracture_toughness,
                                                   s1 / cleavage_strength) - 1.0)):
                size, bound = _first_crossing(a_grid, margin)
                row[f"critical_flaw_size{name}_m"] = size
                row[f"critical_flaw_size{name}_nm"] = size * 1e9
                row[f"bound{name}"] = bound
            critical.append(row)
    return pd.concat(maps, ignore_index=True), pd.DataFrame(critical)


def _first_crossing(a: np.ndarray, margin: np.ndarray) -> tuple[float, str]:
    """Smallest a where margin turns >= 0, interpolated in log a; (NaN, bound) outside the range."""
    crack = margin >= 0.0
    if not crack.any():
        return math.nan, "above_range"
    k = int(np.argmax(crack))
    if k == 0:
        return math.nan, "below_range"
    la0, la1, m0, m1 = math.log(a[k - 1]), math.log(a[k]), margin[k - 1], margin[k]
    return math.exp(la0 + (la1 - la0) * (-m0) / (m1 - m0)), "interior"


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def stress_vs_current(table: pd.DataFrame, png_path: str | Path, floor_Pa: float = 1e5,
                      reported: tuple = ()) -> None:
    """p_max in the Li and sigma_1 at the pit tip vs current density, per case and flaw size (log-log).

    Values below ``floor_Pa`` are drawn on the floor as downward triangles.  The sigma_1 panel
    carries sigma_c(a) per flaw size and the cleavage strength; the p panel the whisker growth
    stress of the free case.  ``reported``: the study's values, (quantity, case, current mA/cm²,
    value Pa, ...) rows as :data:`lisse.plating.comparison.REPORTED`, drawn as black stars.
    The legend sits below the panels (colour: case; line and marker: flaw size).
    """
    from matplotlib.lines import Line2D

    flaws = sorted(table["flaw_size_m"].unique())
    cases = [c for c in CASE_ORDER if c in set(table["constraint"])]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.9), sharex=True, layout="constrained")
    any_invalid = False
    columns = {"p_max": (axes[0], "p_max_Pa"), "sigma1_tip": (axes[1], "sigma1_tip_Pa")}
    for ax, column, label in ((axes[0], "p_max_Pa", "max hydrostatic pressure p in Li (Pa)"),
                              (axes[1], "sigma1_tip_Pa", "σ₁ at the pit tip, LLZO (Pa)")):
        for case in cases:
            for k, a in enumerate(flaws):
                sub = table[(table["constraint"] == case) & (table["flaw_size_m"] == a)].sort_values("current_mA_cm2")
                if sub.empty:
                    continue
                values = sub[column].to_numpy(dtype=float)
                shown = np.maximum(values, floor_Pa)
                ax.plot(sub["current_mA_cm2"], shown, ls=FLAW_STYLES[k % len(FLAW_STYLES)],
                        marker=FLAW_MARKERS[k % len(FLAW_MARKERS)], color=CASE_COLOURS.get(case, "grey"), ms=4, lw=1.2)
                low = values < floor_Pa
                if low.any():
                    ax.scatter(sub["current_mA_cm2"][low], shown[low], marker="v", s=40, zorder=5,
                               color=CASE_COLOURS.get(case, "grey"))
                invalid = _invalid(sub)
                if invalid.any():  # the Li sagged through the free LLZO surface: outside the model
                    ax.scatter(sub["current_mA_cm2"][invalid], shown[invalid], marker="o", s=70, zorder=6,
                               facecolors="white", edgecolors=CASE_COLOURS.get(case, "grey"), linewidths=1.5)
                    any_invalid = True
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("current density (mA/cm²)")
        ax.set_ylabel(label)
    for quantity, case, current, value, *_ in reported:
        if quantity in columns and case in cases:
            ax = columns[quantity][0]
            ax.scatter(current, value, marker="*", s=150, color=CASE_COLOURS.get(case, "grey"), edgecolors="black",
                       linewidths=0.8, zorder=7)
    for k, a in enumerate(flaws):
        axes[1].axhline(float(griffith_critical_stress(a)), color="#777777", lw=0.8, ls=FLAW_STYLES[k % 4])
    axes[1].axhline(LLZO_CLEAVAGE_STRENGTH, color="black", lw=1.2)
    # labels outside the right edge, spread apart where the lines crowd, each with a leader to its line
    levels = [(float(griffith_critical_stress(a)), f"σ_c({a * 1e9:g} nm)", "#555555") for a in flaws]
    levels.append((LLZO_CLEAVAGE_STRENGTH, "cleavage 16.1 GPa", "black"))
    low, high = (math.log10(v) for v in axes[1].get_ylim())
    placed = []
    for value, text, colour in sorted(levels):
        at = (math.log10(value) - low) / (high - low)
        at = max(at, placed[-1] + 0.045) if placed else at
        placed.append(at)
        axes[1].annotate(text, xy=(1.0, (math.log10(value) - low) / (high - low)), xycoords="axes fraction",
                         xytext=(1.04, at), textcoords="axes fraction", va="center", fontsize=7, color=colour,
                         arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6})
    handles = [Line2D([], [], color=CASE_COLOURS.get(c, "grey"), lw=2.5, label=CASE_LABELS.get(c, c)) for c in cases]
    handles += [Line2D([], [], color="#444444", ls=FLAW_STYLES[k % len(FLAW_STYLES)], marker=FLAW_MARKERS[k % 6], ms=4,
                       label=f"a = {a * 1e9:g} nm") for k, a in enumerate(flaws)]
    if reported:
        handles.append(Line2D([], [], ls="none", marker="*", ms=11, color="white", markeredgecolor="black",
                              label="study (Nat. Commun. 2022)"))
    if "whisker_stress_Pa" in table and table["whisker_stress_Pa"].notna().any():
        free = table[table["constraint"] == "none"].sort_values("current_mA_cm2")
        if not free.empty:
            axes[0].plot(free["current_mA_cm2"], free["whisker_stress_Pa"], color=CASE_COLOURS["none"], lw=1.0, ls=":")
            handles.append(Line2D([], [], color=CASE_COLOURS["none"], lw=1.0, ls=":", label="whisker γs/A + ρv²/2"))
    if (table["p_max_Pa"] < floor_Pa).any() or (table["sigma1_tip_Pa"] < floor_Pa).any():
        handles.append(Line2D([], [], ls="none", marker="v", ms=7, color="#444444",
                              label=f"below {floor_Pa / 1e6:g} MPa, drawn on the floor"))
    if any_invalid:
        handles.append(Line2D([], [], ls="none", marker="o", ms=8, markerfacecolor="white", markeredgecolor="#444444",
                              label="stopped where it left the model (Li through the free LLZO surface, or pit-tip "
                                    "σ₁ above the LLZO's ideal strength)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=7.5, frameon=False)
    deposition = _deposition_title(table)
    axes[0].set_title(f"Li pressure ({deposition})", fontsize=9)
    axes[1].set_title("LLZO stress at the pit tip vs Griffith and cleavage", fontsize=9)
    save(fig, png_path)


def _invalid(sub: pd.DataFrame) -> np.ndarray:
    """Runs flagged outside the model's validity (``valid`` false); older tables have no flag."""
    if "valid" not in sub:
        return np.zeros(len(sub), dtype=bool)
    return sub["valid"].map(lambda v: v is False or str(v).lower() == "false").to_numpy(dtype=bool)


def _deposition_title(table: pd.DataFrame) -> str:
    """How the currents compare: one deposition time, or one plated thickness."""
    durations = table["duration_s"].dropna().unique() if "duration_s" in table else []
    if len(durations) == 1:
        return f"every current plates for {float(durations[0]) * 1e3:.3g} ms"
    thickness = table["plated_thickness_m"].unique()
    if len(thickness) == 1:
        return f"every current plates {float(thickness[0]) * 1e9:g} nm"
    return "mixed deposition"


def _read_vtu(path: str | Path):
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    grid = pv.read(str(path))
    cells = grid.cells.reshape(-1, 4)[:, 1:]
    return grid.points[:, :2] * 1e9, cells, {name: np.asarray(grid.point_data[name]) for name in grid.point_data}


STRESS_FLOOR_PA = 1e3  # 1 kPa: below it a field is round-off (the LLZO and Li carry MPa to GPa when loaded)


def stress_fields(panels: list[dict], png_path: str | Path, floor_Pa: float = STRESS_FLOOR_PA) -> None:
    """Stress fields: p in the Li and sigma_1 in the LLZO, one row per case, one column per rate.

    Each panel: ``vtu`` (from :func:`lisse.plating.PlatingResult.write_vtu`), ``case``,
    ``current_mA_cm2``, ``window_nm`` (x0, x1, y0, y1, widened to hold the deformed Li).  Drawn
    on the deformed configuration (the Li grows and spreads), each panel on its own colour scales
    (the currents' stresses differ by orders of magnitude), with its two colour bars below it.  A
    field whose largest magnitude is below ``floor_Pa`` is drawn in one flat grey with a note, not
    on a colour scale stretched over round-off.
    """
    from matplotlib.tri import Triangulation

    cases = list(dict.fromkeys(p["case"] for p in panels))
    currents = sorted({p["current_mA_cm2"] for p in panels})
    data = {}
    for panel in panels:
        xy, cells, arrays = _read_vtu(panel["vtu"])
        if "displacement" in arrays:
            xy = xy + arrays["displacement"][:, :2] * 1e9  # m -> nm
        li = np.rint(arrays["material"][cells].mean(axis=1)) == 2
        summary = Path(panel["vtu"]).with_name("summary.json")  # the run's validity flag, when beside the fields
        facts = json.loads(summary.read_text()) if summary.exists() else {}
        data[(panel["case"], panel["current_mA_cm2"])] = (dict(panel, summary=facts), xy, cells, li, arrays)
    fig, axes = plt.subplots(len(cases), len(currents), figsize=(4.3 * len(currents), 4.0 * len(cases) + 0.5),
                             squeeze=False, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.12, hspace=0.06)
    for r, case in enumerate(cases):
        for c, current in enumerate(currents):
            ax = axes[r, c]
            if (case, current) not in data:
                ax.set_visible(False)
                continue
            panel, xy, cells, li, arrays = data[(case, current)]
            pressure, sigma1 = arrays["pressure"][cells[li]], arrays["max_principal_stress"][cells[~li]]
            p_top = float(np.percentile(np.abs(pressure), 99.5))
            s_lim = float(np.percentile(np.abs(sigma1), 99.0))
            tri_llzo = Triangulation(xy[:, 0], xy[:, 1], cells[~li])
            tri_li = Triangulation(xy[:, 0], xy[:, 1], cells[li])
            flat_fields = []
            for name, tri, values, colour_range, cmap, grey in (
                    ("σ₁ in LLZO", tri_llzo, arrays["max_principal_stress"], (-s_lim, s_lim), "RdBu_r", "#e4e4e4"),
                    ("p in Li", tri_li, arrays["pressure"], (min(0.0, float(np.percentile(pressure, 0.5))), p_top),
                     "magma", "#a8a8a8")):
                if not _field_or_flat(fig, ax, tri, values, colour_range, cmap, grey, name, floor_Pa):
                    flat_fields.append(name)
            x0, x1, y0, y1 = panel["window_nm"]
            li_xy = xy[np.unique(cells[li])]
            ax.set_xlim(x0, max(x1, 1.05 * li_xy[:, 0].max()))
            ax.set_ylim(y0, max(y1, li_xy[:, 1].max() + 0.1 * (y1 - y0)))
            ax.set_aspect("equal")
            ax.grid(False)
            tip = panel["summary"].get("sigma1_tip_Pa")  # the notch-root value the study reports, when beside
            stress = (f"σ₁ at the pit tip {stress_text(tip)}" if tip is not None and math.isfinite(tip)
                      else f"max σ₁ {stress_text(float(sigma1.max()))}")
            maxima = f"max p {stress_text(p_top)}, {stress}" if len(flat_fields) < 2 else "no stress above round-off"
            ax.set_title(f"{CASE_LABELS.get(case, case)}, {current:g} mA/cm²\n{maxima}", fontsize=8.5)
            if not panel["summary"].get("valid", True):
                ax.text(0.5, 0.03, _stopped_note(panel["summary"]),  # over the LLZO far from the pit
                        transform=ax.transAxes, ha="center", va="bottom", fontsize=7, color="#8b0000",
                        bbox={"facecolor": "white", "alpha": 0.85, "lw": 0})
            if flat_fields:
                ax.text(0.97, 0.03, f"{' and '.join(flat_fields)}:\n|value| < {floor_Pa / 1e3:g} kPa everywhere\n"
                        "(zero up to round-off),\ndrawn flat grey", transform=ax.transAxes, ha="right", va="bottom",
                        fontsize=7, bbox={"facecolor": "white", "alpha": 0.85, "lw": 0})
            ax.set_xlabel("x (nm)")
            if c == 0:
                ax.set_ylabel("y (nm)")
    fig.suptitle("End of plating (deformed): p in Li (magma), σ₁ in LLZO (red tension, blue compression), "
                 "each panel on its own scales", fontsize=9.5)
    save(fig, png_path)


def _field_or_flat(fig, ax, tri, values, colour_range, cmap, grey, name, floor_Pa) -> bool:
    """One body's field on its own colour bar (MPa), or flat ``grey`` when it is below ``floor_Pa`` everywhere
    (round-off would otherwise be coloured as if it were a field).  Whether it was drawn as a field."""
    from matplotlib.colors import ListedColormap

    if colour_range[1] < floor_Pa:
        ax.tripcolor(tri, np.zeros(len(values)), cmap=ListedColormap([grey]), shading="gouraud", rasterized=True)
        return False
    drawn = ax.tripcolor(tri, values / 1e6, cmap=cmap, shading="gouraud", vmin=colour_range[0] / 1e6,
                         vmax=colour_range[1] / 1e6, rasterized=True)
    fig.colorbar(drawn, ax=ax, orientation="horizontal", fraction=0.045, pad=0.02, aspect=35, label=f"{name} (MPa)")
    return True


def _stopped_note(summary: dict) -> str:
    """Why and where a run that left the model stopped (its fields are those there)."""
    why = summary.get("stopped_early") or "outside the model"
    where = (f"stopped at {summary['reached_plated_thickness_m'] * 1e9:.3g} of {summary['plated_thickness_m'] * 1e9:.3g}"
             " nm plated: " if "reached_plated_thickness_m" in summary else "")
    return textwrap.fill(where + why, width=52)


def fracture_maps(map_table: pd.DataFrame, png_path: str | Path) -> None:
    """Per case: log10(sigma_1 / min(sigma_c(a), sigma_th)) over (i, a), crack boundaries, sweep points.

    ``map_table`` is :func:`fracture_assessment`'s map (its ``computed`` rows are the FE points).
    """
    cases = [c for c in CASE_ORDER if c in set(map_table["constraint"])]
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 4.3), squeeze=False, sharey=True,
                             layout="constrained")
    mesh = None
    for ax, case in zip(axes[0], cases):
        sub = map_table[map_table["constraint"] == case].copy()
        sub["ratio"] = np.log10(np.clip(sub["max_principal_stress_Pa"] / sub["critical_stress_Pa"], 1e-4, None))
        sub["k_ratio"] = np.log10(np.clip(sub["stress_intensity_Pa_sqrt_m"] / sub["fracture_toughness_Pa_sqrt_m"],
                                          1e-4, None))
        ratio = sub.pivot_table(index="flaw_size_nm", columns="current_mA_cm2", values="ratio")
        k_ratio = sub.pivot_table(index="flaw_size_nm", columns="current_mA_cm2", values="k_ratio")
        currents, flaws = ratio.columns.to_numpy(), ratio.index.to_numpy()
        mesh = ax.pcolormesh(currents, flaws, ratio.to_numpy(), cmap="RdBu_r", vmin=-2, vmax=2, shading="nearest",
                             rasterized=True)
        if len(currents) > 1 and len(flaws) > 1:
            for values, width, style in ((ratio, 1.8, "-"), (k_ratio, 1.2, "--")):
                if values.to_numpy().min() < 0.0 < values.to_numpy().max():
                    ax.contour(currents, flaws, values.to_numpy(), levels=[0.0], colors="black", linewidths=width,
                               linestyles=style)
        points = sub[sub["computed"].astype(bool)]
        outside = points["outside_model"].astype(bool) if "outside_model" in points else np.zeros(len(points), bool)
        if outside.any():
            ax.scatter(points["current_mA_cm2"][outside], points["flaw_size_nm"][outside], marker="s", s=34,
                       facecolors="#c8c8c8", edgecolors="#555555", zorder=5, clip_on=False,
                       label="stopped outside the model (FE point)")
        points = points[~outside]
        crack = points["crack"].astype(bool)
        ax.scatter(points["current_mA_cm2"][crack], points["flaw_size_nm"][crack], marker="x", s=50, color="black",
                   zorder=5, clip_on=False, label="crack (FE point)")
        ax.scatter(points["current_mA_cm2"][~crack], points["flaw_size_nm"][~crack], marker="o", s=40,
                   facecolors="none", edgecolors="black", zorder=5, clip_on=False, label="no crack (FE point)")
        ax.plot([], [], color="black", lw=1.8, label="σ₁ = min(σ_c(a), σ_th)")
        ax.plot([], [], color="black", lw=1.2, ls="--", label="K_I = K_IC")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(CASE_LABELS.get(case, case), fontsize=9)
        ax.set_xlabel("current density (mA/cm²)")
        ax.grid(False)
    axes[0, 0].set_ylabel("flaw size a (nm)")
    legend = {}  # below the panels, so no marker is hidden; every panel's entries, once
    for ax in axes[0]:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(list(legend.values()), list(legend), loc="outside lower center", ncol=len(legend), fontsize=7.5,
               frameon=False)
    bar = fig.colorbar(mesh, ax=axes[0].tolist(), shrink=0.9, pad=0.02)
    bar.set_label("log10(σ₁ / min(σ_c(a), 16.1 GPa))  red: crack")
    fig.suptitle("Fracture maps: solid line σ₁ = min(σ_c(a), σ_th) (study criterion); dashed K_I = K_IC with "
                 "K_I = √(πρ) σ₁ / 2 (Creager–Paris; drawn where crossed)", fontsize=8.5)
    save(fig, png_path)


# --------------------------------------------------------------------------------------
# Command line (the workflow's post-processing rules)
# --------------------------------------------------------------------------------------


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV, atomically, floats to 9 significant digits."""
    write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.8e"))
