rule provenance:
    """What produced these results: config, package versions, git commit, calibration, run times."""
    input:
        calibration=f"{RESULTS}/calibration.json",
        electrochemistry=CELLS.solver_outputs("electrochemistry", "summary.json"),
        mechanics=CELLS.solver_outputs("mechanics", "summary.json"),
        validation=f"{RESULTS}/validation.csv",
    output:
        provenance=f"{RESULTS}/provenance.json",
    params:
        config=STUDY.config,
    log:
        f"{RESULTS}/logs/provenance.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/provenance.py"
