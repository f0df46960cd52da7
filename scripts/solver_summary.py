"""Rule `solver_summary`: collect every solve's summary.json of one solver into one CSV."""

import json

import pandas as pd

from lisse.core import logs

log = logs.setup(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
labels_of = snakemake.params.labels  # noqa: F821 (summary path -> geometry label, width, ids)
rows = []
for path in snakemake.input.summaries:  # noqa: F821
    summary = json.loads(open(path).read())
    flat = {key: value for key, value in summary.items() if not isinstance(value, (dict, list))}
    for key, value in summary.items():  # one level of nesting, e.g. per-segment means
        if isinstance(value, dict):
            flat.update({f"{key}.{sub}": v for sub, v in value.items() if not isinstance(v, (dict, list))})
    rows.append({**flat, **labels_of[str(path)]})  # the workflow labels win over same-named summary keys
table = pd.DataFrame(rows)
table.to_csv(snakemake.output.table, index=False)  # noqa: F821
log.info("%d solves collected into %s", len(table), snakemake.output.table)  # noqa: F821
