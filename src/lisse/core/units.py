"""The lab units of the configs, tables and figures, in SI: one definition each.

Config keys carry their unit in the name (``channel_width_um``, ``current_mA_cm2``,
``pressure_MPa``, ``temperature_C``); the code is SI and converts with these.
"""

UM = 1e-6  # m in one micrometre
NM = 1e-9  # m in one nanometre
MA_CM2 = 10.0  # A/m² in one mA/cm²
MPA = 1e6  # Pa in one MPa
ZERO_CELSIUS = 273.15  # K


def kelvin(celsius: float) -> float:
    return celsius + ZERO_CELSIUS


def stress_text(pascal: float) -> str:
    """A stress for people: in MPa, or in GPa from 1 GPa."""
    return f"{pascal / 1e9:.3g} GPa" if abs(pascal) >= 1e9 else f"{pascal / 1e6:.3g} MPa"
