"""Rule `figure_profiles`: interface profiles and strain-rate profiles at the figures' operating point."""

import pandas as pd

from lisse.cell import analysis, plots
from lisse.core import logs

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
config = params.config
current, pressure = config["figures"]["current_mA_cm2"], config["figures"]["pressure_MPa"]
plots.interface_profiles({label: pd.read_csv(path) for label, path in zip(params.labels, inputs.ec)},
                            {label: pd.read_csv(path) for label, path in zip(params.labels, inputs.me)},
                            current, pressure, output.profiles)
eps_dot_0 = analysis.read_eps_dot_0(inputs.calibration)
n_i, n_p = len(params.currents_A_m2), len(params.pressures_Pa)
profiles = {}
for k, label in enumerate(params.labels):
    response = analysis.response(inputs.ec_all[k * n_i:(k + 1) * n_i], params.currents_A_m2,
                                 inputs.me_all[k * n_p:(k + 1) * n_p], params.pressures_Pa)
    profiles[label] = response.strain_rate_profile(current * analysis.MA_CM2, pressure * analysis.MPA, eps_dot_0,
                                                   analysis.criterion(config))
plots.strain_rate_profiles(profiles, current, pressure, eps_dot_0, output.strain_rates)
