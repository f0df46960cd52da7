"""Physical constants and Li / LLZO material data shared by every model (SI): their one home.

Sources: CODATA 2018 for the constants; Li elasticity from Masias et al. 2019; Li's Norton
creep law from Narayan & Anand 2018 fitted to LePage et al. 2019 (the prefactor is the
literature value the calibration starts from); LLZO elasticity and fracture from the
Study B paper (Nat. Commun. 2022) and the references it cites.
"""

FARADAY = 96485.33212  # C/mol (CODATA 2018, exact)
GAS_CONSTANT = 8.314462618  # J/(mol K) (CODATA 2018, exact)
BOLTZMANN_EV = 8.617333262e-5  # eV/K (CODATA 2018, exact)

# Li metal
LI_MOLAR_MASS = 6.941e-3  # kg/mol (6.941 g/mol)
LI_DENSITY = 534.0  # kg/m³ (0.534 g/cm³)
LI_MOLAR_VOLUME = 13.0e-6  # m³/mol (13.0 cm³/mol)
LI_SURFACE_ENERGY = 0.452  # J/m², gamma
LI_YOUNGS_MODULUS = 7.8e9  # Pa
LI_POISSON_RATIO = 0.38
# Norton creep: eps_dot = eps_dot_0 exp(-Q/R (1/T - 1/T_ref)) (sigma_e / sigma_ref)^n
LI_CREEP_RATE_REF = 1.4e-2  # eps_dot_0 at LI_CREEP_REFERENCE_TEMPERATURE, 1/s (literature; Study A calibrates it)
LI_CREEP_EXPONENT = 6.6  # n
LI_CREEP_STRESS_REF = 0.95e6  # Pa, sigma_ref
LI_CREEP_ACTIVATION_ENERGY = 37e3  # J/mol, Q
LI_CREEP_REFERENCE_TEMPERATURE = 298.15  # K (25 °C), where eps_dot_0 is quoted

# LLZO (Ta-doped garnet)
LLZO_YOUNGS_MODULUS = 150e9  # Pa
LLZO_POISSON_RATIO = 0.26
