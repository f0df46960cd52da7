"""Rule `provenance`: config, versions, git commit, calibrated constant and solver run times in one JSON."""

import json

from lisse.cell import analysis
from lisse.core import logs, provenance
from lisse.core.atomic import write_json_atomically

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs = snakemake.input  # noqa: F821
times = {solver: sum((float(summary.get("wall_time_s", summary.get("solve_time_s", 0.0)))
                      for summary in (json.loads(open(path).read()) for path in inputs[solver])), 0.0)
         for solver in ("electrochemistry", "mechanics")}
agree, total = analysis.agreement_score(inputs.validation)
record = provenance.collect(config=snakemake.params.config,  # noqa: F821
                            calibration=json.loads(open(inputs.calibration).read()),
                            solver_time_s=times, solves=len(inputs.electrochemistry) + len(inputs.mechanics),
                            agreement={"agree": agree, "validation_points": total})
write_json_atomically(snakemake.output.provenance, record)  # noqa: F821
