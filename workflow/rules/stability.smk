# Stability criterion on the solved interface fields: calibration of eps_dot_0 on the planar
# cell, dense phase diagrams per geometry (interpolation, no solves), validation against the
# experiments. Pure post-processing (lisse.cell.stability, lisse.cell.analysis).


rule calibration:
    """Fit eps_dot_0 so that the planar cell's CCD at the calibration pressure equals the target."""
    input:
        ec=lambda wildcards: solver_files("electrochemistry", planar_id(), "interface.csv"),
        me=lambda wildcards: solver_files("mechanics", planar_id(), "interface.csv"),
    output:
        calibration=f"{RESULTS}/calibration.json",
    params:
        currents_A_m2=sweep_values("electrochemistry"),
        pressures_Pa=sweep_values("mechanics"),
        config=ANALYSIS_CONFIG,
    log:
        f"{RESULTS}/logs/calibration.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/calibration.py"


rule stability:
    """Classify the (i_app, P) plane of one geometry and trace its boundary CCD(P)."""
    input:
        ec=lambda wildcards: solver_files("electrochemistry", wildcards.geometry, "interface.csv"),
        me=lambda wildcards: solver_files("mechanics", wildcards.geometry, "interface.csv"),
        calibration=f"{RESULTS}/calibration.json",
    output:
        diagram=f"{RESULTS}/stability/{{geometry}}/phase_diagram.csv",
        ccd=f"{RESULTS}/stability/{{geometry}}/ccd.csv",
    params:
        currents_A_m2=sweep_values("electrochemistry"),
        pressures_Pa=sweep_values("mechanics"),
        config=ANALYSIS_CONFIG,
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
        interfaces=lambda wildcards: [
            path for case in validation_cases().values() for path in case["ec"] + case["me"]
        ],
    output:
        table=report(
            f"{RESULTS}/validation.csv",
            caption="../report/validation.rst",
            category="Validation",
        ),
    params:
        cases=validation_cases(),
        config=ANALYSIS_CONFIG,
    log:
        f"{RESULTS}/logs/validation.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/validation.py"
