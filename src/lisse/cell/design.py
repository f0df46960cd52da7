"""Design guidance from the calibrated model: the design map (CCD over the grid's width, depth and
land ratio) and the one-at-a-time sensitivity of the CCD to the inputs nobody measured.

Tables only; the figures are :func:`design_map_figure` and :func:`tornado_figure` below, in the
style of :mod:`lisse.cell.plots`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from lisse.cell.analysis import creep_prefactor_at, critical_current_mA_cm2, read_eps_dot_0, response
from lisse.core.figures import plt, save
from lisse.core.units import kelvin


def design_map_table(points: dict[str, dict], calibration_json: str | Path, dimension: int, pressure_MPa: float,
                     temperature_C: float, config: dict) -> pd.DataFrame:
    """Per design cell (and the planar reference, label ``planar``): the CCD at ``pressure_MPa`` and
    ``temperature_C`` with the study's calibrated eps_dot_0, and the true interface area per nominal area."""
    eps_dot_0 = creep_prefactor_at(read_eps_dot_0(calibration_json, dimension), kelvin(temperature_C),
                                   kelvin(config["temperature_C"]), config)
    rows = []
    for label, point in points.items():
        resp = response(point["ec"], point["currents_A_m2"], point["me"], point["pressures_Pa"])
        ccd = critical_current_mA_cm2(resp, pressure_MPa, eps_dot_0, config)
        facts = json.loads(Path(point["facts"]).read_text())
        rows.append({"label": label, "channel_width_um": point["channel_width_um"],
                     "channel_depth_um": point["channel_depth_um"],
                     "land_to_channel_width_ratio": point["land_to_channel_width_ratio"],
                     "true_area_ratio": facts["interface_area_per_nominal_area"],
                     "pressure_MPa": pressure_MPa, "temperature_C": temperature_C, "eps_dot_0_per_s": eps_dot_0,
                     "ccd_mA_cm2": ccd["ccd_mA_cm2"], "ccd_status": ccd["status"], "extrapolated": ccd["extrapolated"]})
    return pd.DataFrame(rows)


def sensitivity_table(model_table: pd.DataFrame, channel_widths_um: list[float]) -> pd.DataFrame:
    """The model-form table of the sensitivity variants reduced to the reported grids, with each
    variant's input and value and its CCD relative to the baseline's."""
    table = model_table[model_table["channel_width_um"].isin(channel_widths_um)].copy()
    table["input"] = [form.split("~")[0] for form in table["form"]]
    table["value"] = [float(form.split("~")[1]) if "~" in form else math.nan for form in table["form"]]
    baseline = table[table["form"] == "baseline"].set_index("channel_width_um")["ccd_mA_cm2"]
    table["ccd_relative"] = table["ccd_mA_cm2"] / table["channel_width_um"].map(baseline)
    return table[["form", "input", "value", "model", "geometry", "channel_width_um", "eps_dot_0_per_s", "pressure_MPa",
                  "ccd_mA_cm2", "ccd_status", "ccd_relative", "agree", "scored"]]


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def design_map_figure(table: pd.DataFrame, measured: list[tuple[float, float]], png_path: str | Path) -> None:
    """Left: the CCD over (channel width, depth) per land ratio, colour on a log scale with contour
    lines, the study's measured grids pinned, the best design ringed. Right: CCD against the true
    interface area, beside the line of a CCD that grew with the area alone."""
    cells = table[table["label"] != "planar"]
    ratios = sorted(cells["land_to_channel_width_ratio"].unique())
    fig, axes = plt.subplots(1, len(ratios) + 1, figsize=(6.0 * (len(ratios) + 1), 4.6), squeeze=False,
                             gridspec_kw={"width_ratios": [1.15] * len(ratios) + [1.0], "wspace": 0.45})
    finite = cells["ccd_mA_cm2"].dropna()
    low, high = (finite.min(), finite.max()) if len(finite) else (0.1, 1.0)
    norm = plt.matplotlib.colors.LogNorm(vmin=low, vmax=max(high, low * 1.01))
    best = cells.loc[cells["ccd_mA_cm2"].idxmax()] if len(finite) else None
    point = table.iloc[0]
    for ax, ratio in zip(axes[0], ratios):
        grid = cells[cells["land_to_channel_width_ratio"] == ratio].pivot(index="channel_depth_um",
                                                                          columns="channel_width_um",
                                                                          values="ccd_mA_cm2")
        widths, depths = grid.columns.to_numpy(float), grid.index.to_numpy(float)
        mesh = ax.pcolormesh(widths, depths, grid.to_numpy(float), norm=norm, cmap="viridis", shading="nearest")
        if len(widths) > 1 and len(depths) > 1 and np.isfinite(grid.to_numpy(float)).sum() >= 4:
            levels = _nice_levels(low, high)
            contours = ax.contour(widths, depths, grid.to_numpy(float), levels=levels, colors="white", linewidths=1.0)
            ax.clabel(contours, fmt=lambda v: f"{v:g}", fontsize=8)
        for width, depth in measured:
            ax.plot(width, depth, marker="*", ms=15, color="#b2412b", mec="white", ls="none", zorder=5,
                    label="the study's measured grid")
        if best is not None and best["land_to_channel_width_ratio"] == ratio:
            ax.plot(best["channel_width_um"], best["channel_depth_um"], marker="o", ms=16, mfc="none", mec="#b2412b",
                    mew=2.0, ls="none", zorder=5,
                    label=f"best in range: {best['channel_width_um']:g} x {best['channel_depth_um']:g} um, "
                          f"{best['ccd_mA_cm2']:.3g} mA/cm²")
        ax.set_xscale("log")
        ax.set_xticks(widths, [f"{w:g}" for w in widths])
        ax.minorticks_off()
        ax.set_xlabel("channel width (µm)")
        ax.set_ylabel("channel depth (µm)")
        ax.set_title(f"land = {ratio:g} x channel width", fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), fontsize=8, frameon=False)
        bar = fig.colorbar(mesh, ax=ax, label=f"CCD at {point['pressure_MPa']:g} MPa (mA/cm²)")
        _plain_log_ticks(bar.ax.yaxis, low, high)
    ax = axes[0][-1]
    planar = table[table["label"] == "planar"]
    for depth, rows in cells.groupby("channel_depth_um"):
        sc = ax.scatter(rows["true_area_ratio"], rows["ccd_mA_cm2"], c=np.log10(rows["channel_width_um"]),
                        cmap="plasma", vmin=np.log10(cells["channel_width_um"].min()),
                        vmax=np.log10(cells["channel_width_um"].max()) + 1e-9,
                        marker={0: "o", 1: "s", 2: "^", 3: "D"}.get(int(np.searchsorted(
                            sorted(cells["channel_depth_um"].unique()), depth)), "v"), s=40, label=f"depth {depth:g} um")
    if len(planar) and math.isfinite(planar["ccd_mA_cm2"].iloc[0]):
        ratios_line = np.linspace(1.0, cells["true_area_ratio"].max() * 1.05, 50)
        ax.plot(ratios_line, planar["ccd_mA_cm2"].iloc[0] * ratios_line, color="grey", ls="--",
                label="planar CCD x true area (area alone)")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis, *ax.get_ylim())
    ax.set_xlabel("true interface area / nominal area (–)")
    ax.set_ylabel(f"CCD at {point['pressure_MPa']:g} MPa (mA/cm²)")
    ax.set_title("CCD against interface area (dashed: what the area alone gives)", fontsize=10)
    colourbar = fig.colorbar(sc, ax=ax, label="channel width (µm)")
    ticks = sorted(cells["channel_width_um"].unique())
    colourbar.set_ticks(np.log10(ticks), labels=[f"{w:g}" for w in ticks])
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), fontsize=8, frameon=False, ncol=2)
    fig.suptitle(f"Design map: predicted CCD at {point['pressure_MPa']:g} MPa, {point['temperature_C']:g} °C "
                 f"(eps_dot_0 = {point['eps_dot_0_per_s']:.3g} 1/s, calibrated on the planar cell)", fontsize=11)
    save(fig, png_path)


def _plain_log_ticks(axis, low: float, high: float) -> None:
    """Ticks at 1, 2, 5 x 10^k written as plain numbers (a log axis's default 6x10^-1 labels collide)."""
    ticks = [level for level in _nice_levels(low / 1.001, high * 1.001)] or [low, high]
    axis.set_major_locator(plt.matplotlib.ticker.FixedLocator(ticks))
    axis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())


def _nice_levels(low: float, high: float) -> list[float]:
    """Contour levels at 1, 2, 5 x 10^k inside (low, high)."""
    levels = [m * 10.0**k for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
              for m in (1, 2, 5)]
    return [level for level in levels if low < level < high]


def tornado_figure(table: pd.DataFrame, png_path: str | Path) -> None:
    """One panel per reported grid: per input, the bar from its low to its high variant's CCD relative to
    the baseline (log axis), widest first; each end labelled with the value and the agreement score."""
    grids = sorted(table["channel_width_um"].unique())
    fig, axes = plt.subplots(1, len(grids), figsize=(6.4 * len(grids), 0.6 * table["input"].nunique() + 1.8),
                             squeeze=False)
    baseline_rows = table[table["form"] == "baseline"]
    for ax, width in zip(axes[0], grids):
        rows = table[(table["channel_width_um"] == width) & (table["form"] != "baseline")]
        base = baseline_rows[baseline_rows["channel_width_um"] == width].iloc[0]
        spans = []
        for name, variant in rows.groupby("input"):
            ratios = variant["ccd_relative"].to_numpy(float)
            spans.append((np.nanmax(np.abs(np.log(ratios))) if np.isfinite(ratios).any() else np.inf, name, variant))
        spans.sort(key=lambda item: item[0])
        for y, (_, _name, variant) in enumerate(spans):
            ratios = variant["ccd_relative"].to_numpy(float)
            shown = np.where(np.isfinite(ratios), ratios, 1.0)
            lo, hi = min(shown.min(), 1.0), max(shown.max(), 1.0)
            ax.barh(y, hi - lo, left=lo, color="#8fb3d9", edgecolor="#1f5fa8", height=0.6)
            for row, ratio in zip(variant.itertuples(), ratios):
                text = f"{row.value:g}: {row.agree}/{row.scored}" if math.isfinite(ratio) else f"{row.value:g}: no CCD"
                right = ratio >= 1.0 if math.isfinite(ratio) else True
                ax.annotate(text, (ratio if math.isfinite(ratio) else 1.0, y), xytext=(4 if right else -4, 0),
                            textcoords="offset points", ha="left" if right else "right", va="center", fontsize=8)
        ax.axvline(1.0, color="black", lw=1.0)
        ax.set_xscale("log")
        shown = rows["ccd_relative"].to_numpy(float)
        shown = shown[np.isfinite(shown)]
        _plain_log_ticks(ax.xaxis, min(shown.min(), 1.0) / 1.6 if len(shown) else 0.5,
                         max(shown.max(), 1.0) * 1.6 if len(shown) else 2.0)
        ax.set_yticks(range(len(spans)), [_INPUT_TITLES.get(name, name) for _, name, _ in spans])
        ax.set_xlabel(f"CCD / baseline CCD ({base['ccd_mA_cm2']:.3g} mA/cm² at {base['pressure_MPa']:g} MPa)")
        ax.set_title(f"grid {width:g} µm (baseline scores {base['agree']}/{base['scored']})", fontsize=10)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo / 1.6, hi * 1.6)  # room for the labels
    fig.suptitle("Sensitivity of the CCD: each input moved alone, eps_dot_0 re-calibrated on the planar cell for every "
                 "variant\n(at each bar end: the input's value, and the experiments the variant gets right)", fontsize=10,
                 y=0.99)
    fig.subplots_adjust(top=1.0 - 0.8 / fig.get_figheight())
    save(fig, png_path)


_INPUT_TITLES = {"i0": "exchange current i0 (x)", "n": "creep exponent n", "f_crit": "criterion f_crit",
                 "depth": "channel depth (x)", "fillet": "fillet radius (x)", "alpha_a": "transfer coeff. alpha_a"}
