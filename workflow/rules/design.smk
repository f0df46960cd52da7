# Design guidance from the calibrated model: the design map (the CCD over the grid's width, depth
# and land ratio; one cell, one electrochemistry sweep and one steady mechanics solve per point)
# and the one-at-a-time sensitivity (every variant re-calibrated on its own planar cell by rule
# form_calibration). The solves are the rules of solvers.smk, found by id (lisse.cell.design).


rule design_map:
    """The predicted CCD over the design map's cells at one pressure and temperature, and its figure."""
    input:
        calibration=f"{RESULTS}/calibration.json",
        tables=CELLS.design_inputs(),
    output:
        table=report(f"{RESULTS}/design_map.csv", caption="../report/design_map.rst", category="Design"),
        png=report(f"{CELLS.figures}/design_map.png", caption="../report/design_map.rst", category="Design"),
        pdf=f"{CELLS.figures}/design_map.pdf",
    params:
        points=CELLS.design_points(),
        measured=CELLS.measured_grids(),
        dimension=STUDY.dimension,
        pressure_MPa=STUDY.config["design_map"]["pressure_MPa"],
        temperature_C=CELLS.design_temperature_C,
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/design_map.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/design_map.py"


rule sensitivity:
    """CCD at the calibration pressure and agreement score per variant of each uncertain input; tornado figure."""
    input:
        experiments=STUDY.config["experiments"]["file"],
        tables=CELLS.model_form_inputs(STUDY.variants),
    output:
        table=report(f"{RESULTS}/sensitivity.csv", caption="../report/sensitivity.rst", category="Design"),
        png=report(f"{CELLS.figures}/sensitivity.png", caption="../report/sensitivity.rst", category="Design"),
        pdf=f"{CELLS.figures}/sensitivity.pdf",
    params:
        variants=CELLS.model_form_cases(STUDY.variants),
        channel_widths_um=STUDY.config["sensitivity"]["channel_widths_um"],
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/sensitivity.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/sensitivity.py"
