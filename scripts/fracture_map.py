"""Rule `fracture_map`: crack / no crack over (current density, flaw size) per case, and critical flaw sizes."""

import pandas as pd

from lisse.core import logs
from lisse.plating.plots import fracture_assessment, write_table

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
output = snakemake.output  # noqa: F821
fracture_map, critical = fracture_assessment(pd.read_csv(snakemake.input.table),  # noqa: F821
                                             **snakemake.params.fracture)  # noqa: F821 (SI)
write_table(fracture_map, output.map)
write_table(critical, output.critical)
log.info("critical flaw sizes:\n%s", critical.to_string(index=False))
