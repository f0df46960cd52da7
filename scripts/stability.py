"""Rule `stability`: phase diagram and CCD(P) of one geometry from its solved interface fields."""

from lisse.cell import analysis
from lisse.core import logs

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
config = snakemake.params.config  # noqa: F821
response = analysis.response(snakemake.input.ec, snakemake.params.currents_A_m2,  # noqa: F821
                             snakemake.input.me, snakemake.params.pressures_Pa)  # noqa: F821
eps_dot_0 = analysis.read_eps_dot_0(snakemake.input.calibration, config["geometry"]["dimension"])  # noqa: F821
diagram, ccd = analysis.phase_diagram(response, eps_dot_0, config)
diagram.to_csv(snakemake.output.diagram, index=False)  # noqa: F821
ccd.to_csv(snakemake.output.ccd, index=False)  # noqa: F821
at = config["stability"]["calibration_pressure_MPa"]
log.info("eps_dot_0 = %.4e 1/s; %d of %d grid points stable; CCD(%g MPa) = %s mA/cm2", eps_dot_0,
         int(diagram["stable"].sum()), len(diagram), at, analysis.critical_current_mA_cm2(response, at, eps_dot_0, config))
