"""Rule `validation`: the calibrated model's verdict on every experiment, and the agreement score."""

from lisse.cell import analysis
from lisse.core import logs

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
config = snakemake.params.config  # noqa: F821
eps_dot_0 = analysis.read_eps_dot_0(snakemake.input.calibration, config["geometry"]["dimension"])  # noqa: F821
table = analysis.validation_table(snakemake.input.experiments, snakemake.params.cases, eps_dot_0, config)  # noqa: F821
table.to_csv(snakemake.output.table, index=False)  # noqa: F821
scored = table[table["role"] == "validation"]
log.info("agreement: %d of %d validation points (%s)", int(scored["agree"].sum()), len(scored),
         ", ".join(f"{r.geometry} {r.current_mA_cm2:g} mA/cm2 {r.outcome}->{r.model}" for r in scored.itertuples()))
