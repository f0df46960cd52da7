"""Rule `provenance`: config, versions, git commit, calibrated constant, solver run times and score in one JSON."""

import json

import pandas as pd

from lisse.cell import analysis
from lisse.core import logs, provenance
from lisse.core.atomic import write_json_atomically

logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
inputs = snakemake.input  # noqa: F821
record = {}
if "calibration" in inputs.keys():  # Study A
    times = {solver: sum((float(summary.get("wall_time_s", summary.get("solve_time_s", 0.0)))
                          for summary in (json.loads(open(path).read()) for path in inputs[solver])), 0.0)
             for solver in ("electrochemistry", "mechanics")}
    agree, total = analysis.agreement_score(inputs.validation)
    record.update(calibration=json.loads(open(inputs.calibration).read()), solver_time_s=times,
                  solves=len(inputs.electrochemistry) + len(inputs.mechanics),
                  agreement={"agree": agree, "validation_points": total})
if "plating" in inputs.keys():  # Study B
    plating = pd.read_csv(inputs.plating)
    record["plating"] = {"solves": len(plating), "solver_time_s": float(plating["wall_time_s"].sum())}
write_json_atomically(snakemake.output.provenance,  # noqa: F821
                      provenance.collect(config=snakemake.params.config, **record))  # noqa: F821
