"""Closed-form fracture assessment of LLZO under plating-induced Li stress (Study B).

The relations (Study B: Nat. Commun. 2022; README, "Study B"), SI units throughout:

* Griffith:             sigma_c(a) = K_IC / (Y sqrt(pi a)) for a surface flaw of depth a;
* stress–overpotential: sigma = F dphi / V_m  (the work F dphi per mole of Li plated
  against a pressure sigma over the molar volume V_m);
* growth velocity:      v = i V_m / F  (thickness of Li plated per unit time);
* whisker energy balance: F dphi / V_m = gamma s / A + rho v² / 2.

They double as a quick check of the FE results: :func:`fracture_map` compares a
maximum principal stress in the LLZO with sigma_c(a) and with the cleavage strength.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from lisse.core.constants import FARADAY, LI_DENSITY, LI_MOLAR_VOLUME, LI_SURFACE_ENERGY

# Study B: Nat. Commun. 2022 and the references it cites
LLZO_FRACTURE_TOUGHNESS = 0.95e6  # Pa m^0.5, K_IC of Ta-doped LLZO
GRIFFITH_GEOMETRY_FACTOR = 1.12  # Y, surface crack
LLZO_CLEAVAGE_STRENGTH = 16.1e9  # Pa, theoretical (cleavage) strength of LLZO


def griffith_critical_stress(flaw_size, fracture_toughness=LLZO_FRACTURE_TOUGHNESS,
                             geometry_factor=GRIFFITH_GEOMETRY_FACTOR):
    """sigma_c(a) = K_IC / (Y sqrt(pi a)), Pa, for a flaw of size a in m."""
    return fracture_toughness / (geometry_factor * np.sqrt(np.pi * np.asarray(flaw_size, dtype=float)))


def stress_from_overpotential(overpotential, molar_volume=LI_MOLAR_VOLUME):
    """sigma = F dphi / V_m, Pa, for an overpotential dphi in V."""
    return FARADAY * np.asarray(overpotential, dtype=float) / molar_volume


def overpotential_from_stress(stress, molar_volume=LI_MOLAR_VOLUME):
    """dphi = sigma V_m / F, V, for a stress sigma in Pa (inverse of :func:`stress_from_overpotential`)."""
    return np.asarray(stress, dtype=float) * molar_volume / FARADAY


def growth_velocity(current_density, molar_volume=LI_MOLAR_VOLUME):
    """v = i V_m / F, m/s, for a plating current density i in A/m²."""
    return np.asarray(current_density, dtype=float) * molar_volume / FARADAY


def current_density_from_velocity(velocity, molar_volume=LI_MOLAR_VOLUME):
    """i = v F / V_m, A/m², for a growth velocity v in m/s (inverse of :func:`growth_velocity`)."""
    return np.asarray(velocity, dtype=float) * FARADAY / molar_volume


def disc_perimeter_to_area(contact_radius):
    """s / A of a circular contact, a flat disc of radius R: 2 pi R / (pi R²) = 2 / R, 1/m."""
    return 2.0 / np.asarray(contact_radius, dtype=float)


def whisker_stress(velocity, contact_radius, surface_energy=LI_SURFACE_ENERGY, density=LI_DENSITY):
    """Growth stress of a whisker, gamma s/A + rho v²/2 (Pa), over a disc contact of radius R (m).

    The surface term pays for the new Li surface, the kinetic term for the momentum of
    the growing Li (negligible at nm/s to um/s: rho v²/2 ~ 1e-9 Pa).
    """
    velocity = np.asarray(velocity, dtype=float)
    return surface_energy * disc_perimeter_to_area(contact_radius) + 0.5 * density * velocity**2


def whisker_overpotential(velocity, contact_radius, surface_energy=LI_SURFACE_ENERGY, density=LI_DENSITY,
                          molar_volume=LI_MOLAR_VOLUME):
    """dphi (V) from F dphi / V_m = gamma s/A + rho v²/2, disc contact of radius R (m), velocity v (m/s)."""
    return overpotential_from_stress(whisker_stress(velocity, contact_radius, surface_energy, density), molar_volume)


def fracture_map(current_densities, flaw_sizes, max_principal_stress: np.ndarray | Callable,
                 fracture_toughness=LLZO_FRACTURE_TOUGHNESS, geometry_factor=GRIFFITH_GEOMETRY_FACTOR,
                 cleavage_strength=LLZO_CLEAVAGE_STRENGTH) -> pd.DataFrame:
    """Crack / no crack over (current density, flaw size), one row per pair (current-major order).

    ``max_principal_stress`` (Pa) is an (n_i, n_a) array, or a callable f(i, a) taking
    broadcast arrays of i (A/m²) and a (m).  A crack starts when sigma_1 >= sigma_c(a)
    (Griffith) or sigma_1 >= the cleavage strength, i.e. when sigma_1 >= min of the two;
    ``mechanism`` names the criterion that is met first ("griffith" or "cleavage"), or "none".
    """
    i = np.atleast_1d(np.asarray(current_densities, dtype=float))
    a = np.atleast_1d(np.asarray(flaw_sizes, dtype=float))
    current_grid, flaw_grid = np.meshgrid(i, a, indexing="ij")
    sigma_1 = max_principal_stress(current_grid, flaw_grid) if callable(max_principal_stress) else max_principal_stress
    sigma_1 = np.broadcast_to(np.asarray(sigma_1, dtype=float), current_grid.shape)
    griffith = np.broadcast_to(griffith_critical_stress(a, fracture_toughness, geometry_factor), current_grid.shape)
    critical = np.minimum(griffith, cleavage_strength)
    crack = sigma_1 >= critical
    mechanism = np.where(~crack, "none", np.where(griffith <= cleavage_strength, "griffith", "cleavage"))
    return pd.DataFrame({
        "current_density_A_m2": current_grid.ravel(),
        "flaw_size_m": flaw_grid.ravel(),
        "max_principal_stress_Pa": sigma_1.ravel(),
        "griffith_stress_Pa": griffith.ravel(),
        "critical_stress_Pa": critical.ravel(),
        "crack": crack.ravel(),
        "mechanism": mechanism.ravel(),
    })
