# Stability criterion on the solved interface fields: calibration of eps_dot_0 on the planar
# cell, dense phase diagrams per geometry (interpolation, no solves), validation against the
# experiments. Pure post-processing (lisse.cell.stability, lisse.cell.analysis).


rule calibration:
    """Fit eps_dot_0 so that the planar cell's CCD at the calibration pressure equals the target."""
    input:
        ec=CELLS.run_files("electrochemistry", CELLS.planar_id, "interface.csv"),
        me=CELLS.run_files("mechanics", CELLS.planar_id, "interface.csv"),
    output:
        calibration=f"{RESULTS}/calibration.json",
    params:
        currents_A_m2=CELLS.sweep_values("electrochemistry"),
        pressures_Pa=CELLS.sweep_values("mechanics"),
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/calibration.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/calibration.py"


rule stability:
    """Classify the (i_app, P) plane of one geometry and trace its boundary CCD(P)."""
    input:
        ec=lambda wildcards: CELLS.run_files("electrochemistry", wildcards.geometry, "interface.csv"),
        me=lambda wildcards: CELLS.run_files("mechanics", wildcards.geometry, "interface.csv"),
        calibration=f"{RESULTS}/calibration.json",
    output:
        diagram=f"{RESULTS}/stability/{{geometry}}/phase_diagram.csv",
        ccd=f"{RESULTS}/stability/{{geometry}}/ccd.csv",
    params:
        currents_A_m2=CELLS.sweep_values("electrochemistry"),
        pressures_Pa=CELLS.sweep_values("mechanics"),
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/stability/{{geometry}}.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/stability.py"


rule validation:
    """Classify every experiment with the calibrated model; score the agreement."""
    input:
        experiments=config["experiments"]["file"],
        calibration=f"{RESULTS}/calibration.json",
        interfaces=CELLS.validation_inputs(),
    output:
        table=report(
            f"{RESULTS}/validation.csv",
            caption="../report/validation.rst",
            category="Validation",
        ),
    params:
        cases=CELLS.validation_cases(),
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/validation.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/validation.py"
