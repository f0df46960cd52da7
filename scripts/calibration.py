"""Rule `calibration` (and `form_calibration`): fit eps_dot_0 to the planar cell's measured CCD (or
take the literature value), on the planar cell of the model's own dimension."""

from lisse.cell import analysis
from lisse.core import logs
from lisse.core.atomic import write_json_atomically

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
config, cell = snakemake.params.config, snakemake.params.cell  # noqa: F821
record = analysis.calibration_record(snakemake.input.ec, snakemake.params.currents_A_m2,  # noqa: F821
                                     snakemake.input.me, snakemake.params.pressures_Pa, config, cell)  # noqa: F821
if record["calibrated"]:
    log.info("calibrated on the %dD %s (%s mechanics): eps_dot_0 = %.4e 1/s (literature %.3e), CCD %.4f mA/cm2 at "
             "%g MPa, residual %.2e", cell["dimension"], cell["label"], cell["method"], record["eps_dot_0_per_s"],
             record["literature_eps_dot_0_per_s"], record["predicted_ccd_mA_cm2"], record["pressure_MPa"],
             record["residual"])
else:
    log.info("calibration off: literature eps_dot_0 = %.4e 1/s", record["eps_dot_0_per_s"])
write_json_atomically(snakemake.output.calibration, record)  # noqa: F821
