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
# the solved currents: where the diagrams are interpolated, not extrapolated
solved = pd.concat(diagrams.values()).query("not extrapolated")["current_mA_cm2"]
current_range = (solved.min(), solved.max()) if len(solved) else tuple(config["stability"]["current_range_mA_cm2"])
plots.phase_boundaries(ccds, experiments, output.boundaries, current_range)

pressure = config["stability"]["calibration_pressure_MPa"]
at_pressure = pd.DataFrame([
    {"geometry": label, "channel_width_um": widths[label], "pressure_MPa": pressure,
     "ccd_mA_cm2": float(np.exp(np.interp(np.log(pressure), np.log(ccd["pressure_MPa"]), np.log(ccd["ccd_mA_cm2"])))),
     # at the pressure row nearest the calibration pressure: the boundary's status (NaN CCD: why) and whether
     # the CCD lies outside the solved currents (the fields held, not interpolated)
     **ccd[["status", "extrapolated"]].iloc[int(np.argmin(np.abs(np.log(ccd["pressure_MPa"] / pressure))))].to_dict()}
    for label, ccd in ccds.items()
])
at_pressure.to_csv(output.ccd_table, index=False)
plots.ccd_vs_channel_width(at_pressure, experiments, pressure, output.ccd, current_range)
for row in at_pressure.itertuples():
    log.info("CCD at %g MPa, %s: %.3f mA/cm2", pressure, row.geometry, row.ccd_mA_cm2)
