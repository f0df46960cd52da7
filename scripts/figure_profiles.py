"""Rule `figure_profiles`: interface profiles and strain-rate profiles at the figures' operating point
(along the interface of the 2D cross-sections; per segment, area-weighted, on the 3D cells)."""

import pandas as pd

from lisse.cell import analysis, plots
from lisse.core import logs
from lisse.workflow.sweep import input_name

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
config = params.config
dimension = config["geometry"]["dimension"]
current, pressure = config["figures"]["current_mA_cm2"], config["figures"]["pressure_MPa"]
eps_dot_0 = analysis.read_eps_dot_0(inputs.calibration, dimension)
critical_fraction = config["stability"]["critical_stable_fraction"]
profiles = {}
for label in params.labels:  # each geometry's tables are in sweep order, the order of the sweep values
    response = analysis.response(inputs[input_name(label, "electrochemistry")], params.currents_A_m2,
                                 inputs[input_name(label, "mechanics")], params.pressures_Pa)
    profiles[label] = response.strain_rate_profile(current * analysis.MA_CM2, pressure * analysis.MPA, eps_dot_0,
                                                   analysis.criterion(config))
if dimension == 3:
    plots.interface_distributions(profiles, current, pressure, output.profiles)
    plots.strain_rate_distributions(profiles, current, pressure, eps_dot_0, output.strain_rates, critical_fraction)
else:
    plots.interface_profiles(
        {label: pd.read_csv(inputs[input_name(label, "electrochemistry_at_figure_point")]) for label in params.labels},
        {label: analysis.mechanics_table(inputs[input_name(label, "mechanics_at_figure_point")], params.stress_scale)
         for label in params.labels},
        current, pressure, output.profiles)
    plots.strain_rate_profiles(profiles, current, pressure, eps_dot_0, output.strain_rates, critical_fraction)
