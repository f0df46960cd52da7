"""Rule `figure_phase_diagrams`: phase diagrams per geometry, boundary overlay, CCD vs channel width."""

import numpy as np
import pandas as pd

from lisse.cell import analysis, plots
from lisse.cell.experiments import read_experiments
from lisse.core import logs
from lisse.workflow.sweep import input_name

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs, params, output = snakemake.input, snakemake.params, snakemake.output  # noqa: F821
config = params.config
widths = params.channel_widths_um  # geometry label -> channel width (um), in the study's order
diagrams = {label: pd.read_csv(inputs[input_name(label, "phase_diagram")]) for label in widths}
ccds = {label: pd.read_csv(inputs[input_name(label, "ccd")]) for label in widths}
experiments = read_experiments(inputs.experiments, default_temperature_C=config["temperature_C"])
eps_dot_0 = analysis.read_eps_dot_0(inputs.calibration, config["geometry"]["dimension"])
plots.phase_diagrams(diagrams, ccds, experiments, config["stability"]["critical_stable_fraction"], eps_dot_0,
                        output.diagrams)
plots.phase_boundaries(ccds, experiments, output.boundaries)

pressure = config["stability"]["calibration_pressure_MPa"]
at_pressure = pd.DataFrame([
    {"geometry": label, "channel_width_um": widths[label], "pressure_MPa": pressure,
     "ccd_mA_cm2": float(np.exp(np.interp(np.log(pressure), np.log(ccd["pressure_MPa"]), np.log(ccd["ccd_mA_cm2"]))))}
    for label, ccd in ccds.items()
])
at_pressure.to_csv(output.ccd_table, index=False)
plots.ccd_vs_channel_width(at_pressure, experiments, pressure, output.ccd)
for row in at_pressure.itertuples():
    log.info("CCD at %g MPa, %s: %.3f mA/cm2", pressure, row.geometry, row.ccd_mA_cm2)
