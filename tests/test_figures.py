"""The figures' own behaviour on small synthetic tables (no solve): what they say when there is
nothing to draw, and colours a reader cannot confuse."""

from __future__ import annotations

import colorsys

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.patches import Polygon, Rectangle

from lisse.cell import plots


@pytest.fixture
def captured(monkeypatch) -> list:
    """The figures the plot functions would save, kept open for inspection instead."""
    figures: list = []
    monkeypatch.setattr(plots, "save", lambda fig, path: figures.append(fig))
    return figures


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def _saturation(colour) -> float:
    return colorsys.rgb_to_hls(*to_rgb(colour))[2]


EXPERIMENTS = pd.DataFrame({"geometry": ["grid200"], "channel_width_um": [200.0], "current_mA_cm2": [0.7],
                            "pressure_MPa": [1.0], "test": ["ccd"], "outcome": ["short"]})


def test_ccd_plot_says_so_when_no_grid_has_a_ccd(captured):
    """The 2D study: every grid unstable at every solved current. The plot must not be empty: each
    width is on the axis, marked at the bottom of the solved range, and a message says why."""
    model = pd.DataFrame({"geometry": ["planar", "grid50", "grid100", "grid200", "grid400"],
                          "channel_width_um": [0.0, 50.0, 100.0, 200.0, 400.0], "pressure_MPa": 1.0,
                          "ccd_mA_cm2": [0.3, np.nan, np.nan, np.nan, np.nan],
                          "status": ["converged"] + ["unstable_throughout"] * 4})
    plots.ccd_vs_channel_width(model, EXPERIMENTS, 1.0, "unused.png", (0.05, 2.0))
    ax = captured[0].axes[0]
    assert "No grid has a CCD" in _texts(captured[0])
    assert "unstable at every solved current" in _texts(captured[0])
    assert [float(t) for t in ax.get_xticks()] == [50.0, 100.0, 200.0, 400.0]
    low, high = ax.get_xlim()
    assert low < 50 and high > 400
    markers = [line for line in ax.get_lines() if line.get_marker() == "v"]
    assert len(markers) == 1 and len(markers[0].get_xdata()) == 4


def test_ccd_plot_of_a_planar_only_study_draws_the_planar_ccd(captured):
    """config/examples/planar_only.yaml: no grid, so no width axis (a log axis of no data fails to draw)."""
    model = pd.DataFrame({"geometry": ["planar"], "channel_width_um": [0.0], "pressure_MPa": 1.0,
                          "ccd_mA_cm2": [0.3], "status": ["converged"]})
    plots.ccd_vs_channel_width(model, EXPERIMENTS[EXPERIMENTS["channel_width_um"] == 0], 1.0, "unused.png", (0.05, 2.0))
    captured[0].canvas.draw()
    assert "No grid in this study" in _texts(captured[0])
    assert captured[0].axes[0].get_xscale() == "linear"


def test_ccd_plot_marks_extrapolated_ccds_and_has_no_message_when_grids_have_one(captured):
    model = pd.DataFrame({"geometry": ["planar", "grid50", "grid200"], "channel_width_um": [0.0, 50.0, 200.0],
                          "pressure_MPa": 1.0, "ccd_mA_cm2": [0.3, 2.8, 0.57], "status": "converged"})
    plots.ccd_vs_channel_width(model, EXPERIMENTS, 1.0, "unused.png", (0.05, 2.0))
    assert "No grid has a CCD" not in _texts(captured[0])
    labels = [line.get_label() for line in captured[0].axes[0].get_lines()]
    assert any("extrapolated" in label for label in labels)  # 2.8 > 2 mA/cm2: outside the solved currents


def _ccd_table(ccd: list[float], extrapolated: list[bool], status: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"pressure_MPa": [0.5, 1.0, 2.0, 4.0], "ccd_mA_cm2": ccd, "status": status,
                         "extrapolated": extrapolated})


def test_phase_boundaries_name_every_geometry_without_a_boundary_in_range(captured):
    """A boundary found only outside the solved currents (2D grid400 at high pressure) counts as none."""
    ccds = {"planar": _ccd_table([0.02, 0.3, 3.0, 30.0], [True, False, True, True], ["converged"] * 4),
            "grid50": _ccd_table([np.nan] * 4, [True] * 4, ["unstable_throughout"] * 4),
            "grid400": _ccd_table([np.nan, np.nan, 1e-4, 1e-2], [True] * 4,
                                  ["unstable_throughout", "unstable_throughout", "converged", "converged"])}
    plots.phase_boundaries(ccds, EXPERIMENTS, "unused.png", (0.05, 2.0))
    legend = [t.get_text() for t in captured[0].axes[0].get_legend().get_texts()]
    assert "planar" in legend
    for label in ("grid50", "grid400"):
        assert any(t.startswith(f"{label}: no boundary in range") and "unstable" in t for t in legend), legend
    line_styles = {line.get_linestyle() for line in captured[0].axes[0].get_lines() if len(line.get_xdata())}
    assert {"-", ":"} <= line_styles  # solid in the solved currents, dotted outside


def test_strain_rate_legends_share_no_colour_with_the_segment_backgrounds(captured):
    """Backgrounds are greys; the legend's entries (stripping, creep, creep keeps up) are colours."""
    s = np.linspace(0.0, 1e-4, 40)
    segments = np.where(s < 3e-5, "interface_channel_floor", np.where(s < 7e-5, "interface_side_wall",
                                                                       "interface_land_top"))
    ec, me = np.full_like(s, 1e-4), np.geomspace(1e-6, 1e-2, len(s))
    profile = pd.DataFrame({"s_m": s, "segment": segments, "eps_dot_ec_1_s": ec, "eps_dot_me_1_s": me})
    area = profile.drop(columns="s_m").assign(area_m2=1e-12)
    plots.strain_rate_profiles({"grid": profile}, 0.5, 1.0, 3e-4, "unused.png", critical_fraction=0.5)
    plots.strain_rate_distributions({"grid": area}, 0.5, 1.0, 3e-4, "unused.png", critical_fraction=0.5)
    for fig in captured:
        ax = fig.axes[0]
        backgrounds = [p.get_facecolor() for p in ax.patches if isinstance(p, (Polygon, Rectangle)) and p.get_zorder() <= 0]
        backgrounds += [p.get_facecolor() for p in ax.collections if p.get_zorder() <= 0]
        assert backgrounds, "no segment bands drawn"
        assert all(_saturation(c[:3]) < 0.05 for c in backgrounds)
        legend = fig.legends[0]
        entries = [h.get_color() if hasattr(h, "get_color") and not hasattr(h, "get_facecolor") else h.get_facecolor()
                   for h in legend.legend_handles]
        assert len(entries) == 3
        assert all(_saturation(np.asarray(to_rgb(c))) > 0.3 for c in entries)
        assert "short" in _texts(fig) or "stable" in _texts(fig)  # the verdict against the critical fraction


def _rectangle_vtu(path, x1_um: float, y0_um: float, y1_um: float, **point_data) -> str:
    """A triangulated rectangle in metres with the given point fields (functions of x, y in µm)."""
    import pyvista as pv

    plane = pv.Plane(center=(x1_um / 2, (y0_um + y1_um) / 2, 0.0), direction=(0, 0, 1), i_size=x1_um,
                     j_size=y1_um - y0_um, i_resolution=8, j_resolution=8).triangulate()
    grid = plane.cast_to_unstructured_grid()
    xy = np.asarray(grid.points)[:, :2].copy()
    grid.points = np.asarray(grid.points) * 1e-6
    for name, field in point_data.items():
        grid.point_data[name] = field(*xy.T)
    grid.save(path)
    return str(path)


def test_2d_field_maps_state_the_operating_point_and_the_planar_cells_uniform_fields(captured, tmp_path):
    i_app = 0.5 * 10.0  # 0.5 mA/cm2 in A/m2
    planar = {"label": "planar", "window_um": (0, 100, -50, 50), "depth_um": 0.0, "channel_width_um": 0.0,
              "electrochemistry": _rectangle_vtu(tmp_path / "ec.vtu", 100, -100, 0,
                                                 current_density=lambda x, y: np.tile([0.0, -i_app, 0.0], (len(x), 1))),
              "mechanics": _rectangle_vtu(tmp_path / "me.vtu", 100, 0, 100, von_mises=lambda x, y: np.full(len(x), 0.87e6))}
    patterned = dict(planar, label="grid100", channel_width_um=100.0, depth_um=100.0,
                     mechanics=_rectangle_vtu(tmp_path / "me_grid.vtu", 100, 0, 100, von_mises=lambda x, y: 1e4 * x))
    plots.field_maps([planar, patterned], "unused.png", 0.5, 1.0, temperature_C=25.0)
    text = _texts(captured[0])
    assert "i_app = 0.5 mA/cm², P = 1 MPa, T = 25 °C" in text
    assert "uniform fields" in text and "σ_e = 0.87 MPa" in text and "i = 1.00 i_app" in text
    assert text.count("uniform fields") == 1  # not on the patterned cell, whose stress varies
    assert "max σ_e" in text
    axes = [ax for ax in captured[0].axes if ax.get_xlabel() == "x (µm)"]
    assert len(axes) == 2
    scale = [ax.get_position().width / np.ptp(ax.get_xlim()) for ax in axes]
    assert scale[0] == pytest.approx(scale[1], rel=1e-6)  # one scale for every panel
