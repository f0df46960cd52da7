"""Physical constants and Li/LLZO material data shared by every model (SI)."""

FARADAY = 96485.33212  # C/mol (CODATA 2018, exact)
GAS_CONSTANT = 8.314462618  # J/(mol K) (CODATA 2018, exact)
BOLTZMANN_EV = 8.617333262e-5  # eV/K (CODATA 2018, exact)

# Li metal (SCIENCE.md, Study A "The stability criterion" and Study B)
LI_MOLAR_MASS = 6.941e-3  # kg/mol (6.941 g/mol)
LI_DENSITY = 534.0  # kg/m³ (0.534 g/cm³)
LI_MOLAR_VOLUME = 13.0e-6  # m³/mol (13.0 cm³/mol)
LI_SURFACE_ENERGY = 0.452  # J/m², gamma
