"""Rule `calibration`: fit eps_dot_0 to the planar cell's measured CCD (or take the literature value)."""

from lisse.cell import analysis
from lisse.cell.stability import calibrate_creep_prefactor
from lisse.core import logs
from lisse.core.atomic import write_json_atomically
from lisse.core.units import kelvin

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
config = snakemake.params.config  # noqa: F821
st, me = config["stability"], config["mechanics"]
literature = analysis.creep_prefactor_at(me["creep_rate_ref_per_s"], kelvin(config["temperature_C"]),
                                         kelvin(me["creep_reference_temperature_C"]), config)
record = {"temperature_C": config["temperature_C"], "literature_eps_dot_0_per_s": literature,
          "calibrated": st["calibrate"]}
if st["calibrate"]:
    planar = analysis.response(snakemake.input.ec, snakemake.params.currents_A_m2,  # noqa: F821
                               snakemake.input.me, snakemake.params.pressures_Pa)  # noqa: F821
    fit = calibrate_creep_prefactor(planar, st["calibration_target_ccd_mA_cm2"] * analysis.MA_CM2,
                                    st["calibration_pressure_MPa"] * analysis.MPA, criterion=analysis.criterion(config))
    record.update(eps_dot_0_per_s=fit.eps_dot_0, bracket_per_s=list(fit.bracket), residual=fit.residual,
                  iterations=fit.iterations, target_ccd_mA_cm2=st["calibration_target_ccd_mA_cm2"],
                  predicted_ccd_mA_cm2=fit.critical_current_density_A_m2 / analysis.MA_CM2,
                  pressure_MPa=st["calibration_pressure_MPa"], geometry="planar")
    log.info("calibrated eps_dot_0 = %.4e 1/s (literature %.3e), CCD %.4f mA/cm2 at %g MPa, residual %.2e",
             fit.eps_dot_0, literature, record["predicted_ccd_mA_cm2"], st["calibration_pressure_MPa"], fit.residual)
else:
    record["eps_dot_0_per_s"] = literature
    log.info("calibration off: literature eps_dot_0 = %.4e 1/s", literature)
write_json_atomically(snakemake.output.calibration, record)  # noqa: F821
