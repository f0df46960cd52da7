"""The criterion: both strain rates, their log-ratio, and the stable fraction of an interface profile."""


from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lisse.core.constants import (
    FARADAY,
    GAS_CONSTANT,
    LI_CREEP_ACTIVATION_ENERGY,
    LI_CREEP_EXPONENT,
    LI_CREEP_REFERENCE_TEMPERATURE,
    LI_CREEP_STRESS_REF,
    LI_DENSITY,
    LI_MOLAR_MASS,
)

# Study A: Adv. Mater. 2021, 2104009; README, "Stability criterion"

STRIPPED_THICKNESS = 1e-6  # m, h = delta, the interface recession the mechanics imposes
CRITICAL_FRACTION = 0.5  # f_crit (choice)

# Strain rates are floored here before taking logs, so a point with zero current
# (or zero stress) gives a large finite log-ratio instead of +-inf/NaN.
RATE_FLOOR = 1e-300  # 1/s

CCD_STATUSES = ("converged", "stable_throughout", "unstable_throughout")
# 3D tables from both solvers sample the same quadrature points, written with 8+ digits: points
# closer than this (m) are one point
POINT_MATCH_TOLERANCE_M = 1e-11


# --------------------------------------------------------------------------------------
# Strain rates
# --------------------------------------------------------------------------------------


def electrochemical_strain_rate(current_density, molar_mass=LI_MOLAR_MASS, density=LI_DENSITY,
                                thickness=STRIPPED_THICKNESS):
    """eps_dot_EC = |i| M / (F rho h), 1/s, for a local current density i in A/m²."""
    return np.abs(current_density) * molar_mass / (FARADAY * density * thickness)


def creep_rate_prefactor(eps_dot_0_ref, temperature, reference_temperature=LI_CREEP_REFERENCE_TEMPERATURE,
                         activation_energy=LI_CREEP_ACTIVATION_ENERGY):
    """Arrhenius shift of the creep prefactor: eps_dot_0(T) = eps_dot_0(T_ref) exp(-Q/R (1/T - 1/T_ref)), 1/s."""
    return eps_dot_0_ref * np.exp(-activation_energy / GAS_CONSTANT * (1.0 / temperature - 1.0 / reference_temperature))


def mechanical_strain_rate(von_mises, eps_dot_0, stress_ref=LI_CREEP_STRESS_REF, exponent=LI_CREEP_EXPONENT):
    """Norton rate eps_dot_ME = eps_dot_0 (sigma_e / sigma_ref)^n, 1/s, for a von Mises stress sigma_e in Pa."""
    return eps_dot_0 * (np.abs(von_mises) / stress_ref) ** exponent


def log10_rate_ratio(eps_dot_ec, eps_dot_me):
    """log10(eps_dot_ME / eps_dot_EC), both rates floored at RATE_FLOOR; >= 0 where creep keeps up."""
    return _log10_rate(eps_dot_me) - _log10_rate(eps_dot_ec)


def _log10_rate(rate):
    return np.log10(np.maximum(rate, RATE_FLOOR))


@dataclass(frozen=True)
class StabilityCriterion:
    """The constants of both strain rates and the critical fraction (SI)."""

    molar_mass: float = LI_MOLAR_MASS  # kg/mol
    density: float = LI_DENSITY  # kg/m³
    thickness: float = STRIPPED_THICKNESS  # m
    stress_ref: float = LI_CREEP_STRESS_REF  # Pa
    exponent: float = LI_CREEP_EXPONENT
    critical_fraction: float = CRITICAL_FRACTION

    def __post_init__(self):
        if not 0.0 < self.critical_fraction <= 1.0:
            raise ValueError("critical_fraction must lie in (0, 1]")
        if min(self.molar_mass, self.density, self.thickness, self.stress_ref) <= 0:
            raise ValueError("molar_mass, density, thickness and stress_ref must be positive")

    def electrochemical_rate(self, current_density):
        return electrochemical_strain_rate(current_density, self.molar_mass, self.density, self.thickness)

    def mechanical_rate(self, von_mises, eps_dot_0):
        return mechanical_strain_rate(von_mises, eps_dot_0, self.stress_ref, self.exponent)


# --------------------------------------------------------------------------------------
# Length-weighted criterion
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StabilityMetrics:
    """The criterion at one (i_app, P): stable length fraction, mean log-ratio, verdict, per-segment fractions."""

    stable_fraction: float  # length fraction where eps_dot_ME >= eps_dot_EC
    mean_log10_ratio: float  # (1/L) int log10(eps_dot_ME / eps_dot_EC) ds
    stable: bool  # stable_fraction >= critical_fraction
    critical_fraction: float
    interface_length_m: float
    segment_fractions: dict[str, float] = field(default_factory=dict)  # stable fraction of each segment's length
    segment_lengths_m: dict[str, float] = field(default_factory=dict)
    extrapolated: bool = False  # True when (i_app, P) lies outside the solved range (fields held, not interpolated)


def _positive_length(r0, r1, t0, t1):
    """Measure of {t in [t0, t1] : r0 + (r1 - r0) t >= 0}, with [t0, t1] inside [0, 1]."""
    dr = r1 - r0
    with np.errstate(divide="ignore", invalid="ignore"):
        t_cross = np.where(dr != 0.0, -r0 / np.where(dr != 0.0, dr, 1.0), 0.0)
    width = t1 - t0
    rising = np.clip(t1 - np.maximum(t0, t_cross), 0.0, width)  # r >= 0 after the crossing
    falling = np.clip(np.minimum(t1, t_cross) - t0, 0.0, width)  # r >= 0 before the crossing
    flat = np.where(r0 >= 0.0, width, 0.0)
    return np.where(dr > 0.0, rising, np.where(dr < 0.0, falling, flat))


def _stable_half_lengths(s, log_ratio):
    """Stable length in the left and right half of every interval [s_k, s_k+1] (last axis of log_ratio).

    The log-ratio is linear across each interval.  Each half belongs to the point it
    touches, which is how intervals straddling a segment junction are shared out.
    """
    ds = np.diff(s)
    r0, r1 = log_ratio[..., :-1], log_ratio[..., 1:]
    left = ds * _positive_length(r0, r1, 0.0, 0.5)
    right = ds * _positive_length(r0, r1, 0.5, 1.0)
    return left, right


def _fraction_and_mean(s, log_ratio):
    """Stable length fraction and length-weighted (trapezoid) mean of the log-ratio, along the last axis."""
    length = s[-1] - s[0]
    left, right = _stable_half_lengths(s, log_ratio)
    fraction = (left.sum(axis=-1) + right.sum(axis=-1)) / length
    mean = (0.5 * (log_ratio[..., :-1] + log_ratio[..., 1:]) * np.diff(s)).sum(axis=-1) / length
    return fraction, mean


def _area_fraction_and_mean(area, log_ratio):
    """Stable area fraction and area-weighted mean of the log-ratio (3D: one weight per sampling point)."""
    total = area.sum()
    return (np.where(log_ratio >= 0.0, area, 0.0).sum(axis=-1) / total, (log_ratio * area).sum(axis=-1) / total)


def area_stability_metrics(area, eps_dot_ec, eps_dot_me, f_crit=CRITICAL_FRACTION, segments=None) -> StabilityMetrics:
    """Area-weighted criterion on a 3D interface sampled at quadrature points of weights ``area`` (m²).

    fraction = sum of the areas where eps_dot_ME >= eps_dot_EC over the total area, mean =
    area-weighted log-ratio; ``interface_length_m`` and ``segment_lengths_m`` then hold areas (m²).
    """
    area = np.asarray(area, dtype=float)
    if area.ndim != 1 or len(area) < 1 or np.any(area <= 0):
        raise ValueError("area must be a 1D array of positive point weights")
    log_ratio = log10_rate_ratio(np.asarray(eps_dot_ec, dtype=float), np.asarray(eps_dot_me, dtype=float))
    fraction, mean = _area_fraction_and_mean(area, log_ratio)
    segment_fractions, segment_areas = {}, {}
    if segments is not None:
        segments = np.asarray(segments).astype(str)
        for name in dict.fromkeys(segments):  # order met
            mine = segments == name
            segment_areas[name] = float(area[mine].sum())
            segment_fractions[name] = float(_area_fraction_and_mean(area[mine], log_ratio[mine])[0])
    return StabilityMetrics(float(fraction), float(mean), bool(fraction >= f_crit), float(f_crit), float(area.sum()),
                            segment_fractions, segment_areas)


def stability_metrics(s, eps_dot_ec, eps_dot_me, f_crit=CRITICAL_FRACTION, segments=None) -> StabilityMetrics:
    """Length-weighted criterion along the interface coordinate s (m, increasing).

    fraction = |{s : eps_dot_ME >= eps_dot_EC}| / L  with the log-ratio linear between points,
    mean     = (1/L) int log10(eps_dot_ME / eps_dot_EC) ds  (trapezoid),
    stable   = fraction >= f_crit.
    ``segments`` (a name per point) adds the stable fraction of each named segment.
    """
    s = np.asarray(s, dtype=float)
    if s.ndim != 1 or len(s) < 2 or np.any(np.diff(s) < 0) or s[-1] <= s[0]:
        raise ValueError("s must be an increasing 1D array of at least two points")
    log_ratio = log10_rate_ratio(np.asarray(eps_dot_ec, dtype=float), np.asarray(eps_dot_me, dtype=float))
    fraction, mean = _fraction_and_mean(s, log_ratio)
    segment_fractions, segment_lengths = {}, {}
    if segments is not None:
        segment_fractions, segment_lengths = _segment_fractions(s, log_ratio, np.asarray(segments))
    return StabilityMetrics(float(fraction), float(mean), bool(fraction >= f_crit), float(f_crit), float(s[-1] - s[0]),
                            segment_fractions, segment_lengths)


def _segment_fractions(s, log_ratio, segments):
    if len(segments) != len(s):
        raise ValueError("need one segment name per point of s")
    names, first = np.unique(segments, return_index=True)
    names = names[np.argsort(first)]  # order met along s
    code = {name: k for k, name in enumerate(names)}
    point_code = np.array([code[name] for name in segments])
    left, right = _stable_half_lengths(s, log_ratio)
    half = 0.5 * np.diff(s)
    stable = (np.bincount(point_code[:-1], left, len(names)) + np.bincount(point_code[1:], right, len(names)))
    total = np.bincount(point_code[:-1], half, len(names)) + np.bincount(point_code[1:], half, len(names))
    fractions = {str(n): float(stable[k] / total[k]) if total[k] > 0 else math.nan for k, n in enumerate(names)}
    return fractions, {str(n): float(total[k]) for k, n in enumerate(names)}


