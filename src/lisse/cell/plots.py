"""Figures of Study A (Adv. Mater. 2021, 2104009): one style, units on every axis, PNG + PDF.

Every function takes tables (pandas) or files the workflow wrote and saves a figure; none
solves anything.  Interface tables use the solvers' columns (``s_m``, ``segment``,
``current_density_A_m2``, ``von_mises_Pa``, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lisse.core.figures import plt, save
from lisse.core.units import MA_CM2

# Segment backgrounds are greys (no hue), so they cannot be mistaken for the data's colours: blue for the
# current and stripping, red for the stress and creep, green for "creep keeps up".
SEGMENT_COLOURS = {
    "interface_channel_floor": "#ececec",
    "interface_lower_corner": "#cfcfcf",
    "interface_side_wall": "#f9f9f9",
    "interface_upper_corner": "#cfcfcf",
    "interface_land_top": "#e4e4e4",
}
CURRENT_COLOUR, STRESS_COLOUR, KEEPS_UP_COLOUR = "#1f5fa8", "#b2412b", "#2e8b57"
STRESS_MAP = "RdBu_r"  # field maps: the Li's stress from 0 (blue) through P (white) to 2 P (red)
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
        top.plot(ec_table["s_m"] * 1e6, ec_table["current_density_normalised"], color=CURRENT_COLOUR)
        bottom.plot(me_table["s_m"] * 1e6, me_table["von_mises_Pa"] / 1e6, color=STRESS_COLOUR)
        for ax, table in ((top, ec_table), (bottom, me_table)):
            shade_segments(ax, table)
            ax.set_xlim(0, table["s_m"].max() * 1e6)
        top.axhline(1.0, color="black", ls=":", lw=1.0)
        bottom.axhline(pressure_MPa, color="black", ls=":", lw=1.0)
        top.set_title(label, pad=12)
        bottom.set_xlabel("interface coordinate s (µm)")
    axes[0, 0].set_ylabel(f"i_loc / i_app (–)\nat {current_mA_cm2:g} mA/cm² (dotted: 1)")
    axes[1, 0].set_ylabel(f"σ_e in the Li (MPa)\nat P = {pressure_MPa:g} MPa (dotted)")
    fig.suptitle("Interface profiles of the 2D cross-sections from the mirror plane (mid-channel) to mid-land; "
                 "grey bands: floor, corner, wall, corner, land", y=1.02, fontsize=9)
    fig.tight_layout()
    save(fig, png_path)


def _keeps_up(share: float, critical_fraction: float | None, of: str) -> str:
    """'creep keeps up on 12 % of its length: short', the verdict when the critical fraction is known."""
    text = f"creep keeps up on {100 * share:.0f} % of its {of}"
    if critical_fraction is None:
        return text
    return f"{text}:\n{'stable' if share >= critical_fraction else 'short'} (needs ≥ {100 * critical_fraction:.0f} %)"


def _strain_rate_legend(fig: plt.Figure, boxes: bool) -> None:
    """One legend for every panel, under them, in the data's colours (none of which is a background's):
    lines and the green fill of the 2D profiles, or the boxes and the green shares of the 3D distributions."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if boxes:
        handles = [Patch(facecolor=CURRENT_COLOUR, edgecolor=CURRENT_COLOUR, alpha=0.5, label="stripping ε̇_EC"),
                   Patch(facecolor=STRESS_COLOUR, edgecolor=STRESS_COLOUR, alpha=0.5, label="creep ε̇_ME"),
                   Line2D([], [], ls="none", marker="$\\%$", ms=9, color=KEEPS_UP_COLOUR,
                          label="above a segment: share of its area where creep keeps up (ε̇_ME ≥ ε̇_EC)")]
    else:
        handles = [Line2D([], [], color=CURRENT_COLOUR, lw=2.0, label="stripping ε̇_EC"),
                   Line2D([], [], color=STRESS_COLOUR, lw=2.0, ls="--", label="creep ε̇_ME"),
                   Patch(facecolor=KEEPS_UP_COLOUR, alpha=0.35, label="creep keeps up (ε̇_ME ≥ ε̇_EC)")]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), bbox_to_anchor=(0.5, 0.0), fontsize=8)


def strain_rate_profiles(profiles: dict[str, pd.DataFrame], current_mA_cm2: float, pressure_MPa: float,
                         eps_dot_0: float, png_path: str | Path, critical_fraction: float | None = None) -> None:
    """eps_dot_EC (solid) against eps_dot_ME (dashed) along the interface, per geometry, green where creep
    keeps up; each title gives the stable length fraction and, with ``critical_fraction``, the verdict.

    Each table is an ``InterfaceResponse.strain_rate_profile``: ``s_m``, ``segment``, ``eps_dot_ec_1_s``, ``eps_dot_me_1_s``.
    The axis spans the stripping rates with four decades below; a creep rate under it (Li at rest) leaves the plot.
    """
    from lisse.cell.stability.criterion import stability_metrics

    labels = list(profiles)
    fig, axes = plt.subplots(1, len(labels), figsize=(3.0 * len(labels), 3.9), sharey=True, squeeze=False)
    ec_all = np.concatenate([profiles[label]["eps_dot_ec_1_s"].to_numpy(float) for label in labels])
    me_all = np.concatenate([profiles[label]["eps_dot_me_1_s"].to_numpy(float) for label in labels])
    rates = np.concatenate([ec_all, me_all])
    rates = rates[np.isfinite(rates) & (rates > 0)]
    floor = 10.0 ** (np.floor(np.log10(ec_all[ec_all > 0].min())) - 4)
    bottom, top = max(rates.min() / 2, floor), 10.0 ** np.ceil(np.log10(rates.max()) + 0.2)
    for ax, label in zip(axes[0], labels):
        table = profiles[label]
        s = table["s_m"].to_numpy() * 1e6
        ec, me = table["eps_dot_ec_1_s"].to_numpy(float), table["eps_dot_me_1_s"].to_numpy(float)
        shade_segments(ax, table)
        ax.semilogy(s, ec, color=CURRENT_COLOUR)
        ax.semilogy(s, np.maximum(me, bottom / 10), color=STRESS_COLOUR, ls="--")
        ax.fill_between(s, ec, np.maximum(me, bottom / 10), where=me >= ec, color=KEEPS_UP_COLOUR, alpha=0.35, lw=0)
        share = stability_metrics(table["s_m"].to_numpy(), ec, me).stable_fraction
        ax.set_title(f"{label}\n{_keeps_up(share, critical_fraction, 'length')}", pad=12, fontsize=8.5)
        ax.set_xlim(0, s.max())
        ax.set_ylim(bottom, top)
        ax.set_xlabel("interface coordinate s (µm)")
    axes[0, 0].set_ylabel("strain rate (1/s)")
    fig.suptitle(f"Strain rates along the interface at {current_mA_cm2:g} mA/cm², {pressure_MPa:g} MPa "
                 f"(ε̇₀ = {eps_dot_0:.3g} 1/s); grey bands: floor, corner, wall, corner, land", y=1.0, fontsize=9.5)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _strain_rate_legend(fig, boxes=False)
    save(fig, png_path)


SEGMENT_ORDER = ["interface_channel_floor", "interface_lower_corner", "interface_side_wall", "interface_upper_corner",
                 "interface_land_top"]
SEGMENT_TITLES = {"interface_channel_floor": "channel\nfloor", "interface_lower_corner": "lower\ncorner",
                  "interface_side_wall": "side\nwall", "interface_upper_corner": "upper\ncorner",
                  "interface_land_top": "land\ntop"}
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles=QUANTILES) -> np.ndarray:
    """Quantiles of ``values`` with each point counted by its weight (its interface area)."""
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cumulative = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(quantiles, cumulative, v)


def _segment_boxes(ax: plt.Axes, table: pd.DataFrame, column: str, segments: list[str], offset: float, colour,
                   scale: float = 1.0, width: float = 0.32) -> None:
    """Per segment, the area-weighted distribution of ``column``: 5-95 % whisker, 25-75 % box, median bar."""
    from matplotlib.patches import Rectangle

    for k, segment in enumerate(segments):
        rows = table[table["segment"] == segment]
        q5, q25, q50, q75, q95 = weighted_quantiles(rows[column].to_numpy() * scale, rows["area_m2"].to_numpy())
        x = k + offset
        ax.vlines(x, q5, q95, color=colour, lw=1.0)
        ax.add_patch(Rectangle((x - width / 2, q25), width, max(q75 - q25, 1e-300), facecolor=colour, alpha=0.35,
                               edgecolor=colour, lw=1.0))
        ax.hlines(q50, x - width / 2, x + width / 2, color=colour, lw=2.0)


def _segment_axis(ax: plt.Axes, segments: list[str]) -> None:
    ax.set_xticks(range(len(segments)), [SEGMENT_TITLES.get(s, s) for s in segments], fontsize=7)
    ax.set_xlim(-0.6, len(segments) - 0.4)
    for k, segment in enumerate(segments):
        ax.axvspan(k - 0.5, k + 0.5, color=SEGMENT_COLOURS.get(segment, "#eeeeee"), alpha=0.5, lw=0, zorder=0)


def _segments_of(table: pd.DataFrame) -> list[str]:
    present = set(table["segment"])
    return [s for s in SEGMENT_ORDER if s in present] + sorted(present - set(SEGMENT_ORDER))


def interface_distributions(profiles: dict[str, pd.DataFrame], current_mA_cm2: float, pressure_MPa: float,
                            png_path: str | Path) -> None:
    """3D cells: per interface segment, the area-weighted distribution of the local current density and
    of the equivalent stress (tables of ``InterfaceResponse.strain_rate_profile`` with ``area_m2``)."""
    labels = list(profiles)
    fig, axes = plt.subplots(2, len(labels), figsize=(2.9 * len(labels), 5.6), sharey="row", squeeze=False)
    i_app = current_mA_cm2 * MA_CM2
    for column, label in enumerate(labels):
        table, segments = profiles[label], _segments_of(profiles[label])
        top, bottom = axes[0, column], axes[1, column]
        _segment_boxes(top, table, "current_density_A_m2", segments, 0.0, CURRENT_COLOUR, scale=1.0 / i_app)
        _segment_boxes(bottom, table, "von_mises_Pa", segments, 0.0, STRESS_COLOUR, scale=1e-6)
        for ax in (top, bottom):
            _segment_axis(ax, segments)
        bottom.axhline(pressure_MPa, color="black", ls=":", lw=1.0)
        top.axhline(1.0, color="black", ls=":", lw=1.0)
        top.set_title(label)
    axes[0, 0].set_ylabel(f"i_loc / i_app (–)\nat {current_mA_cm2:g} mA/cm²")
    axes[1, 0].set_ylabel(f"σ_e in the Li (MPa)\nat P = {pressure_MPa:g} MPa (dotted)")
    fig.suptitle("Interface fields of the 3D cells per segment: median (bar), 25–75 % of the area (box), 5–95 % "
                 "(whisker)", y=1.0, fontsize=9)
    fig.tight_layout()
    save(fig, png_path)


def strain_rate_distributions(profiles: dict[str, pd.DataFrame], current_mA_cm2: float, pressure_MPa: float,
                              eps_dot_0: float, png_path: str | Path, critical_fraction: float | None = None) -> None:
    """3D cells: per segment, the area-weighted distributions of eps_dot_EC (blue) and eps_dot_ME (red), and
    the share of the segment's area where creep keeps up (green, above it); each title gives the share of
    the whole interface and, with ``critical_fraction``, the verdict."""
    from lisse.cell.stability.criterion import area_stability_metrics

    labels = list(profiles)
    fig, axes = plt.subplots(1, len(labels), figsize=(2.9 * len(labels), 4.3), sharey=True, squeeze=False)
    for ax, label in zip(axes[0], labels):
        table, segments = profiles[label], _segments_of(profiles[label])
        _segment_boxes(ax, table, "eps_dot_ec_1_s", segments, -0.19, CURRENT_COLOUR, width=0.3)
        _segment_boxes(ax, table, "eps_dot_me_1_s", segments, +0.19, STRESS_COLOUR, width=0.3)
        ax.set_yscale("log")
        _segment_axis(ax, segments)
        for k, segment in enumerate(segments):
            rows = table[table["segment"] == segment]
            stable = float(rows.loc[rows["eps_dot_me_1_s"] >= rows["eps_dot_ec_1_s"], "area_m2"].sum()
                           / rows["area_m2"].sum())
            ax.text(k, 1.0, f"{100 * stable:.0f} %", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=7, color=KEEPS_UP_COLOUR, fontweight="bold")
        share = area_stability_metrics(table["area_m2"].to_numpy(), table["eps_dot_ec_1_s"].to_numpy(),
                                       table["eps_dot_me_1_s"].to_numpy()).stable_fraction
        ax.set_title(f"{label}\n{_keeps_up(share, critical_fraction, 'area')}", pad=14, fontsize=8.5)
    axes[0, 0].set_ylabel("strain rate (1/s)")
    fig.suptitle(f"Strain rates per interface segment of the 3D cells at {current_mA_cm2:g} mA/cm², {pressure_MPa:g} MPa "
                 f"(ε̇₀ = {eps_dot_0:.3g} 1/s): median (bar), 25–75 % of the area (box), 5–95 % (whisker)",
                 y=1.0, fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _strain_rate_legend(fig, boxes=True)
    save(fig, png_path)


def _save_render(plotter, png_path: str | Path) -> None:
    """A pyvista render as PNG, and its PDF twin for the paper (the same raster in a page)."""
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    plotter.screenshot(str(png_path))
    plotter.close()
    image = plt.imread(png_path)
    fig = plt.figure(figsize=(image.shape[1] / 200, image.shape[0] / 200))
    fig.figimage(image)
    fig.savefig(png_path.with_suffix(".pdf"), dpi=200)
    plt.close(fig)


def _linear_triangles(grid) -> tuple[np.ndarray, np.ndarray]:
    """Points (µm, x and y) and linear triangles of a 2D VTU: each quadratic (Lagrange) triangle split in four."""
    import pyvista as pv

    cells = grid.cells_dict
    if pv.CellType.LAGRANGE_TRIANGLE in cells or pv.CellType.QUADRATIC_TRIANGLE in cells:
        six = cells.get(pv.CellType.LAGRANGE_TRIANGLE, cells.get(pv.CellType.QUADRATIC_TRIANGLE))
        triangles = np.concatenate([six[:, [0, 3, 5]], six[:, [3, 1, 4]], six[:, [5, 4, 2]], six[:, [3, 4, 5]]])
    else:
        triangles = cells[pv.CellType.TRIANGLE]
    return np.asarray(grid.points)[:, :2] * 1e6, triangles


def _operating_point(current_mA_cm2: float, pressure_MPa: float, temperature_C: float | None) -> str:
    return (f"i_app = {current_mA_cm2:g} mA/cm², P = {pressure_MPa:g} MPa"
            + ("" if temperature_C is None else f", T = {temperature_C:g} °C"))


def _uniform(values: np.ndarray, tolerance: float = 0.02) -> bool:
    """Whether a field is uniform to ``tolerance`` of its mean (the planar cell's)."""
    values = np.asarray(values, float)
    return bool(np.ptp(values) <= tolerance * max(abs(values.mean()), 1e-300))


def field_maps(panels: list[dict], png_path: str | Path, current_mA_cm2: float, pressure_MPa: float,
               stress_scale: float = 1.0, temperature_C: float | None = None) -> None:
    """2D cross-sections, one panel per geometry at one scale (µm axes): the von Mises stress in the Li
    (magma) and the Li-ion current density in the LLZO normalised by the applied one (blues, with arrows
    for its direction), the interface in black, from the top of the Li down past the channel floor.

    Each panel: ``label``, ``electrochemistry`` (VTU with ``current_density``), ``mechanics`` (VTU with
    ``von_mises``), ``depth_um``, ``channel_width_um`` (0 for planar).  ``stress_scale`` multiplies the
    stresses (a steady solve at another pressure).  A uniform field (the planar cell's) is stated in
    numbers on its panel.
    """
    import matplotlib.tri as mtri
    import pyvista as pv

    i_app = current_mA_cm2 * MA_CM2
    reach = max(max(panel["depth_um"] for panel in panels), 100.0)  # how far below the land top the maps go
    band = 0.35 * reach
    shown = []
    for panel in panels:
        ec, me = pv.read(panel["electrochemistry"]), pv.read(panel["mechanics"])
        xy_ec, tri_ec = _linear_triangles(ec)
        xy_me, tri_me = _linear_triangles(me)
        flux = np.asarray(ec.point_data["current_density"])[:, :2] / i_app
        stress = stress_scale * np.asarray(me.point_data["von_mises"]) / 1e6
        width = float(max(xy_ec[:, 0].max(), xy_me[:, 0].max()))
        bottom = -(panel["depth_um"] + band) if panel["channel_width_um"] > 0 else -band
        shown.append(dict(panel=panel, ec=mtri.Triangulation(*xy_ec.T, tri_ec), me=mtri.Triangulation(*xy_me.T, tri_me),
                          flux=flux, stress=stress, window=(0.0, width, bottom, band)))
    stress_max = 2.0 * pressure_MPa  # the diverging stress map is white at P, the planar cell's (plane strain: 0.87 P)
    flux_max = max(float(np.percentile(np.linalg.norm(p["flux"], axis=1), 99.0)) for p in shown)
    # one scale for every panel: inches per µm, panels side by side aligned on the land top (y = 0)
    inch = 4.6 / max(p["window"][3] - p["window"][2] for p in shown)
    left, gap, top_pad, bottom_pad = 0.8, 0.7, 0.75, 0.75
    widths = [inch * (p["window"][1] - p["window"][0]) for p in shown]
    fig_w = left + sum(widths) + gap * (len(shown) - 1) + 1.9
    fig_h = top_pad + inch * max(p["window"][3] - p["window"][2] for p in shown) + bottom_pad
    fig = plt.figure(figsize=(fig_w, fig_h))
    x = left
    stress_map = flux_map = None
    for p, w in zip(shown, widths):
        x0, x1, y0, y1 = p["window"]
        h = inch * (y1 - y0)
        ax = fig.add_axes((x / fig_w, (fig_h - top_pad - inch * (y1 - shown[0]["window"][3]) - h) / fig_h, w / fig_w, h / fig_h))
        x += w + gap
        magnitude = np.linalg.norm(p["flux"], axis=1)
        flux_map = ax.tripcolor(p["ec"], magnitude, shading="gouraud", cmap="viridis", vmin=0.0, vmax=flux_max,
                                rasterized=True)
        stress_map = ax.tripcolor(p["me"], p["stress"], shading="gouraud", cmap=STRESS_MAP, vmin=0.0, vmax=stress_max,
                                  rasterized=True)
        # arrows on a regular grid in the LLZO, length proportional to |i| / i_app
        nx = max(int(round((x1 - x0) / (0.07 * (y1 - y0)))), 3)
        gx, gy = np.meshgrid(np.linspace(x0, x1, nx + 2)[1:-1], np.linspace(y0, 0.0, int(nx * (-y0) / (x1 - x0)) + 2)[1:-1])
        finder = p["ec"].get_trifinder()
        inside = finder(gx, gy) >= 0
        ux = mtri.LinearTriInterpolator(p["ec"], p["flux"][:, 0])(gx, gy)
        uy = mtri.LinearTriInterpolator(p["ec"], p["flux"][:, 1])(gx, gy)
        spacing = (x1 - x0) / (nx + 1)
        quiver = ax.quiver(gx[inside], gy[inside], np.asarray(ux)[inside], np.asarray(uy)[inside], color="#e8590c",
                           angles="xy", scale_units="xy", scale=1.0 / (0.8 * spacing), width=0.012 * 60 / max(w * 25, 60),
                           zorder=4)
        # the interface (fillets of 2 µm do not show at this scale)
        cw, depth = p["panel"]["channel_width_um"], p["panel"]["depth_um"]
        outline = ([(0, -depth), (cw / 2, -depth), (cw / 2, 0), (x1, 0)] if cw > 0 else [(0, 0), (x1, 0)])
        ax.plot(*np.array(outline).T, color="black", lw=1.0, zorder=5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_xlabel("x (µm)")
        ax.set_title(p["panel"]["label"] if cw == 0 else f"{p['panel']['label']}: channel {cw:g} µm, depth {depth:g} µm",
                     fontsize=9)
        ax.text(0.03, 0.97, "Li", transform=ax.transAxes, ha="left", va="top", color="black", fontsize=9, fontweight="bold")
        ax.text(0.97, 0.03, "LLZO", transform=ax.transAxes, ha="right", va="bottom", color="white", fontsize=9,
                fontweight="bold")
        if _uniform(p["stress"]) and _uniform(magnitude):
            ax.annotate(f"uniform fields:\nσ_e = {p['stress'].mean():.2f} MPa\ni = {magnitude.mean():.2f} i_app",
                        xy=(0.5, -0.3), xycoords="axes fraction", ha="center", va="top", fontsize=8,
                        bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#999999", alpha=0.9))
        else:
            k = int(np.argmax(p["stress"]))
            xs, ys = p["me"].x[k], p["me"].y[k]
            ax.annotate(f"max σ_e {p['stress'][k]:.2f} MPa", xy=(xs, ys), xytext=(x0 + 0.05 * (x1 - x0), ys + 0.45 * band),
                        fontsize=8, color="black", arrowprops=dict(arrowstyle="->", color="black", lw=1.0), zorder=6)
        if p is shown[0]:
            ax.set_ylabel("y (µm), land top at 0")
    bar_x = (left + sum(widths) + gap * (len(shown) - 1) + 0.35) / fig_w
    height = (fig_h - top_pad - bottom_pad) / fig_h
    for k, (mappable, label) in enumerate(((stress_map, "von Mises stress in the Li (MPa); white: P"),
                                           (flux_map, "Li-ion current density in the LLZO / applied (–)"))):
        cax = fig.add_axes((bar_x + k * 0.75 / fig_w, bottom_pad / fig_h, 0.14 / fig_w, height))
        bar = fig.colorbar(mappable, cax=cax)
        bar.set_label(label, fontsize=8)
        bar.ax.tick_params(labelsize=8)
    ax.quiverkey(quiver, bar_x, 0.35 * bottom_pad / fig_h, 1.0, "arrow: i = i_app", labelpos="E", coordinates="figure",
                 fontproperties=dict(size=8))
    fig.suptitle(f"2D cross-sections at {_operating_point(current_mA_cm2, pressure_MPa, temperature_C)}: "
                 "where the current goes (LLZO, arrows) and the stress (Li)", fontsize=9.5,
                 y=1 - 0.25 / fig_h, x=0.02, ha="left")
    save(fig, png_path)


def _pin_experiments(ax: plt.Axes, experiments: pd.DataFrame, colour="black", label_prefix="") -> None:
    for outcome, style in OUTCOME_MARKERS.items():
        points = experiments[experiments["outcome"] == outcome]
        if len(points):
            colours = {"edgecolors": colour} if outcome == "stable" else {"color": colour}
            ax.scatter(points["current_mA_cm2"], points["pressure_MPa"], zorder=5, clip_on=False,
                       label=f"{label_prefix}{outcome} (exp.)", **style, **colours)


def _log_ticks(lo: float, hi: float, subs: tuple, room: float = 1.15) -> list[float]:
    """Log-axis ticks at subs x 10^k inside [lo, hi], plus each end that is more than a factor ``room``
    from its nearest inner tick (so the ends of the range are labelled where the labels have room)."""
    from matplotlib.ticker import LogLocator

    inner = [t for t in LogLocator(base=10, subs=subs).tick_values(lo, hi) if lo * (1 + 1e-9) < t < hi * (1 - 1e-9)]
    ends = [end for end in (lo, hi) if not inner or min(abs(np.log(end / t)) for t in inner) > np.log(room)]
    return sorted(set(inner) | set(ends))


def _log_axes(ax: plt.Axes, currents, pressures) -> None:
    """Log axes on the diagram's ranges, with plain-number tick labels at both ends of each range."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    if currents is not None:
        ax.set_xlim(currents.min(), currents.max())
        ax.set_xticks(_log_ticks(currents.min(), currents.max(), (1.0,), room=2.5))
    ax.xaxis.set_major_formatter(plain)
    ax.set_ylim(pressures.min(), pressures.max())
    ax.set_yticks(_log_ticks(pressures.min(), pressures.max(), (1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(plain)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())


def _why_no_boundary(ccd: pd.DataFrame, current_range: tuple[float, float] | None) -> str:
    """Why a geometry has no boundary in the solved currents: unstable or stable at all of them."""
    converged = ccd[ccd["status"] == "converged"]["ccd_mA_cm2"].to_numpy(float)
    below = (ccd["status"] == "unstable_throughout").any() or (
        current_range is not None and (converged < current_range[0]).any())
    above = (ccd["status"] == "stable_throughout").any() or (
        current_range is not None and (converged > current_range[1]).any())
    if below and not above:
        return "unstable at every solved current"
    if above and not below:
        return "stable at every solved current"
    return "stable or unstable throughout, by pressure"


def phase_diagrams(diagrams: dict[str, pd.DataFrame], ccds: dict[str, pd.DataFrame], experiments: pd.DataFrame,
                   critical_fraction: float, eps_dot_0: float, png_path: str | Path) -> None:
    """Per geometry: the mean log-ratio log10(ε̇_ME/ε̇_EC) over (i_app, P), the stability boundary, experiments.
    A panel without a boundary in its range says so, and whether the geometry is stable or unstable throughout."""
    labels = list(diagrams)
    columns = min(3, len(labels))
    rows = -(-len(labels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.7 * columns, 3.4 * rows), squeeze=False, sharex=True, sharey=True)
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
        stable = d["stable"].astype(bool)
        inside = ((boundary["ccd_mA_cm2"] >= currents.min()) & (boundary["ccd_mA_cm2"] <= currents.max())).any()
        if inside:
            ax.set_title(label)
        else:
            why = ("stable" if stable.all() else "unstable" if not stable.any() else "stable or unstable") + " throughout"
            ax.set_title(f"{label}: {why}\n(no boundary in range)", fontsize=9)
        ax.grid(False)
    for ax in axes.ravel()[len(labels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("applied current density (mA/cm²)")
    for ax in axes[:, 0]:
        ax.set_ylabel("stack pressure (MPa)")
    for ax in axes.ravel()[len(labels) - columns:len(labels)]:  # the last panel of each column carries its x labels
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel("applied current density (mA/cm²)")
    fig.subplots_adjust(hspace=0.42, wspace=0.12)
    bar = fig.colorbar(mesh, ax=axes, shrink=0.85, pad=0.02)
    bar.set_label("mean log10(ε̇_ME / ε̇_EC) (–)\nblue: creep keeps up, red: stripping outruns creep")
    fig.suptitle(f"Stability phase diagrams: black line = boundary (stable fraction {critical_fraction:g}), "
                 f"stable to its left; grey veil: outside the solved range; ε̇₀ = {eps_dot_0:.3g} 1/s; "
                 "x short, o stable (exp.)", fontsize=9)
    save(fig, png_path)


def _experiment_legend_handles() -> list:
    from matplotlib.lines import Line2D

    return [Line2D([], [], ls="none", marker="x", mew=2.0, ms=7, color="black", label="measured: shorted"),
            Line2D([], [], ls="none", marker="o", mfc="none", mew=1.6, ms=7, color="black",
                   label="measured: stable (marker in its geometry's colour)")]


def phase_boundaries(ccds: dict[str, pd.DataFrame], experiments: pd.DataFrame, png_path: str | Path,
                     current_range_mA_cm2: tuple[float, float] | None = None) -> None:
    """Overlay of every geometry's boundary CCD(P) with the experiments pinned: solid where the CCD lies
    in the solved current range, dotted where it is extrapolated (the shaded bands); the axis spans the
    solved range x/÷ 10.  A geometry without a boundary in the solved currents says so in the legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = geometry_colours(list(ccds))
    fig, ax = plt.subplots(figsize=(8.6, 4.4))
    solved, handles = [], []
    for label, ccd in ccds.items():
        converged = ccd[ccd["status"] == "converged"]
        inside = converged["ccd_mA_cm2"].where(~converged["extrapolated"].astype(bool))
        solved += list(inside.dropna())
        planar = label == "planar"  # on top of the grids, thin, so a grid on the same line does not hide it
        zorder, width = (4, 1.3) if planar else (3, 2.6)
        ax.plot(converged["ccd_mA_cm2"], converged["pressure_MPa"], color=colours[label], ls=":", lw=1.2, zorder=zorder)
        ax.plot(inside, converged["pressure_MPa"], color=colours[label], lw=width, zorder=zorder)
        if inside.notna().any():
            handles.append(Line2D([], [], color=colours[label], lw=width, label=label))
        else:
            handles.append(Patch(color=colours[label],
                                 label=f"{label}: no boundary in range\n({_why_no_boundary(ccd, current_range_mA_cm2)})"))
    for label in ccds:
        _pin_experiments(ax, experiments[experiments["geometry"] == label], colour=colours[label])
    first = next(iter(ccds.values()))
    _log_axes(ax, None, first["pressure_MPa"].to_numpy())
    lo, hi = current_range_mA_cm2 if current_range_mA_cm2 else (min(solved, default=0.1), max(solved, default=1.0))
    ax.set_xlim(lo / 10, hi * 10)
    for left, right in ((lo / 10, lo), (hi, hi * 10)):
        ax.axvspan(left, right, color="#eeeeee", lw=0, zorder=0)
        ax.text(np.sqrt(left * right), 0.98, "outside the\nsolved currents", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=7, color="#777777")
    handles += [Line2D([], [], color="grey", ls=":", lw=1.2, label="dotted: extrapolated (fields held)"),
                *_experiment_legend_handles()]
    ax.set_xlabel("applied current density (mA/cm²)")
    ax.set_ylabel("stack pressure (MPa)")
    ax.set_title("Stability boundaries CCD(P): stable to the left of each line")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7.5, frameon=False)
    save(fig, png_path)


def ccd_vs_channel_width(model: pd.DataFrame, experiments: pd.DataFrame, pressure_MPa: float,
                         png_path: str | Path, current_range_mA_cm2: tuple[float, float] | None = None) -> None:
    """Predicted CCD at one pressure vs channel width, planar as reference, with measured CCDs.

    ``model`` has columns geometry, channel_width_um, ccd_mA_cm2 (NaN: no boundary at this pressure) and
    optionally status (the ``ccd.csv`` status there: ``stable_throughout`` draws a grid at the top of the
    solved currents, anything else at the bottom).  A CCD outside ``current_range_mA_cm2`` (the solved
    currents) is drawn hollow: it is extrapolated.  Every grid width is on the axis, with or without a CCD;
    when no grid has one the plot says so.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, ax = plt.subplots(figsize=(6.6, 4.4))
    colour = CURRENT_COLOUR
    grids = model[model["channel_width_um"] > 0].sort_values("channel_width_um")
    planar = model[model["channel_width_um"] == 0]
    widths, ccd = grids["channel_width_um"].to_numpy(float), grids["ccd_mA_cm2"].to_numpy(float)
    finite = np.isfinite(ccd)
    values = [*ccd[finite], *planar["ccd_mA_cm2"].dropna()]
    lo, hi = current_range_mA_cm2 if current_range_mA_cm2 else (min(values, default=0.1), max(values, default=1.0))
    inside = finite & (ccd >= lo * (1 - 1e-9)) & (ccd <= hi * (1 + 1e-9))
    ax.plot(widths[finite], ccd[finite], ls=":", color=colour, lw=1.4)
    if inside.any():
        ax.plot(widths[inside], ccd[inside], "o-", color=colour, ms=7, label="model, grids")
    if (finite & ~inside).any():
        ax.plot(widths[finite & ~inside], ccd[finite & ~inside], "o", mfc="white", mec=colour, mew=1.6, ms=7,
                label="model, outside the solved currents (extrapolated)")
    for w, value in zip(widths[finite], ccd[finite]):
        ax.annotate(f"{value:.3g}", (w, value), textcoords="offset points", xytext=(7, 5), fontsize=8, color=colour)
    status = grids["status"].to_numpy() if "status" in grids else np.full(len(grids), "", dtype=object)
    above = ~finite & (status == "stable_throughout")
    below = ~finite & ~above
    if below.any():
        ax.plot(widths[below], np.full(below.sum(), lo), "v", mfc="white", mec=colour, mew=1.6, ms=9, clip_on=False,
                label=f"model: no stable current ≥ {lo:g} mA/cm²")
    if above.any():
        ax.plot(widths[above], np.full(above.sum(), hi), "^", mfc="white", mec=colour, mew=1.6, ms=9, clip_on=False,
                label=f"model: stable up to {hi:g} mA/cm² and beyond")
    if len(planar) and np.isfinite(planar["ccd_mA_cm2"].iloc[0]):
        value = planar["ccd_mA_cm2"].iloc[0]
        ax.axhline(value, color="black", ls="--", lw=1.2, label="model, planar")
        ax.text(0.01, value, f" planar {value:.3g}", transform=ax.get_yaxis_transform(), ha="left", va="bottom",
                fontsize=8)
    measured = experiments[(experiments["test"] == "ccd") & np.isclose(experiments["pressure_MPa"], pressure_MPa)]
    grid_points = measured[measured["channel_width_um"] > 0]
    ax.scatter(grid_points["channel_width_um"], grid_points["current_mA_cm2"], marker="*", s=160, color="#c0392b",
               zorder=5, label="measured CCD, grid")
    for value in measured[measured["channel_width_um"] == 0]["current_mA_cm2"]:
        ax.axhline(value, color="#c0392b", ls=":", lw=1.4, label="measured CCD, planar (calibration)")
    if not finite.any() and len(grids):
        why = ("every grid is stable at every solved current" if above.all() else
               "every grid is unstable at every solved current" if below.all() else "no grid has a boundary here")
        ax.text(0.5, 0.3, f"No grid has a CCD in the solved currents\n({lo:g}–{hi:g} mA/cm²) at {pressure_MPa:g} MPa:\n{why}",
                transform=ax.transAxes, ha="center", va="center", fontsize=10, color="#333333",
                bbox=dict(boxstyle="round,pad=0.5", facecolor="#fff7e0", edgecolor="#c9a227"))
    every = sorted(set(widths) | set(grid_points["channel_width_um"]))
    if not every:  # a planar-only study: the planar CCD, and no width axis
        ax.text(0.5, 0.3, "No grid in this study: only the planar cell's CCD", transform=ax.transAxes, ha="center",
                va="center", fontsize=10, color="#333333",
                bbox=dict(boxstyle="round,pad=0.5", facecolor="#fff7e0", edgecolor="#c9a227"))
        ax.set_xticks([])
    else:
        ax.set_xscale("log")
    ax.set_yscale("log")
    if every:
        ax.set_xlim(min(every) / 1.5, max(every) * 1.5)
        ax.set_xticks(every, [f"{w:g}" for w in every])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.minorticks_off()
    shown = [*values, *grid_points["current_mA_cm2"], *measured["current_mA_cm2"], lo, hi]
    bottom, top = min(shown) / 1.6, max(shown) * 1.6
    ax.set_ylim(bottom, top)
    for band in ((bottom, lo), (hi, top)):
        if band[1] > band[0]:
            ax.axhspan(*band, color="#eeeeee", lw=0, zorder=0)
    ax.text(0.99, hi, "outside the solved currents ", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
            fontsize=7, color="#777777")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("channel width w = land width (µm)")
    ax.set_ylabel(f"critical current density at {pressure_MPa:g} MPa (mA/cm²)")
    ax.set_title(f"Predicted CCD vs channel width at {pressure_MPa:g} MPa")
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    save(fig, png_path)


def validation_table_figure(table: pd.DataFrame, png_path: str | Path) -> None:
    """The validation table as a figure: agree in green, disagree in red, calibration in grey."""
    shown = table[["geometry", "current_mA_cm2", "pressure_MPa", "temperature_C", "test", "outcome", "model",
                   "stable_fraction", "role", "agree"]].copy()
    shown["stable_fraction"] = shown["stable_fraction"].map(lambda v: f"{v:.2f}")
    shown["agree"] = [("—" if role == "calibration" else ("yes" if agree else "no"))
                      for role, agree in zip(shown["role"], shown["agree"])]
    header = ["geometry", "i (mA/cm²)", "P (MPa)", "T (°C)", "test", "measured", "model", "stable share",
              "role", "agree"]
    fig, ax = plt.subplots(figsize=(10, 0.3 * (len(shown) + 1) + 0.4))
    ax.axis("off")
    cells = shown.astype(str).to_numpy()
    colours = [["#ffffff"] * len(header) for _ in cells]
    for k, (role, agree) in enumerate(zip(shown["role"], shown["agree"])):
        colours[k][-1] = "#dddddd" if role == "calibration" else ("#cfe8cf" if agree == "yes" else "#f4c7c3")
    grid = ax.table(cellText=cells, colLabels=header, cellColours=colours, cellLoc="center", bbox=(0, 0, 1, 1))
    grid.auto_set_font_size(False)
    grid.set_fontsize(8)
    scored = table[table["role"] == "validation"]
    ax.set_title(f"Validation: the model agrees with {int(scored['agree'].sum())} of {len(scored)} experiments "
                 "(the calibration point is not scored)", fontsize=10)
    save(fig, png_path)


FORM_STYLES = {  # model form -> line style; the model of record is drawn thicker
    "cross_section_transient": dict(color="#8c8c8c", marker="s", ls=":"),
    "cross_section_steady": dict(color="#e08214", marker="^", ls="--"),
    "unit_cell_steady": dict(color="#1f5fa8", marker="o", ls="-"),
}


def model_forms_figure(table: pd.DataFrame, experiments: pd.DataFrame, floor_mA_cm2: float,
                       png_path: str | Path) -> None:
    """CCD at the calibration pressure per geometry for each model form, each calibrated on its own
    planar cell (so every form meets the planar measurement), beside the measured CCDs.  A grid with
    no stable current down to ``floor_mA_cm2`` (the swept range) is drawn as a hollow triangle on it."""
    pressure = float(table["pressure_MPa"].iloc[0])
    geometries = table[["geometry", "channel_width_um"]].drop_duplicates().sort_values("channel_width_um")
    position = {g: k for k, g in enumerate(geometries["geometry"])}
    forms = list(dict.fromkeys(table["form"]))
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    for j, form in enumerate(forms):
        rows = table[table["form"] == form].sort_values("channel_width_um")
        style = FORM_STYLES.get(form, dict(color="black", marker="o", ls="-"))
        record = bool(rows["model_of_record"].iloc[0])
        shift = 0.1 * (j - (len(forms) - 1) / 2)  # side by side where forms coincide (the calibrated planar cell)
        x = np.array([position[g] for g in rows["geometry"]]) + shift
        ccd = rows["ccd_mA_cm2"].to_numpy(float)
        grid, finite = rows["channel_width_um"].to_numpy() > 0, np.isfinite(ccd)
        label = (f"{rows['model'].iloc[0]}: {int(rows['agree'].iloc[0])} of {int(rows['scored'].iloc[0])} "
                 "experiments right" + (" (model of record)" if record else ""))
        ax.plot(x[grid & finite], ccd[grid & finite], color=style["color"], ls=style["ls"], lw=2.4 if record else 1.4)
        ax.plot(x[finite], ccd[finite], ls="none", marker=style["marker"], color=style["color"], ms=8 if record else 6,
                label=label)
        ax.plot(x[~finite], np.full((~finite).sum(), floor_mA_cm2), ls="none", marker="v", ms=7, mfc="white",
                mec=style["color"], mew=1.5)
    measured = experiments[(experiments["test"] == "ccd") & np.isclose(experiments["pressure_MPa"], pressure)]
    first = True
    for row in measured.itertuples():
        name = f"grid{row.channel_width_um:g}" if row.channel_width_um else "planar"
        if name in position:
            ax.scatter([position[name]], [row.current_mA_cm2], marker="*", s=260, color="#c0392b", zorder=1.5,
                       edgecolor="white", linewidth=0.6, label="measured CCD" if first else None)
            first = False
    if (~np.isfinite(table["ccd_mA_cm2"].to_numpy(float))).any():
        ax.plot([], [], ls="none", marker="v", mfc="white", mec="black", label=f"no stable current ≥ {floor_mA_cm2:g} mA/cm²")
    ax.set_xticks(range(len(position)), [g if g == "planar" else f"grid {w:g} µm" for g, w in
                                         zip(geometries["geometry"], geometries["channel_width_um"])])
    ax.set_yscale("log")
    ax.set_ylim(floor_mA_cm2 / 1.6, None)
    ax.set_ylabel(f"critical current density at {pressure:g} MPa (mA/cm²)")
    ax.set_title("CCD by model form, each calibrated on the planar cell of its own dimension", fontsize=10)
    ax.grid(True, which="both", axis="y", alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    fig.tight_layout()
    save(fig, png_path)


def _interface_current(surface, half: float, i_app: float, name: str):
    """The LLZO surface of a quarter cell with cell data ``name`` = |i·n| / i_app on its interface faces
    (the current crossing the interface) and NaN on the mirror planes x, z = 0 and x, z = ``half`` and
    on the bottom (the SSE mid-plane).  Classify the whole surface, then clip it: a clipped volume's
    surface has faces inside the body."""
    surface = surface.compute_normals(cell_normals=True, point_normals=False, auto_orient_normals=True)
    centres, normals = surface.cell_centers().points, surface.cell_data["Normals"]
    current = surface.point_data_to_cell_data().cell_data["current_density"]
    tolerance = 1e-3 * half
    mirror = np.zeros(len(centres), dtype=bool)
    for axis in (0, 2):  # a face centred on a mirror plane lies in it (the clip's slivers there have no normal)
        mirror |= np.isclose(centres[:, axis], 0.0, atol=tolerance) | np.isclose(centres[:, axis], half, atol=tolerance)
    cut = np.isclose(centres[:, 1], surface.bounds[2], atol=tolerance)
    degenerate = np.linalg.norm(normals, axis=1) < 0.5
    local = np.abs(np.einsum("ij,ij->i", current, normals)) / i_app
    surface.cell_data[name] = np.where(mirror | cut | degenerate, np.nan, local)
    return surface


def _nice_label_count(low: float, high: float) -> int:
    """How many evenly spaced tick labels (2-6) from ``low`` to ``high`` give a round step, 0 among them if it is in range."""
    def score(n: int):
        step = (high - low) / (n - 1)
        mantissa = step / 10 ** np.floor(np.log10(step))
        round_step = any(abs(mantissa - m) < 1e-6 for m in (1, 1.5, 2, 2.5, 5, 10))
        hits_zero = not low < 0 < high or abs(low / step - round(low / step)) < 1e-6
        return (not round_step, not hits_zero, abs(n - 4))

    return min(range(2, 7), key=score) if high > low else 2


def _render(pv, meshes: list[tuple], view, scale: float, size: int, labels: dict | None) -> np.ndarray:
    """One off-screen pyvista render (no scalar bar) at a given parallel scale, cropped to its content.

    ``meshes``: (mesh, add_mesh keywords); ``view``: the dataset the camera frames (its centre) and the
    axes span; ``labels``: number of tick labels per axis (0: none on that axis; None: no axes).
    """
    from lisse.core.preview import _view_from_channels

    plotter = pv.Plotter(off_screen=True, window_size=(size, size), border=False)
    plotter.set_background("white")
    for mesh, keywords in meshes:
        plotter.add_mesh(mesh, show_scalar_bar=False, **keywords)
    if labels is not None:
        plotter.show_bounds(mesh=view, xtitle="x (um)", ytitle="y (um)", ztitle="z (um)", fmt="%.0f", color="black",
                            font_size=18, location="outer", ticks="outside", use_2d=True, n_xlabels=labels["x"],
                            n_ylabels=labels["y"], n_zlabels=max(labels["z"], 2), show_zlabels=labels["z"] > 0)
    _view_from_channels(plotter, view)
    plotter.enable_parallel_projection()
    plotter.camera.parallel_scale = scale
    image = plotter.screenshot(None, return_img=True)
    plotter.close()
    content = np.argwhere(image[..., :3].min(axis=2) < 250)
    (r0, c0), (r1, c1) = content.min(axis=0), content.max(axis=0)
    pad = 12
    return image[max(r0 - pad, 0):r1 + pad, max(c0 - pad, 0):c1 + pad]


def field_maps_3d(panels: list[dict], png_path: str | Path, current_mA_cm2: float, pressure_MPa: float,
                  stress_scale: float = 1.0, temperature_C: float | None = None) -> None:
    """3D cells, one column per geometry, all at one scale, seen from the channels' side (pyvista renders
    laid out with matplotlib, which draws the titles and colour bars).

    Top row: the equivalent stress in the Li near the interface, cut through the middle of the
    pillar (z = const), so the section shows the channel Li beside the pillar and the Li on top of
    it, while the mirror plane x = 0 shows the mid-plane of the crossing channel; the LLZO in grey.
    Bottom row: the LLZO under the Li, its interface faces coloured by the local current density
    crossing them, |i·n| / i_app (the i_loc of the criterion); its mirror planes and cut faces grey.
    A uniform field (the planar cell's) is stated in numbers under its panel.

    Each panel: ``label``, ``electrochemistry`` (VTU with ``current_density``), ``mechanics`` (VTU with
    ``von_mises``), ``depth_um`` and ``channel_width_um`` (0 for planar).  Axes in µm (the renders write
    "um": VTK's font has no µ).
    """
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv
    from matplotlib.colors import Normalize

    pv.OFF_SCREEN = True
    i_app = current_mA_cm2 * MA_CM2
    stress, flux = "von Mises stress in Li (MPa)", "i_loc / i_app"
    shown = []
    for panel in panels:
        li, sse = pv.read(panel["mechanics"]), pv.read(panel["electrochemistry"])
        for grid in (li, sse):  # µm, and no "-0" tick labels from round-off on the mirror planes
            points = np.asarray(grid.points) * 1e6
            points[np.abs(points) < 1e-6] = 0.0
            grid.points = points
        li.point_data[stress] = stress_scale * li.point_data["von_mises"] / 1e6
        half = li.bounds[1]  # the quarter cell spans x, z in [0, half]
        depth, band = panel["depth_um"], max(panel["depth_um"], 100.0)
        cut = 0.5 * (0.5 * panel["channel_width_um"] + half)  # the pillar's mid-plane
        near = (0.0, half, -depth - 0.5 * band, 0.5 * band, cut, half)
        li_view = li.clip_box(near, invert=False).extract_surface(algorithm="dataset_surface")
        sse_cut = sse.clip_box(near, invert=False).extract_surface(algorithm="dataset_surface")
        sse_surface = _interface_current(sse.extract_surface(algorithm="dataset_surface"), half, i_app, flux)
        sse_surface = sse_surface.clip_box((0.0, half, -depth - 0.5 * band, 1.0, 0.0, half), invert=False)
        shown.append((panel, li_view, sse_cut, sse_surface, li_view.merge(sse_cut)))
    stress_max = 2.0 * pressure_MPa  # the diverging stress map is white at P, the planar cell's
    flux_max = max(float(np.nanpercentile(view.cell_data[flux], 99)) for _, _, _, view, _ in shown)
    # one scale for every render: the parallel scale that frames the largest view, as the camera projects it
    look = np.array([-0.55, 0.45, -0.7]) / np.linalg.norm([-0.55, 0.45, -0.7])  # lisse.core.preview's view
    up = np.array([0.0, 1.0, 0.0]) - look[1] * look
    up /= np.linalg.norm(up)
    across = np.cross(up, look)

    def projected(view) -> float:
        corners = np.array(np.meshgrid(*np.reshape(view.bounds, (3, 2)))).reshape(3, -1).T
        return max(np.ptp(corners @ up), np.ptp(corners @ across))

    frames = [view for *_, sse_surface, cut in shown for view in (cut, sse_surface)]
    largest = max(max(np.ptp(np.reshape(view.bounds, (3, 2)), axis=1)) for view in frames)
    scale = 0.5 * 1.35 * max(projected(view) for view in frames)
    size = 1300
    renders = []
    for _panel, li_view, sse_cut, sse_surface, cut in shown:
        row = []
        for view, meshes in ((cut, [(li_view, dict(scalars=stress, cmap=STRESS_MAP, clim=(0.0, stress_max),
                                                          ambient=0.6, diffuse=0.45)),  # near-white Li stays light
                                        (sse_cut, dict(color="#7d8796", ambient=0.4, diffuse=0.6))]),
                             (sse_surface, [(sse_surface, dict(scalars=flux, cmap="viridis", clim=(0.0, flux_max),
                                                                nan_color="#d0d0d0"))])):
            bounds = np.reshape(view.bounds, (3, 2))
            labels = {axis: _nice_label_count(*b) for axis, b in zip("xyz", bounds)}
            if view is cut:
                labels["z"] = 0  # the cut is a thin slab in z: its z labels would sit on the y labels
            if np.ptp(bounds, axis=1).max() < 0.5 * largest:
                labels = None  # a small cell (the planar column): its labels would overlap; the grid's axes give the scale
            row.append(_render(pv, meshes, view, scale, size, labels))
        renders.append(row)
    # the layout, in inches at 200 pixels per inch: columns as wide as their renders, bars on the right
    ppi, bar_w, pad = 240.0, 1.5, 0.3
    widths = [max(image.shape[1] for image in column) / ppi for column in renders]
    heights = [max(column[r].shape[0] for column in renders) / ppi for r in range(2)]
    title_h, text_h = 0.75, 0.45
    fig_w = sum(widths) + pad * (len(widths) + 1) + bar_w
    fig_h = title_h + sum(heights) + 2 * text_h + 0.2
    fig = plt.figure(figsize=(fig_w, fig_h))
    rows = [("von Mises stress in the Li near the interface, cut through the pillar's mid-plane (LLZO grey)", stress,
             STRESS_MAP, stress_max, "von Mises stress in the Li (MPa)\nwhite: P, the planar cell's"),
            ("Local current density crossing the interface, on the LLZO under the Li (mirror planes and cuts grey)",
             flux, "viridis", flux_max, "i_loc / i_app (–)")]
    top = fig_h - title_h
    for r, (what, field, cmap, vmax, bar_label) in enumerate(rows):
        bottom = top - text_h - heights[r]
        x = pad
        for column, (panel, li_view, _, sse_surface, _) in enumerate(shown):
            image = renders[column][r]
            w, h = image.shape[1] / ppi, image.shape[0] / ppi
            ax = fig.add_axes(((x + 0.5 * (widths[column] - w)) / fig_w, (bottom + heights[r] - h) / fig_h, w / fig_w,
                               h / fig_h))
            ax.imshow(image, interpolation="lanczos")
            ax.axis("off")
            values = li_view.point_data[field] if r == 0 else sse_surface.cell_data[field]
            values = values[np.isfinite(values)]
            width = panel["channel_width_um"]
            name = panel["label"] if width == 0 else f"{panel['label']}: {width:g} µm channels"
            fig.text((x + 0.5 * widths[column]) / fig_w, (bottom + heights[r] + 0.03) / fig_h, name, ha="center",
                     va="bottom", fontsize=9, fontweight="bold")
            if _uniform(values):
                unit = "MPa" if r == 0 else "× i_app"
                size_um = np.ptp(np.reshape(sse_surface.bounds, (3, 2))[[0, 2]], axis=1)
                fig.text((x + 0.5 * widths[column]) / fig_w, (bottom + heights[r] - h - 0.05) / fig_h,
                         f"uniform: {np.mean(values):.2f} {unit}" + (" (σ_e = P)" if r == 0 else "")
                         + f"\n{size_um[0]:.0f} × {size_um[1]:.0f} µm column",
                         ha="center", va="top", fontsize=8.5,
                         bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#999999"))
            x += widths[column] + pad
        cax = fig.add_axes(((x + 0.1) / fig_w, (bottom + 0.15 * heights[r]) / fig_h, 0.13 / fig_w, 0.7 * heights[r] / fig_h))
        bar = fig.colorbar(plt.cm.ScalarMappable(Normalize(0.0, vmax), cmap), cax=cax)
        bar.set_label(bar_label, fontsize=8)
        bar.ax.tick_params(labelsize=8)
        fig.text(pad / fig_w, (bottom + heights[r] + 0.3) / fig_h, f"{'ab'[r]}) {what}", ha="left", va="bottom",
                 fontsize=9.5)
        top = bottom - 0.2
    fig.suptitle(f"3D unit cells at {_operating_point(current_mA_cm2, pressure_MPa, temperature_C)}\n"
                 "seen from the channels' side, every panel at the same scale, axes in µm", fontsize=10,
                 y=1 - 0.05 / fig_h)
    save(fig, png_path)
