"""Stability criterion, (i_app, P) interpolation, CCD and calibration on synthetic interface tables (no solver)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lisse.cell.stability import (
    InterfaceResponse,
    StabilityCriterion,
    area_stability_metrics,
    calibrate_creep_prefactor,
    creep_rate_prefactor,
    electrochemical_strain_rate,
    find_root_illinois,
    mechanical_strain_rate,
    stability_metrics,
)

FARADAY, GAS_CONSTANT = 96485.33212, 8.314462618
UM = 1e-6
SQRT3_2 = math.sqrt(3.0) / 2.0
# segment ends of a synthetic patterned interface (m): floor, lower corner, wall, upper corner, land
SEGMENT_ENDS = {"interface_channel_floor": 100 * UM, "interface_lower_corner": 103 * UM,
                "interface_side_wall": 400 * UM, "interface_upper_corner": 403 * UM, "interface_land_top": 503 * UM}
LENGTH = 503 * UM


# --------------------------------------------------------------------------------------
# Synthetic tables in the solvers' formats
# --------------------------------------------------------------------------------------


def segment_names(s):
    ends = np.array(list(SEGMENT_ENDS.values()))
    return np.array(list(SEGMENT_ENDS))[np.minimum(np.searchsorted(ends, s, side="left"), len(ends) - 1)]


def sample_points(n):
    """n points over the interface, plus every segment end (the meshes have nodes there)."""
    return np.unique(np.concatenate([np.linspace(0.0, LENGTH, n), [0.0, *SEGMENT_ENDS.values()]]))


def patterned_current(s, i_app):
    """Current focused on the channel floor, a little less so at higher current."""
    focus = 0.8 - 0.05 * math.log10(i_app)
    return i_app * (1.0 + focus * np.exp(-s / (150 * UM)) - 0.2 * focus)


def patterned_stress(s, P):
    """sigma_e: the planar value (sqrt(3)/2) P, concentrated near the upper corner."""
    peak = 0.6 + 0.05 * math.log10(P / 1e6)
    return SQRT3_2 * P * (1.0 + peak * np.exp(-(((s - 403 * UM) / (40 * UM)) ** 2)))


def ec_table(s, current):
    return pd.DataFrame({"s_m": s, "segment": segment_names(s), "current_density_A_m2": current,
                         "overpotential_V": 0.01 * np.ones_like(s)})


def me_table(s, von_mises, early_von_mises=None):
    """Rows at t = 10 s (early, different values) and at t_eval = 3600 s, as the mechanics writes them."""
    early = von_mises * 3.0 if early_von_mises is None else early_von_mises
    rows = [pd.DataFrame({"time_s": t, "s_m": s, "segment": segment_names(s), "von_mises_Pa": v,
                          "hydrostatic_pressure_Pa": 1e6}) for t, v in ((10.0, early), (3600.0, von_mises))]
    return pd.concat(rows, ignore_index=True)


CURRENTS = (1.0, 3.0, 10.0, 30.0)  # A/m²
PRESSURES = (0.3e6, 1.0e6, 3.0e6)  # Pa


def patterned_tables(s_ec, s_me):
    ec = {i: ec_table(s_ec, patterned_current(s_ec, i)) for i in CURRENTS}
    me = {P: me_table(s_me, patterned_stress(s_me, P)) for P in PRESSURES}
    return ec, me


@pytest.fixture(scope="module")
def patterned():
    """Electrochemistry and mechanics sampled at different points, as from two different meshes."""
    s_ec, s_me = sample_points(81), sample_points(57)
    ec, me = patterned_tables(s_ec, s_me)
    return InterfaceResponse.from_tables(ec, me), ec, me


@pytest.fixture(scope="module")
def patterned_shared():
    """Both sampled at the same points, so direct evaluation needs no interpolation."""
    s = sample_points(101)
    ec, me = patterned_tables(s, s)
    return InterfaceResponse.from_tables(ec, me), ec, me


def planar_response():
    s = np.linspace(0.0, 100 * UM, 21)
    ec = {i: ec_table(s, np.full_like(s, i)) for i in CURRENTS}
    me = {P: me_table(s, np.full_like(s, SQRT3_2 * P)) for P in PRESSURES}
    return InterfaceResponse.from_tables(ec, me)


# eps_dot_0 putting the patterned cell's boundary inside the solved window
EPS_DOT_0 = 2e-3


# --------------------------------------------------------------------------------------
# Strain rates
# --------------------------------------------------------------------------------------


def test_electrochemical_strain_rate_hand_computed():
    # 0.3 mA/cm² = 3 A/m²: 3 * 6.941e-3 / (96485.33212 * 534 * 1e-6) = 4.0416e-4 1/s
    expected = 3.0 * 6.941e-3 / (96485.33212 * 534.0 * 1e-6)
    assert electrochemical_strain_rate(3.0) == pytest.approx(expected, rel=1e-10)
    assert electrochemical_strain_rate(3.0) == pytest.approx(4.0416e-4, rel=1e-4)
    assert electrochemical_strain_rate(-3.0) == electrochemical_strain_rate(3.0)  # |i|: plating strains too
    assert electrochemical_strain_rate(3.0, thickness=2e-6) == pytest.approx(expected / 2, rel=1e-12)


def test_norton_rate():
    assert mechanical_strain_rate(0.95e6, 1.4e-2) == pytest.approx(1.4e-2, rel=1e-14)
    assert mechanical_strain_rate(1.9e6, 1.4e-2) == pytest.approx(1.4e-2 * 2.0**6.6, rel=1e-12)
    assert mechanical_strain_rate(2e6, 1.0, stress_ref=1e6, exponent=3) == pytest.approx(8.0, rel=1e-14)


def test_arrhenius_prefactor_at_60C():
    ratio = creep_rate_prefactor(1.0, 333.15)
    assert ratio == pytest.approx(math.exp(-37e3 / GAS_CONSTANT * (1 / 333.15 - 1 / 298.15)), rel=1e-12)
    assert ratio == pytest.approx(4.80, abs=0.01)  # creep ~5x faster at 60 °C
    assert creep_rate_prefactor(1.4e-2, 298.15) == pytest.approx(1.4e-2, rel=1e-15)


# --------------------------------------------------------------------------------------
# Length-weighted criterion
# --------------------------------------------------------------------------------------


def test_half_the_length_above_gives_one_half():
    s = np.linspace(0.0, 1e-4, 100)  # even count: the step falls mid-interval
    ec = np.full_like(s, 1e-3)
    me = np.where(s < 0.5e-4, 2e-3, 0.5e-3)
    m = stability_metrics(s, ec, me)
    assert m.stable_fraction == pytest.approx(0.5, abs=1e-12)
    assert m.mean_log10_ratio == pytest.approx(0.0, abs=1e-12)
    assert m.stable  # 0.5 >= f_crit = 0.5
    assert not stability_metrics(s, ec, me, f_crit=0.6).stable


def test_linear_crossing_and_segments_by_hand():
    # log-ratio +1, -1, -1 on s = 0, 1, 3: stable on [0, 0.5] only
    s = np.array([0.0, 1.0, 3.0])
    ec = np.ones(3)
    me = np.array([10.0, 0.1, 0.1])
    m = stability_metrics(s, ec, me, segments=["a", "a", "b"])
    assert m.stable_fraction == pytest.approx(0.5 / 3, rel=1e-14)
    assert m.mean_log10_ratio == pytest.approx((0.0 * 1 + (-1.0) * 2) / 3, rel=1e-14)
    # half-intervals belong to the point they touch: a = [0, 2], b = [2, 3]
    assert m.segment_lengths_m == pytest.approx({"a": 2.0, "b": 1.0})
    assert m.segment_fractions == pytest.approx({"a": 0.25, "b": 0.0})
    assert not m.stable


def test_area_weighted_criterion_by_hand():
    # 3D: points of areas 1, 2, 3, 4 with log-ratios +1, -1, 0, -1 (0 counts as stable)
    area = np.array([1.0, 2.0, 3.0, 4.0])
    m = area_stability_metrics(area, np.ones(4), np.array([10.0, 0.1, 1.0, 0.1]), segments=["a", "b", "a", "b"])
    assert m.stable_fraction == pytest.approx(4.0 / 10.0, rel=1e-14)
    assert m.mean_log10_ratio == pytest.approx((1.0 - 2.0 + 0.0 - 4.0) / 10.0, rel=1e-14)
    assert m.interface_length_m == 10.0 and not m.stable
    assert m.segment_lengths_m == {"a": 4.0, "b": 6.0}
    assert m.segment_fractions == {"a": 1.0, "b": 0.0}
    with pytest.raises(ValueError):
        area_stability_metrics(np.array([1.0, 0.0]), np.ones(2), np.ones(2))


def test_equal_rates_count_as_stable_and_zero_current_is_finite():
    s = np.linspace(0, 1, 5)
    assert stability_metrics(s, np.ones(5), np.ones(5)).stable_fraction == 1.0
    m = stability_metrics(s, np.zeros(5), np.ones(5))
    assert m.stable_fraction == 1.0 and np.isfinite(m.mean_log10_ratio)


# --------------------------------------------------------------------------------------
# Interpolation of the interface fields
# --------------------------------------------------------------------------------------


def test_common_coordinate_is_the_union_of_samples(patterned):
    response, ec, me = patterned
    s_ec, s_me = ec[1.0]["s_m"].to_numpy(), me[1e6]["s_m"].unique()
    assert np.array_equal(response.s, np.union1d(s_ec, s_me))
    assert set(response.segments) == set(SEGMENT_ENDS)
    assert response.interface_length == pytest.approx(LENGTH, rel=1e-14)


def test_fields_reproduce_solved_tables_exactly(patterned):
    response, ec, me = patterned
    for i_app in CURRENTS:
        for P in PRESSURES:
            s, i_loc, sigma_e = response.fields(i_app, P)
            table = ec[i_app]
            at = np.searchsorted(s, table["s_m"].to_numpy())
            assert np.array_equal(i_loc[at], table["current_density_A_m2"].to_numpy())
            final = me[P][me[P]["time_s"] == 3600.0]  # t_eval, not the early rows
            at = np.searchsorted(s, final["s_m"].to_numpy())
            assert np.array_equal(sigma_e[at], final["von_mises_Pa"].to_numpy())
            assert not response.extrapolated(i_app, P)


def test_normalised_profiles_interpolate_linearly_in_log(patterned):
    response, ec, me = patterned
    i_mid = math.sqrt(3.0 * 10.0)  # halfway between 3 and 10 in log
    expected = 0.5 * (response.local_current_density(3.0) / 3.0 + response.local_current_density(10.0) / 10.0)
    assert response.local_current_density(i_mid) / i_mid == pytest.approx(expected, rel=1e-12)
    P_mid = math.sqrt(0.3e6 * 1e6)
    expected = 0.5 * (response.von_mises(0.3e6) / 0.3e6 + response.von_mises(1e6) / 1e6)
    assert response.von_mises(P_mid) / P_mid == pytest.approx(expected, rel=1e-12)


def test_outside_the_solved_range_holds_the_nearest_profile_and_flags_it(patterned):
    response, _, _ = patterned
    assert response.local_current_density(100.0) / 100.0 == pytest.approx(response.local_current_density(30.0) / 30.0,
                                                                           rel=1e-14)
    assert response.von_mises(0.1e6) / 0.1e6 == pytest.approx(response.von_mises(0.3e6) / 0.3e6, rel=1e-14)
    assert response.extrapolated(100.0, 1e6) and response.extrapolated(3.0, 0.1e6)
    assert response.metrics(100.0, 1e6, EPS_DOT_0).extrapolated
    assert not response.metrics(5.0, 2e6, EPS_DOT_0).extrapolated


def test_mechanics_rows_at_a_chosen_time():
    s = np.linspace(0, 1e-4, 5)
    ec = {3.0: ec_table(s, np.full_like(s, 3.0))}
    me = {1e6: me_table(s, np.full_like(s, 1e6), early_von_mises=np.full_like(s, 2e6))}
    assert np.all(InterfaceResponse.from_tables(ec, me).von_mises(1e6) == 1e6)
    assert np.all(InterfaceResponse.from_tables(ec, me, time_s=10.0).von_mises(1e6) == 2e6)
    with pytest.raises(ValueError, match="no mechanics rows"):
        InterfaceResponse.from_tables(ec, me, time_s=5.0)


def steady_table(s, von_mises_over_P, P=1e6):
    """A steady-creep mechanics table: one row per point, no time, velocities instead of displacements."""
    return pd.DataFrame({"s_m": s, "segment": segment_names(s), "von_mises_Pa": von_mises_over_P * P,
                         "hydrostatic_pressure_Pa": 0.5 * P, "normal_velocity_m_s": 0.0})


def test_one_steady_table_serves_every_pressure_and_never_extrapolates(patterned):
    _, ec, _ = patterned
    s = sample_points(57)
    profile = patterned_stress(s, 1e6) / 1e6
    response = InterfaceResponse.from_tables(ec, {1e6: steady_table(s, profile)})
    for P in (0.01e6, 0.25e6, 4e6, 50e6):
        assert np.allclose(response.von_mises(P), P * np.interp(response.s, s, profile), rtol=1e-14)
        assert not response.extrapolated(5.0, P)
    assert response.extrapolated(100.0, 4e6)  # currents are still interpolated between solves
    ccd = response.critical_current_density(2e6, EPS_DOT_0, (1e-3, 1e4))
    assert ccd.status == "converged" and ccd.extrapolated == (not 1.0 <= ccd.current_density_A_m2 <= 30.0)
    with pytest.raises(ValueError, match="mix steady and transient"):
        InterfaceResponse.from_tables(ec, {1e6: steady_table(s, profile), 2e6: me_table(s, 2 * profile * 1e6)})


def test_li_at_rest_gives_finite_rates_and_no_warnings(patterned):
    """A steady 2D channel has sigma_e -> 0 where the Li is at rest: eps_dot_ME = 0 there, which the
    criterion counts as unstable, with no NaN and no floating-point warning."""
    _, ec, _ = patterned
    s = sample_points(57)
    profile = np.where(s < 403 * UM, 0.0, SQRT3_2)  # channel Li at rest, land Li flowing
    response = InterfaceResponse.from_tables(ec, {1e6: steady_table(s, profile)})
    with np.errstate(all="raise"):
        metrics = response.metrics(3.0, 1e6, EPS_DOT_0)
        grid = response.classify(np.geomspace(1.0, 30.0, 5), np.geomspace(0.25e6, 4e6, 5), EPS_DOT_0)
        profile_table = response.strain_rate_profile(3.0, 1e6, EPS_DOT_0)
    assert metrics.stable_fraction == pytest.approx(100 / 503, abs=0.002) and np.isfinite(metrics.mean_log10_ratio)
    assert np.isfinite(grid.mean_log10_ratio).all() and np.isfinite(profile_table["log10_ratio"]).all()


# --------------------------------------------------------------------------------------
# Classification, CCD, boundary
# --------------------------------------------------------------------------------------


def test_classification_equals_direct_evaluation_at_solved_points(patterned_shared):
    response, ec, me = patterned_shared
    criterion = StabilityCriterion()
    grid = response.classify(CURRENTS, PRESSURES, EPS_DOT_0)
    assert grid.stable.shape == (len(CURRENTS), len(PRESSURES))
    assert grid.stable.any() and not grid.stable.all()  # the boundary crosses the solved window
    for a, i_app in enumerate(CURRENTS):
        for b, P in enumerate(PRESSURES):
            final = me[P][me[P]["time_s"] == 3600.0]
            direct = stability_metrics(ec[i_app]["s_m"].to_numpy(),
                                       criterion.electrochemical_rate(ec[i_app]["current_density_A_m2"].to_numpy()),
                                       criterion.mechanical_rate(final["von_mises_Pa"].to_numpy(), EPS_DOT_0))
            assert grid.stable[a, b] == direct.stable
            assert grid.stable_fraction[a, b] == pytest.approx(direct.stable_fraction, abs=1e-12)
            assert grid.mean_log10_ratio[a, b] == pytest.approx(direct.mean_log10_ratio, abs=1e-12)
    assert not grid.extrapolated.any()
    frame = grid.to_frame()
    assert len(frame) == grid.stable.size and frame["stable"].sum() == grid.stable.sum()


def test_metrics_agree_with_the_grid_and_segments_add_up(patterned):
    response, _, _ = patterned
    grid = response.classify([2.0, 7.0], [0.5e6, 2e6], EPS_DOT_0, max_elements=1)  # block of one row
    for a, i_app in enumerate([2.0, 7.0]):
        for b, P in enumerate([0.5e6, 2e6]):
            m = response.metrics(i_app, P, EPS_DOT_0)
            assert m.stable_fraction == pytest.approx(grid.stable_fraction[a, b], abs=1e-12)
            assert m.stable == grid.stable[a, b]
            stable_length = sum(m.segment_fractions[n] * m.segment_lengths_m[n] for n in m.segment_fractions)
            assert stable_length / m.interface_length_m == pytest.approx(m.stable_fraction, rel=1e-12)
            assert sum(m.segment_lengths_m.values()) == pytest.approx(LENGTH, rel=1e-12)


def test_more_current_never_raises_the_stable_fraction(patterned):
    response, _, _ = patterned
    i_grid = np.logspace(-0.5, 2, 200)  # beyond the solved currents on both sides
    grid = response.classify(i_grid, np.linspace(0.7e6, 1.4e6, 15), EPS_DOT_0)
    assert np.all(np.diff(grid.stable_fraction, axis=0) <= 1e-12)
    assert np.all(np.diff(grid.stable_fraction, axis=1) >= -1e-12)  # and more pressure never lowers it
    partly_stable = (grid.stable_fraction > 0.0) & (grid.stable_fraction < 1.0)
    assert partly_stable.sum() > 50  # the test exercises the continuous part, not only 0 and 1


def test_critical_current_density_is_the_stable_unstable_boundary(patterned):
    response, _, _ = patterned
    ccd = response.critical_current_density(1e6, EPS_DOT_0, (0.1, 1e3))
    assert ccd.status == "converged" and ccd.iterations > 0
    assert response.metrics(ccd.current_density_A_m2, 1e6, EPS_DOT_0).stable
    assert not response.metrics(ccd.current_density_A_m2 * (1 + 1e-8), 1e6, EPS_DOT_0).stable
    fraction = response.metrics(ccd.current_density_A_m2, 1e6, EPS_DOT_0).stable_fraction
    assert fraction == pytest.approx(0.5, abs=1e-6)  # the fraction is continuous: f = f_crit at the CCD

    curve = response.boundary_curve([0.85e6, 1e6, 1.2e6], EPS_DOT_0, (0.1, 1e3))
    assert curve.loc[1, "critical_current_density_A_m2"] == pytest.approx(ccd.current_density_A_m2, rel=1e-12)
    assert np.all(np.diff(curve["critical_current_density_A_m2"]) > 0)  # more pressure, higher CCD
    assert list(curve["status"]) == ["converged"] * 3 and not curve["extrapolated"].any()


def test_critical_current_density_outside_the_bracket_is_flagged(patterned):
    response, _, _ = patterned
    above = response.critical_current_density(1e6, EPS_DOT_0, (1e-3, 1e-2))
    assert above.status == "stable_throughout" and above.current_density_A_m2 == 1e-2
    below = response.critical_current_density(1e6, EPS_DOT_0, (1e4, 1e5))
    assert below.status == "unstable_throughout" and math.isnan(below.current_density_A_m2)
    assert below.extrapolated


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------


def test_calibration_on_planar_cell_reproduces_closed_form():
    response = planar_response()
    target, P = 3.0, 1.0e6  # 0.3 mA/cm² at 1 MPa
    result = calibrate_creep_prefactor(response, target, P)
    closed_form = electrochemical_strain_rate(target) / (SQRT3_2 * P / 0.95e6) ** 6.6
    assert result.eps_dot_0 == pytest.approx(closed_form, rel=1e-6)
    assert abs(result.residual) < 1e-6
    ccd = response.critical_current_density(P, result.eps_dot_0, (1e-3, 1e3))
    assert ccd.current_density_A_m2 == pytest.approx(target, rel=1e-2)
    assert result.bracket == (1e-9, 1e3) and result.iterations > 0
    # idempotent: same call, same answer; re-calibrating in a bracket around it too
    assert calibrate_creep_prefactor(response, target, P) == result
    again = calibrate_creep_prefactor(response, target, P, bracket=(result.eps_dot_0 / 2, result.eps_dot_0 * 2))
    assert again.eps_dot_0 == pytest.approx(result.eps_dot_0, rel=1e-9)


def test_calibration_on_patterned_cell_hits_the_target(patterned):
    response, _, _ = patterned
    result = calibrate_creep_prefactor(response, 7.0, 1e6)
    assert abs(result.residual) < 1e-6
    ccd = response.critical_current_density(1e6, result.eps_dot_0, (0.1, 1e3))
    assert ccd.current_density_A_m2 == pytest.approx(7.0, rel=1e-6)


def test_calibration_rejects_a_bracket_without_the_root():
    with pytest.raises(ValueError, match="does not change sign"):
        calibrate_creep_prefactor(planar_response(), 3.0, 1e6, bracket=(1.0, 10.0))


def test_illinois_root_finder():
    root, iterations = find_root_illinois(lambda x: x**3 - 2.0, 0.0, 2.0)
    assert root == pytest.approx(2.0 ** (1 / 3), rel=1e-12) and iterations < 60
    step, _ = find_root_illinois(lambda x: -1.0 if x < 0.3 else 1.0, 0.0, 1.0)  # discontinuous: bisection fallback
    assert step == pytest.approx(0.3, abs=1e-11)


def test_calibration_of_one_dimension_is_refused_in_the_other(tmp_path):
    """An eps_dot_0 fitted on the 2D planar cell (sigma_e = 0.87 P) would raise every 3D CCD ~2.6x."""
    import json

    from lisse.cell.analysis import CalibrationMismatch, read_eps_dot_0

    record = tmp_path / "calibration.json"
    record.write_text(json.dumps({"eps_dot_0_per_s": 7.4e-4, "dimension": 2,
                                  "cell": {"label": "planar_2d", "geometry_id": "planar_2d_h~5_x", "dimension": 2}}))
    assert read_eps_dot_0(record, 2) == 7.4e-4
    with pytest.raises(CalibrationMismatch, match=r"fitted on a 2D planar cell \(planar_2d_h~5_x\).*3D cells"):
        read_eps_dot_0(record, 3)
