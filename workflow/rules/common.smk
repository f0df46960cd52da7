# Glue shared by the rules: wildcard constraints, the study's targets and the end-of-run score.
# Study A's ids, paths, sweep values and per-geometry inputs come from
# lisse.workflow.sweep.CellSweep (CELLS); Study B's from lisse.plating.sweep.PlatingSweep (SWEEP).
from lisse.workflow.cost import print_cost_estimate
from lisse.workflow.sweep import CellSweep

CELLS = CellSweep(STUDY)
print_cost_estimate(STUDY)  # on every plan, a dry run too


wildcard_constraints:
    geometry="[^/]+",
    run="[^/]+",


def study_outputs():
    """Every product of the studies this config runs (config key `studies`)."""
    outputs = []
    if STUDY.runs("cells"):
        outputs += CELLS.geometry_outputs()
        outputs += [f"{RESULTS}/{table}.csv" for table in ("electrochemistry_summary", "mechanics_summary", "validation")]
        outputs += CELLS.figure_outputs()
        outputs += CELLS.design_outputs()
    if STUDY.runs("plating"):
        outputs += SWEEP.outputs()
    return outputs


def provenance_inputs(wildcards):
    """What the provenance record summarises: Study A's calibration, solves and score; Study B's table."""
    inputs = {}
    if STUDY.runs("cells"):
        inputs.update(
            calibration=f"{RESULTS}/calibration.json",
            electrochemistry=CELLS.solver_outputs("electrochemistry", "summary.json"),
            mechanics=CELLS.solver_outputs("mechanics", "summary.json"),
            validation=f"{RESULTS}/validation.csv",
        )
    if STUDY.runs("plating"):
        inputs.update(plating=f"{RESULTS}/plating_summary.csv", plating_vs_paper=f"{RESULTS}/plating_vs_paper.csv")
        if SWEEP.calibrated:
            inputs["plating_calibration"] = SWEEP.calibration_file
    return inputs


def report_description_inputs(wildcards):
    """The results the report's first page summarises."""
    inputs = {}
    if STUDY.runs("cells"):
        inputs.update(calibration=f"{RESULTS}/calibration.json", validation=f"{RESULTS}/validation.csv",
                      ccd=f"{RESULTS}/ccd_at_calibration_pressure.csv")
    if STUDY.runs("plating"):
        inputs.update(plating=f"{RESULTS}/plating_summary.csv", plating_vs_paper=f"{RESULTS}/plating_vs_paper.csv")
        if SWEEP.calibrated:
            inputs["plating_calibration"] = SWEEP.calibration_file
    return inputs


def print_agreement_score():
    """Printed when the run ends: how many experiments the calibrated model gets right."""
    import os

    path = f"{RESULTS}/validation.csv"
    if STUDY.runs("cells") and os.path.exists(path):
        from lisse.cell.analysis import agreement_score

        agree, total = agreement_score(path)
        print(f"lisse: model agrees with {agree} of {total} experiments ({path}); results in {RESULTS}/")
    else:
        print(f"lisse: results in {RESULTS}/")
