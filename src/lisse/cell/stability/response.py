"""The interface response between the solved currents and pressures: interpolation, phase diagram, CCD(P)."""


from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lisse.cell.stability.criterion import (
    POINT_MATCH_TOLERANCE_M,
    StabilityCriterion,
    StabilityMetrics,
    _area_fraction_and_mean,
    _fraction_and_mean,
    _log10_rate,
    area_stability_metrics,
    log10_rate_ratio,
    stability_metrics,
)

# Study A: Adv. Mater. 2021, 2104009; README, "Stability criterion"

# --------------------------------------------------------------------------------------
# Interface fields of one geometry as functions of (i_app, P)
# --------------------------------------------------------------------------------------


def _log_interpolation_weights(solved, values):
    """Brackets k, k+1 and weight w of each value between the solved ones, linear in log.

    f(value) = (1 - w) f_k + w f_k+1.  Outside the solved range w is clamped to 0 or 1
    (the nearest solved profile is held) and the value is flagged.
    """
    values = np.asarray(values, dtype=float)
    if np.any(values <= 0):
        raise ValueError("current densities and pressures must be positive (they are interpolated in log)")
    outside = (values < solved[0]) | (values > solved[-1])
    if len(solved) == 1:
        zero = np.zeros(values.shape, dtype=int)
        return zero, zero, np.zeros(values.shape), outside
    x, xs = np.log(values), np.log(solved)
    k = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(solved) - 2)
    w = np.clip((x - xs[k]) / (xs[k + 1] - xs[k]), 0.0, 1.0)
    return k, k + 1, w, outside


def _scaled_profiles(solved, profiles, values):
    """Profiles at ``values`` (rows), each solved profile scaled by value/solved before blending.

    Blending profile_k * (value/solved_k) is blending the normalised profile
    profile_k/solved_k and multiplying by the value, but it returns the solved
    profile bit for bit at a solved value (w = 0 or 1 and value/solved_k = 1).
    """
    values = np.asarray(values, dtype=float)
    k0, k1, w, outside = _log_interpolation_weights(solved, values)
    scale0, scale1 = (values / solved[k0])[..., None], (values / solved[k1])[..., None]
    w = w[..., None]
    return (1.0 - w) * profiles[k0] * scale0 + w * profiles[k1] * scale1, outside


def _merge_duplicate_points(s, values):
    """Average values sampled more than once at the same s (e.g. discontinuous fields at a shared node)."""
    frame = pd.DataFrame({"s": s, "v": values}).groupby("s", sort=True)["v"].mean()
    return frame.index.to_numpy(dtype=float), frame.to_numpy(dtype=float)


@dataclass(frozen=True)
class StabilityMap:
    """The criterion over a dense (i_app, P) grid; 2D arrays indexed [i, P]."""

    current_densities: np.ndarray  # A/m², shape (n_i,)
    pressures: np.ndarray  # Pa, shape (n_P,)
    stable_fraction: np.ndarray  # (n_i, n_P)
    mean_log10_ratio: np.ndarray  # (n_i, n_P)
    stable: np.ndarray  # bool (n_i, n_P)
    extrapolated: np.ndarray  # bool (n_i, n_P): outside the solved currents or pressures
    critical_fraction: float

    def to_frame(self) -> pd.DataFrame:
        """Long table, one row per grid point."""
        i, p = np.meshgrid(self.current_densities, self.pressures, indexing="ij")
        return pd.DataFrame({
            "current_density_A_m2": i.ravel(),
            "pressure_Pa": p.ravel(),
            "stable_fraction": self.stable_fraction.ravel(),
            "mean_log10_ratio": self.mean_log10_ratio.ravel(),
            "stable": self.stable.ravel(),
            "extrapolated": self.extrapolated.ravel(),
        })


@dataclass(frozen=True)
class CriticalCurrent:
    """CCD(P): the largest stable i_app in the bracket, found by bisection in log i.

    status "converged": the stable/unstable boundary lies inside the bracket;
    "stable_throughout": stable at the upper bound, value = that bound (the CCD is at least this);
    "unstable_throughout": unstable at the lower bound, value = NaN (no stable current in the bracket).
    """

    current_density_A_m2: float
    pressure_Pa: float
    status: str
    iterations: int
    bracket_A_m2: tuple[float, float]
    extrapolated: bool  # the answer relies on fields held outside the solved range


class InterfaceResponse:
    """Interface fields of ONE geometry as functions of (i_app, P), from its solved tables.

    Holds the local current density at the solved currents and the von Mises stress at
    the solved pressures, all on one common interface coordinate: the union of every
    table's sampling points within the range of s all tables cover.  Both solvers
    return nodal values of fields that are piecewise linear along the interface, so on
    the union each field's own linear interpolant is represented exactly: no table
    loses resolution and none is given more than it has.  Each point keeps the
    segment name its table gave it (electrochemistry first).

    Between solved values, i_loc(s)/i_app is interpolated linearly in log(i_app) and
    sigma_e(s)/P linearly in log(P); outside, the nearest solved normalised profile
    is held and the result is flagged ``extrapolated``.  Steady-creep mechanics tables (no
    ``time_s`` column) hold sigma_e / P for every pressure (the steady flow scales exactly,
    :mod:`lisse.cell.mechanics.steady`): one such table serves any P, never extrapolated.

    A 3D interface (tables with ``area_m2`` instead of ``s_m``) is held at the quadrature
    points both solvers sample, each with its area; ``s`` is then None and every fraction
    and mean is area-weighted (:func:`area_stability_metrics`).
    """

    def __init__(self, s, segments, currents, current_profiles, pressures, stress_profiles, area=None,
                 stress_proportional_to_pressure: bool = False):
        self.stress_proportional_to_pressure = stress_proportional_to_pressure
        self.area = None if area is None else np.asarray(area, dtype=float)
        self.s = None if self.area is not None else np.asarray(s, dtype=float)
        self.segments = np.asarray(segments).astype(str)
        self.currents = np.asarray(currents, dtype=float)
        self.pressures = np.asarray(pressures, dtype=float)
        self.current_profiles = np.asarray(current_profiles, dtype=float)
        self.stress_profiles = np.asarray(stress_profiles, dtype=float)
        if self.area is not None:
            n = len(self.area)
            if n < 1 or np.any(self.area <= 0) or len(self.segments) != n:
                raise ValueError("area must hold a positive weight and a segment name per point")
        else:
            n = len(self.s)
            if n < 2 or np.any(np.diff(self.s) <= 0) or len(self.segments) != n:
                raise ValueError("s must be strictly increasing (>= 2 points) with one segment name per point")
        for name, solved, profiles in (("currents", self.currents, self.current_profiles),
                                       ("pressures", self.pressures, self.stress_profiles)):
            if len(solved) == 0 or np.any(solved <= 0) or np.any(np.diff(solved) <= 0):
                raise ValueError(f"{name} must be positive, strictly increasing and not empty")
            if profiles.shape != (len(solved), n):
                raise ValueError(f"{name} profiles must have shape {(len(solved), n)}, not {profiles.shape}")

    @classmethod
    def from_tables(cls, electrochemistry: Mapping[float, pd.DataFrame], mechanics: Mapping[float, pd.DataFrame],
                    time_s: float | None = None) -> InterfaceResponse:
        """Build from {i_app (A/m²): electrochemistry interface table} and {P (Pa): mechanics interface table}.

        Mechanics rows are taken at ``time_s`` (default: each table's largest time, t_eval); steady
        tables (no ``time_s``) have one row per point and scale exactly with P.
        """
        if not electrochemistry or not mechanics:
            raise ValueError("need at least one electrochemistry and one mechanics table")
        steady = ["time_s" not in table for table in mechanics.values()]
        if any(steady) and not all(steady):
            raise ValueError("the mechanics tables mix steady and transient solves of one geometry")
        currents = np.array(sorted(electrochemistry), dtype=float)
        pressures = np.array(sorted(mechanics), dtype=float)
        ec_tables = [electrochemistry[i] for i in sorted(electrochemistry)]
        me_tables = [_rows_at_time(mechanics[p], time_s) for p in sorted(mechanics)]
        if "area_m2" in ec_tables[0]:
            return cls._from_point_tables(currents, ec_tables, pressures, me_tables, all(steady))
        samples = ([(t["s_m"].to_numpy(float), t["current_density_A_m2"].to_numpy(float)) for t in ec_tables]
                   + [(t["s_m"].to_numpy(float), t["von_mises_Pa"].to_numpy(float)) for t in me_tables])
        s_lo = max(s.min() for s, _ in samples)
        s_hi = min(s.max() for s, _ in samples)
        if not s_hi > s_lo:
            raise ValueError("the electrochemistry and mechanics tables share no interface range")
        labelled = pd.concat([t[["s_m", "segment"]] for t in ec_tables + me_tables], ignore_index=True)
        labelled = labelled[(labelled["s_m"] >= s_lo) & (labelled["s_m"] <= s_hi)]
        labelled = labelled.drop_duplicates("s_m", keep="first").sort_values("s_m", kind="stable")
        s = labelled["s_m"].to_numpy(float)
        profiles = [np.interp(s, *_merge_duplicate_points(s_k, v_k)) for s_k, v_k in samples]
        return cls(s, labelled["segment"].to_numpy(str), currents, np.array(profiles[:len(currents)]),
                   pressures, np.array(profiles[len(currents):]), stress_proportional_to_pressure=all(steady))

    @classmethod
    def _from_point_tables(cls, currents, ec_tables, pressures, me_tables, steady: bool) -> InterfaceResponse:
        """3D: every table samples the same quadrature points of the (conforming) interface facets."""
        def keyed(table, column):
            key = pd.MultiIndex.from_arrays([np.round(table[c].to_numpy(float) / POINT_MATCH_TOLERANCE_M).astype(np.int64)
                                             for c in ("x_m", "y_m", "z_m")])
            frame = table.set_axis(key)[["area_m2", "segment", column]]
            if not frame.index.is_unique:
                raise ValueError("a 3D interface table samples a point twice")
            return frame

        reference = keyed(ec_tables[0], "current_density_A_m2").sort_index()
        columns = []
        for table, column in [(t, "current_density_A_m2") for t in ec_tables] + [(t, "von_mises_Pa") for t in me_tables]:
            frame = keyed(table, column)
            if len(frame) != len(reference) or not frame.index.isin(reference.index).all():
                raise ValueError(f"3D interface tables sample different points ({len(frame)} against "
                                 f"{len(reference)}): the electrochemistry and mechanics need the same mesh")
            columns.append(frame[column].reindex(reference.index).to_numpy(float))
        return cls(None, reference["segment"].to_numpy(str), currents, np.array(columns[:len(currents)]),
                   pressures, np.array(columns[len(currents):]), area=reference["area_m2"].to_numpy(float),
                   stress_proportional_to_pressure=steady)

    @property
    def interface_length(self) -> float:
        """Length of the interface line (2D, m) or area of the interface (3D, m²)."""
        return float(self.area.sum()) if self.area is not None else float(self.s[-1] - self.s[0])

    def _fraction_and_mean(self, log_ratio):
        if self.area is not None:
            return _area_fraction_and_mean(self.area, log_ratio)
        return _fraction_and_mean(self.s, log_ratio)

    def extrapolated(self, i_app, P):
        """True where i_app, or P unless the stress is proportional to it, lies outside the solved range."""
        outside = _log_interpolation_weights(self.currents, i_app)[3]
        if self.stress_proportional_to_pressure:
            return outside | np.zeros(np.shape(P), dtype=bool)  # broadcast like the pressures
        return outside | _log_interpolation_weights(self.pressures, P)[3]

    def local_current_density(self, i_app):
        """i_loc(s) in A/m² at each i_app (rows for an array of currents)."""
        return _scaled_profiles(self.currents, self.current_profiles, i_app)[0]

    def von_mises(self, P):
        """sigma_e(s) in Pa at each P (rows for an array of pressures)."""
        return _scaled_profiles(self.pressures, self.stress_profiles, P)[0]

    def fields(self, i_app: float, P: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(s, i_loc(s), sigma_e(s)) at one (i_app, P); s in m, i_loc in A/m², sigma_e in Pa."""
        return self.s, self.local_current_density(float(i_app)), self.von_mises(float(P))

    def strain_rate_profile(self, i_app: float, P: float, eps_dot_0: float,
                            criterion: StabilityCriterion = StabilityCriterion()) -> pd.DataFrame:
        """Both strain rates at every interface point (for plots): one row per point of s in 2D, per
        quadrature point with its ``area_m2`` in 3D."""
        s, i_loc, sigma_e = self.fields(i_app, P)
        ec, me = criterion.electrochemical_rate(i_loc), criterion.mechanical_rate(sigma_e, eps_dot_0)
        where = {"s_m": s} if self.area is None else {"area_m2": self.area}
        return pd.DataFrame({**where, "segment": self.segments, "current_density_A_m2": i_loc,
                             "von_mises_Pa": sigma_e, "eps_dot_ec_1_s": ec, "eps_dot_me_1_s": me,
                             "log10_ratio": log10_rate_ratio(ec, me)})

    def metrics(self, i_app: float, P: float, eps_dot_0: float,
                criterion: StabilityCriterion = StabilityCriterion()) -> StabilityMetrics:
        """The criterion at one (i_app, P) with per-segment fractions; eps_dot_0 in 1/s at the working temperature."""
        s, i_loc, sigma_e = self.fields(i_app, P)
        eps_dot_ec, eps_dot_me = criterion.electrochemical_rate(i_loc), criterion.mechanical_rate(sigma_e, eps_dot_0)
        if self.area is not None:
            result = area_stability_metrics(self.area, eps_dot_ec, eps_dot_me, criterion.critical_fraction,
                                            self.segments)
        else:
            result = stability_metrics(s, eps_dot_ec, eps_dot_me, criterion.critical_fraction, self.segments)
        return replace(result, extrapolated=bool(self.extrapolated(i_app, P)))

    def _log10_rates(self, i_app, P, eps_dot_0, criterion):
        """log10 eps_dot_EC (rows per i_app) and log10 eps_dot_ME (rows per P)."""
        ec = _log10_rate(criterion.electrochemical_rate(self.local_current_density(i_app)))
        me = _log10_rate(criterion.mechanical_rate(self.von_mises(P), eps_dot_0))
        return ec, me

    def classify(self, i_grid, P_grid, eps_dot_0: float, criterion: StabilityCriterion = StabilityCriterion(),
                 max_elements: int = 4_000_000) -> StabilityMap:
        """The criterion over the grid i_grid x P_grid (arrays indexed [i, P]).

        Each field is interpolated once per grid value; the log-ratio of every pair is a
        broadcast difference, evaluated in blocks of currents of at most ``max_elements`` values.
        """
        i_grid = np.atleast_1d(np.asarray(i_grid, dtype=float))
        P_grid = np.atleast_1d(np.asarray(P_grid, dtype=float))
        log_ec, log_me = self._log10_rates(i_grid, P_grid, eps_dot_0, criterion)
        fraction = np.empty((len(i_grid), len(P_grid)))
        mean = np.empty_like(fraction)
        block = max(1, max_elements // (len(P_grid) * len(self.segments)))
        for start in range(0, len(i_grid), block):
            rows = slice(start, start + block)
            log_ratio = log_me[None, :, :] - log_ec[rows, None, :]
            fraction[rows], mean[rows] = self._fraction_and_mean(log_ratio)
        extrapolated = self.extrapolated(i_grid[:, None], P_grid[None, :])
        return StabilityMap(i_grid, P_grid, fraction, mean, fraction >= criterion.critical_fraction,
                            extrapolated, criterion.critical_fraction)

    def _stable_pairs(self, i_app, P, eps_dot_0, criterion):
        """Verdict at paired points (i_app[k], P[k])."""
        log_ec, log_me = self._log10_rates(i_app, P, eps_dot_0, criterion)
        fraction, _ = self._fraction_and_mean(log_me - log_ec)
        return fraction >= criterion.critical_fraction

    def _critical_currents(self, P, eps_dot_0, i_bounds, criterion, rtol):
        """Vectorised bisection in log i for every pressure at once."""
        i_lo, i_hi = map(float, i_bounds)
        if not 0 < i_lo < i_hi:
            raise ValueError("i_bounds must be (low, high) with 0 < low < high")
        P = np.atleast_1d(np.asarray(P, dtype=float))
        stable_lo = self._stable_pairs(np.full(P.shape, i_lo), P, eps_dot_0, criterion)
        stable_hi = self._stable_pairs(np.full(P.shape, i_hi), P, eps_dot_0, criterion)
        lo, hi = np.full(P.shape, math.log(i_lo)), np.full(P.shape, math.log(i_hi))
        iterations = max(0, math.ceil(math.log2((hi[0] - lo[0]) / rtol)))
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            stable = self._stable_pairs(np.exp(mid), P, eps_dot_0, criterion)
            lo, hi = np.where(stable, mid, lo), np.where(stable, hi, mid)
        ccd = np.exp(lo)  # largest current known to be stable
        status = np.where(stable_hi, "stable_throughout", np.where(stable_lo, "converged", "unstable_throughout"))
        ccd = np.where(stable_hi, i_hi, np.where(stable_lo, ccd, np.nan))
        extrapolated = self.extrapolated(np.where(np.isfinite(ccd), ccd, i_lo), P)
        return P, ccd, status, iterations, extrapolated

    def critical_current_density(self, P: float, eps_dot_0: float, i_bounds: tuple[float, float],
                                 criterion: StabilityCriterion = StabilityCriterion(),
                                 rtol: float = 1e-10) -> CriticalCurrent:
        """CCD(P) = the largest stable i_app in i_bounds (A/m²), to relative tolerance ``rtol``.

        Assumes the verdict changes once across the bracket (stable below, unstable above),
        which holds when more current never raises the stable fraction.
        """
        P_arr, ccd, status, iterations, extrapolated = self._critical_currents(P, eps_dot_0, i_bounds, criterion, rtol)
        return CriticalCurrent(float(ccd[0]), float(P_arr[0]), str(status[0]),
                               iterations if status[0] == "converged" else 0,
                               (float(i_bounds[0]), float(i_bounds[1])), bool(extrapolated[0]))

    def boundary_curve(self, P_grid, eps_dot_0: float, i_bounds: tuple[float, float],
                       criterion: StabilityCriterion = StabilityCriterion(), rtol: float = 1e-10) -> pd.DataFrame:
        """CCD(P) over P_grid (Pa): the stable/unstable boundary of the phase diagram, one row per pressure."""
        P_arr, ccd, status, _, extrapolated = self._critical_currents(P_grid, eps_dot_0, i_bounds, criterion, rtol)
        return pd.DataFrame({"pressure_Pa": P_arr, "critical_current_density_A_m2": ccd,
                             "status": status, "extrapolated": extrapolated})


def _rows_at_time(table: pd.DataFrame, time_s: float | None) -> pd.DataFrame:
    """Rows of a mechanics table at ``time_s`` (default: the largest time, t_eval), sorted by s (2D);
    a steady table's rows as they are (sorted)."""
    if "time_s" not in table:
        if time_s is not None:
            raise ValueError(f"a steady mechanics table has no time; asked for t = {time_s} s")
        return table.sort_values("s_m", kind="stable") if "s_m" in table else table
    times = table["time_s"].to_numpy(float)
    target = times.max() if time_s is None else float(time_s)
    rows = table[np.isclose(times, target, rtol=1e-9, atol=0.0)]
    if rows.empty:
        raise ValueError(f"no mechanics rows at t = {target} s; times present: {sorted(set(times))}")
    return rows.sort_values("s_m", kind="stable") if "s_m" in rows else rows  # 3D rows are matched by point


