# Glue shared by the rules: wildcard constraints and Study A's sweep. Ids, paths, sweep values
# and per-geometry inputs come from lisse.workflow.sweep.CellSweep (CELLS).
from lisse.workflow.sweep import CellSweep

CELLS = CellSweep(STUDY)


wildcard_constraints:
    geometry="[^/]+",
    run="[^/]+",


def print_agreement_score():
    """Printed when the run ends: how many experiments the calibrated model gets right."""
    import os

    path = f"{RESULTS}/validation.csv"
    if os.path.exists(path):
        from lisse.cell.analysis import agreement_score

        agree, total = agreement_score(path)
        print(f"lisse: model agrees with {agree} of {total} experiments ({path}); results in {RESULTS}/")
