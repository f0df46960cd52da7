# Stability criterion on the solved interface fields: calibration of eps_dot_0 on the planar
# cell, dense phase diagrams per geometry (interpolation, no solves), validation against the
# experiments, and the model-form table. Pure post-processing (lisse.cell.stability,
# lisse.cell.analysis).
import re


rule calibration:
    """Fit eps_dot_0 so that the planar cell's CCD at the calibration pressure equals the target."""
    input:
        **CELLS.calibration_tables(),
    output:
        calibration=f"{RESULTS}/calibration.json",
    params:
        currents_A_m2=CELLS.sweep_values("electrochemistry"),
        pressures_Pa=CELLS.sweep_values("mechanics"),
        config=CELLS.analysis_config,
        cell=CELLS.calibration_cell(),
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
        experiments=STUDY.config["experiments"]["file"],
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


rule form_calibration:
    """Fit eps_dot_0 on the planar cell of a model form or sensitivity variant other than the model of record."""
    input:
        unpack(lambda wildcards: CELLS.form_calibration_inputs(wildcards.form)),
    output:
        calibration=f"{RESULTS}/{{models}}/{{form}}/calibration.json",
    params:
        currents_A_m2=lambda wildcards: CELLS.form_sweep_values(wildcards.form)["currents_A_m2"],
        pressures_Pa=lambda wildcards: CELLS.form_sweep_values(wildcards.form)["pressures_Pa"],
        config=lambda wildcards: CELLS.analysis_config_of(wildcards.form),
        cell=lambda wildcards: CELLS.calibration_cell(wildcards.form),
    log:
        f"{RESULTS}/logs/{{models}}/{{form}}/calibration.log",
    wildcard_constraints:
        models="model_forms|sensitivity",
        form="|".join(map(re.escape, CELLS.form_calibration_forms() + CELLS.variant_calibration_names())) or "no_form",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/calibration.py"


rule model_forms:
    """The model-form table: CCD at the calibration pressure and agreement score of each form."""
    input:
        experiments=STUDY.config["experiments"]["file"],
        tables=CELLS.model_form_inputs(),
    output:
        table=report(f"{RESULTS}/model_forms.csv", caption="../report/model_forms.rst", category="Validation"),
        png=report(f"{CELLS.figures}/model_forms.png", caption="../report/model_forms.rst", category="Validation"),
        pdf=f"{CELLS.figures}/model_forms.pdf",
    params:
        forms=CELLS.model_form_cases(),
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/model_forms.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/model_forms.py"
