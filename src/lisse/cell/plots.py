"""Figures of Study A (Adv. Mater. 2021, 2104009): one style, units on every axis, PNG + PDF.

Every function takes tables (pandas) or files the workflow wrote and saves a figure; none
solves anything.  Interface tables use the solvers' columns (``s_m``, ``segment``,
``current_density_A_m2``, ``von_mises_Pa``, ...).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lisse.core.figures import plt, save
from lisse.core.units import MA_CM2

SEGMENT_COLOURS = {
    "interface_channel_floor": "#d8e6f3",
    "interface_lower_corner": "#f6d6d6",
    "interface_side_wall": "#e6f0dc",
    "interface_upper_corner": "#f6d6d6",
    "interface_land_top": "#f1ecdf",
}
SEGMENT_SHORT = {
    "interface_channel_floor": "floor",
    "interface_lower_corner": "",
    "interface_side_wall": "wall",
    "interface_upper_corner": "",
    "interface_land_top": "land",
}
OUTCOME_MARKERS = {"short": dict(marker="x", s=60, linewidths=2.0), "stable": dict(marker="o", s=50, facecolors="none",
                                                                                    linewidths=1.6)}


def geometry_colours(labels: list[str]) -> dict[str, str]:
    """Planar in black, grids along a perceptual colour map from narrow to wide channels."""
    grids = [label for label in labels if label != "planar"]
    cmap = plt.get_cmap("viridis")
    colours = {label: cmap(0.9 * k / max(len(grids) - 1, 1)) for k, label in enumerate(grids)}
    colours["planar"] = "black"
    return colours


def shade_segments(ax: plt.Axes, table: pd.DataFrame, scale: float = 1e6) -> None:
    """Background bands marking the named interface segments along s (µm)."""
    s, segment = table["s_m"].to_numpy() * scale, table["segment"].to_numpy()
    change = np.flatnonzero(segment[1:] != segment[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(s)]])
    for a, b in zip(starts, ends):
        name = segment[a]
        left = s[a] if a == 0 else 0.5 * (s[a - 1] + s[a])
        right = s[b - 1] if b == len(s) else 0.5 * (s[b - 1] + s[b])
        ax.axvspan(left, right, color=SEGMENT_COLOURS.get(name, "#eeeeee"), lw=0, zorder=0)
        if SEGMENT_SHORT.get(name) and right - left > 0.08 * (s[-1] - s[0]):
            ax.text(0.5 * (left + right), 1.0, SEGMENT_SHORT[name], transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=7, color="#555555")


def latest(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a mechanics table at its last time (t_eval)."""
    return table[table["time_s"] == table["time_s"].max()] if "time_s" in table else table


def interface_profiles(ec: dict[str, pd.DataFrame], me: dict[str, pd.DataFrame], current_mA_cm2: float,
                       pressure_MPa: float, png_path: str | Path) -> None:
    """Local current density (normalised) and equivalent stress along the interface, one column per geometry."""
    labels = list(ec)
    fig, axes = plt.subplots(2, len(labels), figsize=(3.0 * len(labels), 5.2), sharey="row", squeeze=False)
    for column, label in enumerate(labels):
        top, bottom = axes[0, column], axes[1, column]
        ec_table, me_table = ec[label], latest(me[label])
        top.plot(ec_table["s_m"] * 1e6, ec_table["current_density_normalised"], color="#1f5fa8")
        bottom.plot(me_table["s_m"] * 1e6, me_table["von_mises_Pa"] / 1e6, color="#b2412b")
        for ax, table in ((top, ec_table), (bottom, me_table)):
            shade_segments(ax, table)
            ax.set_xlim(0, table["s_m"].max() * 1e6)
        top.set_title(label, pad=12)
        bottom.set_xlabel("interface coordinate s (µm)")
    axes[0, 0].set_ylabel(f"i_loc / i_app (–)\nat {current_mA_cm2:g} mA/cm²")
    axes[1, 0].set_ylabel(f"σ_e (MPa)\nat P = {pressure_MPa:g} MPa")
    fig.suptitle("Interface profiles from the mirror plane (mid-channel) to mid-land", y=1.02)
    fig.tight_layout()
    save(fig, png_path)


def strain_rate_profiles(profiles: dict[str, pd.DataFrame], current_mA_cm2: float, pressure_MPa: float,
                         eps_dot_0: float, png_path: str | Path) -> None:
    """eps_dot_EC (solid) against eps_dot_ME (dashed) along the interface, per geometry.

    Each table is an ``InterfaceResponse.strain_rate_profile``: ``s_m``, ``segment``, ``eps_dot_ec_1_s``, ``eps_dot_me_1_s``.
    """
    labels = list(profiles)
    fig, axes = plt.subplots(1, len(labels), figsize=(3.0 * len(labels), 3.4), sharey=True, squeeze=False)
    for ax, label in zip(axes[0], labels):
        table = profiles[label]
        s = table["s_m"] * 1e6
        shade_segments(ax, table)
        ax.semilogy(s, table["eps_dot_ec_1_s"], color="#1f5fa8", label="stripping ε̇_EC")
        ax.semilogy(s, table["eps_dot_me_1_s"], color="#b2412b", ls="--", label="creep ε̇_ME")
        stable = table["eps_dot_me_1_s"] >= table["eps_dot_ec_1_s"]
        ax.fill_between(s, table["eps_dot_ec_1_s"], table["eps_dot_me_1_s"], where=stable, color="#2e8b57", alpha=0.15,
                        lw=0, label="creep keeps up")
        ax.set_title(label, pad=12)
        ax.set_xlim(0, s.max())
        ax.set_xlabel("interface coordinate s (µm)")
    axes[0, 0].set_ylabel("strain rate (1/s)")
    axes[0, 0].legend(loc="lower left")
    fig.suptitle(f"Strain rates at {current_mA_cm2:g} mA/cm², {pressure_MPa:g} MPa "
                 f"(ε̇₀ = {eps_dot_0:.3g} 1/s)", y=1.03)
    fig.tight_layout()
    save(fig, png_path)


def field_maps(panels: list[dict], png_path: str | Path, stress_scale: float = 1.0) -> None:
    """Li flux arrows in the SSE and equivalent stress in the Li, one column per geometry (pyvista, off-screen).

    Each panel: ``label``, ``electrochemistry`` (VTU with ``current_density``), ``mechanics``
    (VTU with ``von_mises``), ``window_um`` (x0, x1, y0, y1).  ``stress_scale`` multiplies the
    stresses (a steady solve at another pressure).
    """
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    pv.OFF_SCREEN = True
    stress_max = 0.0
    grids = []
    for panel in panels:
        ec, me = pv.read(panel["electrochemistry"]), pv.read(panel["mechanics"])
        ec.points *= 1e6
        me.points *= 1e6
        me.point_data["von Mises (MPa)"] = stress_scale * me.point_data["von_mises"] / 1e6
        stress_max = max(stress_max, float(np.percentile(me.point_data["von Mises (MPa)"], 99.5)))
        grids.append((panel, ec, me))
    plotter = pv.Plotter(shape=(1, len(panels)), off_screen=True, window_size=(700 * len(panels), 760), border=False)
    for column, (panel, ec, me) in enumerate(grids):
        plotter.subplot(0, column)
        x0, x1, y0, y1 = panel["window_um"]
        box = (x0, x1, y0, y1, -1.0, 1.0)
        me_view, ec_view = me.clip_box(box, invert=False), ec.clip_box(box, invert=False)
        plotter.add_mesh(me_view, scalars="von Mises (MPa)", cmap="magma", clim=(0.0, stress_max), lighting=False,
                         scalar_bar_args=dict(title="von Mises stress in Li (MPa)", color="black", vertical=False,
                                              position_x=0.2, position_y=0.02, width=0.6, height=0.06))
        plotter.add_mesh(ec_view, color="#dfe7f1", lighting=False)
        flux = ec_view.extract_points(np.linspace(0, ec_view.n_points - 1, min(ec_view.n_points, 500)).astype(int))
        magnitude = np.linalg.norm(flux.point_data["current_density"], axis=1)
        scale = 0.06 * (x1 - x0) / max(magnitude.max(), 1e-30)
        arrows = flux.glyph(orient="current_density", scale=False, factor=1.0)
        arrows = flux.glyph(orient="current_density", scale="current_density", factor=scale) if magnitude.max() > 0 else arrows
        plotter.add_mesh(arrows, color="#1f5fa8", lighting=False)
        plotter.add_text(f"{panel['label']}: Li-ion flux (arrows) in LLZO, von Mises stress in Li", font_size=10, color="black",
                         position="upper_left")
        plotter.view_xy()
        plotter.enable_parallel_projection()
        plotter.reset_camera()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    plotter.screenshot(str(png_path))
    plotter.close()
    # the PDF twin, for the paper: the same raster in a page
    image = plt.imread(png_path)
    fig = plt.figure(figsize=(image.shape[1] / 200, image.shape[0] / 200))
    fig.figimage(image)
    fig.savefig(png_path.with_suffix(".pdf"), dpi=200)
    plt.close(fig)


def _pin_experiments(ax: plt.Axes, experiments: pd.DataFrame, colour="black", label_prefix="") -> None:
    for outcome, style in OUTCOME_MARKERS.items():
        points = experiments[experiments["outcome"] == outcome]
        if len(points):
            colours = {"edgecolors": colour} if outcome == "stable" else {"color": colour}
            ax.scatter(points["current_mA_cm2"], points["pressure_MPa"], zorder=5, clip_on=False,
                       label=f"{label_prefix}{outcome} (exp.)", **style, **colours)


def _log_axes(ax: plt.Axes, currents, pressures) -> None:
    """Log axes on the diagram's ranges, with plain-number tick labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_xscale("log")
    ax.set_yscale("log")
    if currents is not None:
        ax.set_xlim(currents.min(), currents.max())
    ax.set_ylim(pressures.min(), pressures.max())
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for axis, subs in ((ax.xaxis, (1.0,)), (ax.yaxis, (1.0, 2.0, 5.0))):
        axis.set_major_locator(LogLocator(base=10, subs=subs))
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(FuncFormatter(lambda *_: ""))


def phase_diagrams(diagrams: dict[str, pd.DataFrame], ccds: dict[str, pd.DataFrame], experiments: pd.DataFrame,
                   critical_fraction: float, eps_dot_0: float, png_path: str | Path) -> None:
    """Per geometry: the mean log-ratio log10(ε̇_ME/ε̇_EC) over (i_app, P), the stability boundary, experiments."""
    labels = list(diagrams)
    columns = min(3, len(labels))
    rows = -(-len(labels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.7 * columns, 3.3 * rows), squeeze=False, sharex=True, sharey=True)
    limit = max(float(np.nanpercentile(np.abs(d["mean_log10_rate_ratio"]), 95)) for d in diagrams.values())
    for ax, label in zip(axes.ravel(), labels):
        d = diagrams[label]
        currents, pressures = np.unique(d["current_mA_cm2"]), np.unique(d["pressure_MPa"])
        ratio = d["mean_log10_rate_ratio"].to_numpy().reshape(len(currents), len(pressures)).T
        mesh = ax.pcolormesh(currents, pressures, ratio, cmap="RdBu", vmin=-limit, vmax=limit, shading="nearest",
                             rasterized=True)
        # outside the solved currents/pressures the fields are held, not interpolated: veil it
        extrapolated = d["extrapolated"].to_numpy().reshape(len(currents), len(pressures)).T
        ax.pcolormesh(currents, pressures, np.where(extrapolated, 1.0, np.nan), cmap="Greys", vmin=0, vmax=1.6,
                      alpha=0.35, shading="nearest", rasterized=True)
        boundary = ccds[label][ccds[label]["status"] == "converged"]  # the bisected boundary, not a staircase
        ax.plot(boundary["ccd_mA_cm2"], boundary["pressure_MPa"], color="black", lw=1.8)
        _pin_experiments(ax, experiments[experiments["geometry"] == label])
        _log_axes(ax, currents, pressures)
        ax.set_title(f"{label}" + ("" if len(boundary) else " (no boundary in range)"))
        ax.grid(False)
    for ax in axes.ravel()[len(labels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("applied current density (mA/cm²)")
    for ax in axes[:, 0]:
        ax.set_ylabel("stack pressure (MPa)")
    bar = fig.colorbar(mesh, ax=axes, shrink=0.85, pad=0.02)
    bar.set_label("mean log10(ε̇_ME / ε̇_EC) (–)  blue: creep keeps up")
    fig.suptitle(f"Stability phase diagrams: black line = boundary (stable fraction {critical_fraction:g}), "
                 f"stable to its left; grey veil: outside the solved range; ε̇₀ = {eps_dot_0:.3g} 1/s; "
                 "x short, o stable (exp.)", fontsize=9)
    save(fig, png_path)


def phase_boundaries(ccds: dict[str, pd.DataFrame], experiments: pd.DataFrame, png_path: str | Path) -> None:
    """Overlay of every geometry's boundary CCD(P) with the experiments pinned."""
    colours = geometry_colours(list(ccds))
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    for label, ccd in ccds.items():
        converged = ccd[ccd["status"] == "converged"]
        ax.plot(converged["ccd_mA_cm2"], converged["pressure_MPa"], color=colours[label],
                label=label if len(converged) else f"{label} (no boundary in range)")
    for label in ccds:
        _pin_experiments(ax, experiments[experiments["geometry"] == label], colour=colours[label])
    first = next(iter(ccds.values()))
    _log_axes(ax, None, first["pressure_MPa"].to_numpy())
    ax.set_xlabel("applied current density (mA/cm²)")
    ax.set_ylabel("stack pressure (MPa)")
    ax.set_title("Stability boundaries (stable to the left of each line)")
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper left", fontsize=7, ncol=2)
    save(fig, png_path)


def ccd_vs_channel_width(model: pd.DataFrame, experiments: pd.DataFrame, pressure_MPa: float,
                         png_path: str | Path) -> None:
    """Predicted CCD at one pressure vs channel width, planar as reference, with measured CCDs.

    ``model`` has columns geometry, channel_width_um, ccd_mA_cm2.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    grids = model[model["channel_width_um"] > 0].sort_values("channel_width_um")
    planar = model[model["channel_width_um"] == 0]
    ax.plot(grids["channel_width_um"], grids["ccd_mA_cm2"], "o-", color="#1f5fa8", label="model, grids")
    if len(planar):
        ax.axhline(planar["ccd_mA_cm2"].iloc[0], color="black", ls="--", lw=1.2, label="model, planar")
    measured = experiments[(experiments["test"] == "ccd") & np.isclose(experiments["pressure_MPa"], pressure_MPa)]
    grid_points = measured[measured["channel_width_um"] > 0]
    ax.scatter(grid_points["channel_width_um"], grid_points["current_mA_cm2"], marker="*", s=140, color="#c0392b",
               zorder=5, label="measured CCD, grid")
    for value in measured[measured["channel_width_um"] == 0]["current_mA_cm2"]:
        ax.axhline(value, color="#c0392b", ls=":", lw=1.4, label="measured CCD, planar")
    ax.set_xscale("log")
    ax.set_xlabel("channel width w = land width (µm)")
    ax.set_ylabel(f"critical current density at {pressure_MPa:g} MPa (mA/cm²)")
    ax.set_title("Predicted CCD vs channel width")
    ax.legend(fontsize=7)
    save(fig, png_path)


def validation_table_figure(table: pd.DataFrame, png_path: str | Path) -> None:
    """The validation table as a figure: agree in green, disagree in red, calibration in grey."""
    shown = table[["geometry", "current_mA_cm2", "pressure_MPa", "temperature_C", "test", "outcome", "model",
                   "stable_fraction", "role", "agree"]].copy()
    shown["stable_fraction"] = shown["stable_fraction"].map(lambda v: f"{v:.2f}")
    shown["agree"] = [("—" if role == "calibration" else ("yes" if agree else "no"))
                      for role, agree in zip(shown["role"], shown["agree"])]
    header = ["geometry", "i (mA/cm²)", "P (MPa)", "T (°C)", "test", "measured", "model", "stable fraction",
              "role", "agree"]
    fig, ax = plt.subplots(figsize=(10, 0.45 * (len(shown) + 2)))
    ax.axis("off")
    cells = shown.astype(str).to_numpy()
    colours = [["#ffffff"] * len(header) for _ in cells]
    for k, (role, agree) in enumerate(zip(shown["role"], shown["agree"])):
        colours[k][-1] = "#dddddd" if role == "calibration" else ("#cfe8cf" if agree == "yes" else "#f4c7c3")
    grid = ax.table(cellText=cells, colLabels=header, cellColours=colours, loc="center", cellLoc="center")
    grid.auto_set_font_size(False)
    grid.set_fontsize(8)
    grid.scale(1, 1.3)
    scored = table[table["role"] == "validation"]
    ax.set_title(f"Validation: {int(scored['agree'].sum())} of {len(scored)} experiments agree", fontsize=10)
    save(fig, png_path)


SEGMENT_ORDER = ["interface_channel_floor", "interface_lower_corner", "interface_side_wall", "interface_upper_corner",
                 "interface_land_top"]


def _segment_columns(means: dict[str, float], scale: float, suffix: str) -> dict[str, float]:
    """Segment means over a scale, as columns ``mean_<floor|lower_corner|wall|...>_<suffix>``."""
    return {f"mean_{SEGMENT_SHORT[s] or s.split('_')[1] + '_corner'}_{suffix}": means[s] / scale
            for s in SEGMENT_ORDER if s in means}


def _table(summaries: dict[str, list[dict]], cells: dict[str, dict], row_of) -> list[dict]:
    """One row per summary, geometry by geometry: the geometry's columns (``cells[label]``), then
    ``row_of(summary)``'s."""
    return [{**cells[label], **row_of(summary)} for label, runs in summaries.items() for summary in runs]


def _electrochemistry_row(summary: dict) -> dict:
    i_app = summary["applied_current_density_A_m2"]
    return {
        "current_mA_cm2": i_app / MA_CM2,
        "cell_voltage_mV": summary["cell_voltage_V"] * 1e3,
        "interface_per_nominal": summary.get("interface_area_per_nominal_area",
                                             summary.get("interface_length_per_nominal_width")),
        "max_current_normalised": summary["max_current_density_normalised"],
        "dofs": summary["dofs"],
        **_segment_columns(summary["segment_mean_current_density_A_m2"], i_app, "normalised"),
    }


def _mechanics_row(summary: dict) -> dict:
    P = summary["stack_pressure_Pa"]
    return {
        "stack_pressure_MPa": P / 1e6,
        "method": summary.get("method", "transient"),
        "t_eval_s": summary.get("t_eval_s", math.inf),  # steady: the limit t -> infinity
        "interface_mean_von_mises_over_P": summary["interface_mean_von_mises_Pa"] / P,
        "max_von_mises_over_P": summary["max_von_mises_Pa"] / P,
        **_segment_columns(summary["segment_mean_von_mises_Pa"], P, "von_mises_over_P"),
        "dofs": summary["dofs"],
        "time_steps": summary.get("time_steps", 0),
        "newton_iterations": summary["newton_iterations"],
        "wall_time_s": summary["wall_time_s"],
        "n_ranks": summary.get("n_ranks", 1),
    }


def unit_cell_3d_table(summaries: dict[str, list[dict]], cells: dict[str, dict]) -> pd.DataFrame:
    """One row per electrochemistry solve of the 3D unit cells and their 2D cross-sections (lab units).

    ``summaries``: geometry label -> its solves' summaries; ``cells``: geometry label -> its table
    columns (geometry, channel width, dimension).
    """
    return pd.DataFrame(_table(summaries, cells, _electrochemistry_row))


def unit_cell_3d_mechanics_table(summaries: dict[str, list[dict]], cells: dict[str, dict]) -> pd.DataFrame:
    """One row per mechanics solve of the 3D unit cells and their 2D cross-sections: segment-mean
    von Mises stress at t_eval over the stack pressure, and the cost of the creep transient."""
    rows = _table(summaries, cells, _mechanics_row)
    return pd.DataFrame(rows, columns=None if rows else ["geometry", "channel_width_um", "dimension",
                                                         "stack_pressure_MPa"])


def _segment_bars(ax, rows: pd.DataFrame, prefix: str, suffix: str, colour_of, label_of) -> list[str]:
    """Grouped bars of the per-segment columns ``prefix<segment>suffix``, one bar per row (2D hatched)."""
    columns = [c for c in rows.columns if c.startswith(prefix) and c.endswith(suffix)]
    names = [c[len(prefix):-len(suffix)].replace("_", " ") for c in columns]
    width_bar = 0.8 / max(len(rows), 1)
    for k, (_, row) in enumerate(rows.iterrows()):
        ax.bar(np.arange(len(columns)) + (k - (len(rows) - 1) / 2) * width_bar, row[columns].to_numpy(float),
               width_bar, color=colour_of(row), alpha=1.0 if row["dimension"] == 3 else 0.45,
               hatch=None if row["dimension"] == 3 else "//", edgecolor="black", linewidth=0.5, label=label_of(row))
    ax.set_xticks(np.arange(len(columns)), names, rotation=20)
    return names


def unit_cell_3d_comparison(table: pd.DataFrame, render_png: str | Path | None, current_mA_cm2: float,
                            png_path: str | Path, mechanics: pd.DataFrame | None = None,
                            pressure_MPa: float | None = None) -> None:
    """3D unit cell beside the 2D cross-section of the same grid: cell voltage vs current, the
    segment-mean current densities, the 3D current density on the LLZO surface and, when the 3D
    mechanics ran, the segment-mean von Mises stress at t_eval."""
    widths = sorted(table["channel_width_um"].unique())
    with_mechanics = mechanics is not None and len(mechanics) > 0
    if with_mechanics:
        fig, grid = plt.subplots(2, 2, figsize=(13, 9.5))
        axes = list(grid.ravel())
    else:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1, 1.15, 1.2]})
    colours = plt.cm.viridis(np.linspace(0.1, 0.8, len(widths)))
    for colour, width in zip(colours, widths):
        for dimension, style in ((2, "--"), (3, "-")):
            rows = table[(table["channel_width_um"] == width) & (table["dimension"] == dimension)]
            if len(rows):
                rows = rows.sort_values("current_mA_cm2")
                axes[0].plot(rows["current_mA_cm2"], rows["cell_voltage_mV"], style, color=colour, marker="o", ms=3,
                             label=f"{width:g} µm grid, {dimension}D")
    axes[0].set(xscale="log", yscale="log", xlabel="applied current density (mA/cm²)", ylabel="cell voltage (mV)",
                title="(a) symmetric-cell voltage")
    axes[0].legend()

    at = table[np.isclose(table["current_mA_cm2"], current_mA_cm2)].sort_values(["channel_width_um", "dimension"])

    def colour_of(row):
        return colours[widths.index(row["channel_width_um"])]

    _segment_bars(axes[1], at, "mean_", "_normalised", colour_of,
                  lambda row: f"{row['channel_width_um']:g} µm, {int(row['dimension'])}D "
                              f"(area ratio {row['interface_per_nominal']:.3f})")
    axes[1].axhline(1.0, color="black", lw=0.8)
    axes[1].set(ylabel="segment mean i / i_app", title=f"(b) where the current goes, {current_mA_cm2:g} mA/cm²")
    axes[1].legend(fontsize=7)

    if with_mechanics:
        pressure = pressure_MPa if pressure_MPa is not None and np.isclose(
            mechanics["stack_pressure_MPa"], pressure_MPa).any() else float(mechanics["stack_pressure_MPa"].min())
        rows = mechanics[np.isclose(mechanics["stack_pressure_MPa"], pressure)].sort_values(
            ["channel_width_um", "dimension"])
        def label_of(row):
            ccd = f", CCD {row['ccd_mA_cm2']:.3g} mA/cm²" if "ccd_mA_cm2" in row and np.isfinite(row["ccd_mA_cm2"]) else ""
            return (f"{row['channel_width_um']:g} µm, {int(row['dimension'])}D "
                    f"(interface mean {row['interface_mean_von_mises_over_P']:.2f} P{ccd})")

        _segment_bars(axes[3], rows, "mean_", "_von_mises_over_P", colour_of, label_of)
        axes[3].axhline(1.0, color="black", lw=0.8)
        hours = float(rows["t_eval_s"].iloc[0]) / 3600.0
        when = "in steady creep flow" if math.isinf(hours) else f"at {hours:g} h"
        axes[3].set(ylabel="segment mean σₑ / P", title=f"(d) Li von Mises stress {when}, P = {pressure:g} MPa")
        axes[3].legend(fontsize=7)

    axes[2].axis("off")
    axes[2].set_title(f"(c) |j| / i_app on the LLZO, 3D unit cell, {current_mA_cm2:g} mA/cm²")
    if render_png is not None and Path(render_png).exists():
        axes[2].imshow(plt.imread(render_png))
    fig.tight_layout()
    save(fig, png_path)
