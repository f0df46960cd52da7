"""Study B closed forms against worked numbers of the study (Nat. Commun. 2022), and the fracture map on a hand-made case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lisse.plating.fracture import (
    LLZO_CLEAVAGE_STRENGTH,
    current_density_from_velocity,
    fracture_map,
    griffith_critical_stress,
    growth_velocity,
    overpotential_from_stress,
    stress_from_overpotential,
    whisker_overpotential,
    whisker_stress,
)

FARADAY = 96485.33212
NM = 1e-9


def significant(x, figures):
    return float(f"{x:.{figures - 1}e}")


def test_griffith_and_overpotential_at_10_nm():
    sigma_c = griffith_critical_stress(10 * NM)
    assert sigma_c == pytest.approx(0.95e6 / (1.12 * math.sqrt(math.pi * 10 * NM)), rel=1e-14)
    assert 4.78e9 < sigma_c < 4.79e9  # 4.7856 GPa
    assert significant(sigma_c, 2) == 4.8e9  # the spec: "≈ 4.8 GPa"
    dphi = overpotential_from_stress(sigma_c)
    # Exactly, dphi = 0.6448 V, which rounds to 0.64, not the spec's 0.65: the spec (after the
    # paper) converts the *rounded* 4.8 GPa, 4.8e9 * 13e-6 / F = 0.6467 V -> 0.65 V.  So check
    # both: the rounded chain gives the stated 0.65, and the exact value agrees with it to the
    # spec's precision (two decimals, within one unit of the last digit).
    assert dphi == pytest.approx(0.6448, abs=1e-4)
    assert round(float(overpotential_from_stress(4.8e9)), 2) == 0.65
    assert abs(dphi - 0.65) < 0.01


def test_griffith_and_overpotential_at_100_nm():
    sigma_c = griffith_critical_stress(100 * NM)
    assert sigma_c == pytest.approx(griffith_critical_stress(10 * NM) / math.sqrt(10.0), rel=1e-14)
    assert significant(sigma_c, 2) == 1.5e9  # 1.513 GPa
    assert round(float(overpotential_from_stress(sigma_c)), 2) == 0.20  # 0.2039 V


def test_stress_overpotential_round_trip():
    assert stress_from_overpotential(1.0) == pytest.approx(FARADAY / 13.0e-6, rel=1e-14)  # 7.42 GPa per volt
    assert overpotential_from_stress(stress_from_overpotential(0.37)) == pytest.approx(0.37, rel=1e-14)


def test_growth_velocity_and_current_density():
    # v = 1940 nm/s <-> i = 1.44 A/cm² = 1.44e4 A/m²
    i = current_density_from_velocity(1940 * NM / 1.0)
    assert round(float(i) / 1e4, 2) == 1.44  # 1.4398 A/cm²
    assert growth_velocity(i) == pytest.approx(1940 * NM, rel=1e-14)
    assert growth_velocity(1.44e4) == pytest.approx(1.44e4 * 13.0e-6 / FARADAY, rel=1e-14)


def test_whisker_energy_balance():
    R, v = 100 * NM, 1940 * NM
    # disc contact: s/A = 2 pi R / (pi R²) = 2/R; kinetic term rho v²/2 ~ 1e-9 Pa
    expected = 0.452 * 2.0 / R + 0.5 * 534.0 * v**2
    assert whisker_stress(v, R) == pytest.approx(expected, rel=1e-14)
    assert whisker_stress(v, R) == pytest.approx(9.04e6, rel=1e-9)  # MPa level: weak constraint
    dphi = whisker_overpotential(v, R)
    assert stress_from_overpotential(dphi) == pytest.approx(whisker_stress(v, R), rel=1e-14)
    assert dphi == pytest.approx(9.04e6 * 13.0e-6 / FARADAY, rel=1e-9)  # 1.2 mV


def test_fracture_map_by_hand():
    currents = np.array([1e2, 1e4])  # A/m²
    flaws = np.array([10 * NM, 100 * NM])  # sigma_c = 4.79 GPa, 1.51 GPa
    sigma_1 = np.array([[1.0e9, 1.0e9],
                        [2.0e9, 2.0e9]])
    table = fracture_map(currents, flaws, sigma_1)
    assert list(table["crack"]) == [False, False, False, True]
    assert list(table["mechanism"]) == ["none", "none", "none", "griffith"]
    assert table.loc[3, "critical_stress_Pa"] == pytest.approx(griffith_critical_stress(100 * NM))
    assert list(table["current_density_A_m2"]) == [1e2, 1e2, 1e4, 1e4]  # current-major order


def test_fracture_map_cleavage_caps_tiny_flaws_and_accepts_a_callable():
    flaws = np.array([1e-12, 10 * NM])  # Griffith gives 479 GPa for a 1 pm "flaw": cleavage governs
    table = fracture_map([1e3], flaws, lambda i, a: np.full(np.broadcast(i, a).shape, 17e9))
    assert table.loc[0, "critical_stress_Pa"] == LLZO_CLEAVAGE_STRENGTH
    assert list(table["crack"]) == [True, True]
    assert list(table["mechanism"]) == ["cleavage", "griffith"]
    below = fracture_map([1e3], [1e-12], lambda i, a: 16.0e9 + 0 * i)
    assert not below["crack"].any()
    at = fracture_map([1e3], [1e-12], np.array([[LLZO_CLEAVAGE_STRENGTH]]))
    assert at["crack"].all()  # crack at sigma_1 >= the strength
