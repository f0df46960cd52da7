# Study B (Nat. Commun. 2022; README, "Study B"): plating-induced stress in Li under a rigid current-collector
# tip and fracture of LLZO at a surface pit. Geometries per flaw size, one FE solve per
# (constraint case x flaw size x current density), then the sweep table, the fracture map
# and the figures. Parameters: the `plating:` section of the validated config; ids and paths
# come from lisse.plating.sweep.PlatingSweep (SWEEP.outputs() lists every product).
import json
from dataclasses import asdict

from lisse.plating.geometry import zoom_box_nm
from lisse.plating.sweep import PlatingSweep, config_problems
from lisse.workflow.config import ConfigError

if config_problems(STUDY.config["plating"]):  # before any job is planned
    raise ConfigError(config_problems(STUDY.config["plating"]))
SWEEP = PlatingSweep(STUDY.config["plating"], RESULTS)


rule plating_geometry:
    """Build and mesh the LLZO plate with its pit, the Li layer and the CC tip arc for one flaw size."""
    output:
        mesh=f"{SWEEP.directory}/geometry/{{plating_geometry}}/mesh.msh",
        facts=f"{SWEEP.directory}/geometry/{{plating_geometry}}/geometry.json",
        preview=report(
            f"{SWEEP.directory}/geometry/{{plating_geometry}}/preview.png",
            caption="../report/plating_geometry.rst",
            category="Study B",
            subcategory="Geometry",
            labels=lambda wildcards: {"flaw size (nm)": f"{SWEEP.flaw_size_nm(wildcards.plating_geometry):g}"},
        ),
    params:
        label=lambda wildcards: f"a = {SWEEP.flaw_size_nm(wildcards.plating_geometry):g} nm",
        geometry=lambda wildcards: asdict(SWEEP.geometry(wildcards.plating_geometry)[0]),
        sizing=lambda wildcards: asdict(SWEEP.geometry(wildcards.plating_geometry)[1]),
        zoom_box_nm=lambda wildcards: zoom_box_nm(SWEEP.geometry(wildcards.plating_geometry)[0]),
    log:
        f"{RESULTS}/logs/plating_geometry/{{plating_geometry}}.log",
    wildcard_constraints:
        plating_geometry="a~[^/]+",
    conda:
        "../envs/lisse.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/plating_geometry.py"


rule plating_calibration:
    """Fit the deposition time to the study's reported pressure (deposition: duration, duration_s: null)."""
    input:
        mesh=f"{SWEEP.directory}/geometry/{SWEEP.calibration_geometry}/mesh.msh",
        facts=f"{SWEEP.directory}/geometry/{SWEEP.calibration_geometry}/geometry.json",
    output:
        record=SWEEP.calibration_file,
    params:
        parameters=SWEEP.calibration_parameters_json(),
        target=json.dumps(SWEEP.calibration_target()),
        source="Nat. Commun. 2022, Fig. 4d and text (maximum Li pressure; config plating.calibration)",
    log:
        f"{RESULTS}/logs/plating_calibration.log",
    conda:
        "../envs/lisse.yaml"
    resources:
        mem_mb=3000,
        runtime=30,
    shell:  # one serial process: a few solves of seconds each (and no MPI job for SLURM to refuse at 1 task)
        "python scripts/plating_calibration.py --mesh {input.mesh} --geometry {input.facts}"
        " --parameters '{params.parameters}' --target '{params.target}' --source '{params.source}'"
        " --output {output.record} > {log} 2>&1"


rule plating:
    """Plate at one current density under one constraint case (finite strain, Norton Li), for the
    deposition time (fitted or given) or to the plated thickness."""
    input:
        mesh=f"{SWEEP.directory}/geometry/{{plating_geometry}}/mesh.msh",
        facts=f"{SWEEP.directory}/geometry/{{plating_geometry}}/geometry.json",
        calibration=[SWEEP.calibration_file] if SWEEP.calibrated else [],
    output:
        history=f"{SWEEP.directory}/{{constraint}}/{{plating_geometry}}/i~{{current}}mA_cm2_{SWEEP.run_digest}/history.csv",
        summary=f"{SWEEP.directory}/{{constraint}}/{{plating_geometry}}/i~{{current}}mA_cm2_{SWEEP.run_digest}/summary.json",
        fields=directory(f"{SWEEP.directory}/{{constraint}}/{{plating_geometry}}/i~{{current}}mA_cm2_{SWEEP.run_digest}/fields.bp"),
        vtu=f"{SWEEP.directory}/{{constraint}}/{{plating_geometry}}/i~{{current}}mA_cm2_{SWEEP.run_digest}/fields.vtu",
    params:
        parameters=lambda wildcards: SWEEP.parameters_json(wildcards.constraint, wildcards.current),
        calibration=f"--calibration {SWEEP.calibration_file}" if SWEEP.calibrated else "",
    log:
        f"{RESULTS}/logs/plating/{{constraint}}/{{plating_geometry}}/i~{{current}}mA_cm2_{SWEEP.run_digest}.log",
    wildcard_constraints:
        constraint="top|top_lateral|none",
        plating_geometry="a~[^/]+",
        current="[0-9.]+(e[-+]?[0-9]+)?",
    conda:
        "../envs/lisse.yaml"
    resources:
        mpi="mpiexec",
        tasks=config["solver"]["mpi_ranks"],
        mem_mb=3000,
        runtime=30,
    shell:
        "{resources.mpi} -n {resources.tasks} python scripts/plating.py"
        " --mesh {input.mesh} --geometry {input.facts} --parameters '{params.parameters}'"
        " --history {output.history} --summary {output.summary} --fields {output.fields}"
        " --vtu {output.vtu} {params.calibration}"
        " > {log} 2>&1"


rule plating_summary:
    """One table of every plating run: case, flaw size, current, p, sigma_1 and solver facts."""
    input:
        summaries=SWEEP.run_files("summary.json"),
    output:
        table=f"{RESULTS}/plating_summary.csv",
    log:
        f"{RESULTS}/logs/plating_summary.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/plating_summary.py"


rule fracture_map:
    """Crack / no crack over (current density, flaw size) per case: FE sigma_1 vs sigma_c(a) and 16.1 GPa."""
    input:
        table=f"{RESULTS}/plating_summary.csv",
    output:
        map=f"{SWEEP.directory}/fracture_map.csv",
        critical=f"{SWEEP.directory}/critical_flaw_size.csv",
    params:
        fracture=SWEEP.fracture_parameters(),  # SI
    log:
        f"{RESULTS}/logs/fracture_map.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/fracture_map.py"


rule plating_figure_rates:
    """p in the Li and sigma_1 at the pit tip vs current density, per case and flaw size (log-log)."""
    input:
        table=f"{RESULTS}/plating_summary.csv",
    output:
        png=report(
            f"{SWEEP.figures}/plating_stress_vs_current.png",
            caption="../report/plating_stress_vs_current.rst",
            category="Study B",
            subcategory="Figures",
        ),
        pdf=f"{SWEEP.figures}/plating_stress_vs_current.pdf",
    log:
        f"{RESULTS}/logs/figures/plating_stress_vs_current.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/plating_figure_rates.py"


rule plating_figure_fields:
    """Li pressure and LLZO sigma_1 fields per case at a low and a high current density."""
    input:
        **SWEEP.field_inputs(),  # one VTU per panel, named <case>_<current>mA_cm2
    output:
        png=report(
            f"{SWEEP.figures}/plating_fields.png",
            caption="../report/plating_fields.rst",
            category="Study B",
            subcategory="Figures",
        ),
        pdf=f"{SWEEP.figures}/plating_fields.pdf",
    params:
        panels=SWEEP.field_panels_by_input(),  # input name -> case, current, window
    log:
        f"{RESULTS}/logs/figures/plating_fields.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/plating_figure_fields.py"


rule plating_figure_fracture_map:
    """Fracture maps over (current density, flaw size), one panel per constraint case."""
    input:
        map=f"{SWEEP.directory}/fracture_map.csv",
    output:
        png=report(
            f"{SWEEP.figures}/plating_fracture_map.png",
            caption="../report/plating_fracture_map.rst",
            category="Study B",
            subcategory="Figures",
        ),
        pdf=f"{SWEEP.figures}/plating_fracture_map.pdf",
    log:
        f"{RESULTS}/logs/figures/plating_fracture_map.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/plating_figure_fracture_map.py"


rule plating_vs_paper:
    """The model against every value the study reports (Fig. 4 and text): table and dot chart."""
    input:
        table=f"{RESULTS}/plating_summary.csv",
        calibration=[SWEEP.calibration_file] if SWEEP.calibrated else [],
    output:
        table=f"{RESULTS}/plating_vs_paper.csv",
        png=report(
            f"{SWEEP.figures}/plating_vs_paper.png",
            caption="../report/plating_vs_paper.rst",
            category="Study B",
            subcategory="Figures",
        ),
        pdf=f"{SWEEP.figures}/plating_vs_paper.pdf",
    params:
        flaw_size_nm=SWEEP.config["figures"]["flaw_size_nm"],
        contact_half_width_m=SWEEP.config["contact_half_width_nm"] * 1e-9,  # nm -> m
    log:
        f"{RESULTS}/logs/figures/plating_vs_paper.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/plating_vs_paper.py"
