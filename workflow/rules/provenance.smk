rule provenance:
    """What produced these results: config, package versions, git commit, calibration, run times."""
    input:
        unpack(provenance_inputs),
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


rule report_description:
    """The report's first page: the study, its configuration, calibration and score, the figures in reading order."""
    input:
        unpack(report_description_inputs),
    output:
        page=f"{RESULTS}/report_description.rst",
    params:
        config=STUDY.config,
        figures=study_outputs(),
    log:
        f"{RESULTS}/logs/report_description.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/report_description.py"
