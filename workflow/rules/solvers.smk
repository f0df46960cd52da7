# Finite-element solves per geometry x sweep value. The electrochemistry does not depend on
# the stack pressure and the mechanics not on the current, so a study needs N_i + N_P solves
# per geometry, and N_i + 1 with the steady mechanics (one solve serves every P and T). Each
# solve runs under MPI with solver.mpi_ranks ranks: `mpiexec -n` locally, the executor's
# launcher on a cluster.


rule electrochemistry:
    """Steady Butler-Volmer current distribution on one geometry at one applied current."""
    input:
        mesh=f"{RESULTS}/geometry/{{geometry}}/mesh.msh",
        facts=f"{RESULTS}/geometry/{{geometry}}/geometry.json",
    output:
        interface=f"{RESULTS}/electrochemistry/{{geometry}}/{{run}}/interface.csv",
        summary=f"{RESULTS}/electrochemistry/{{geometry}}/{{run}}/summary.json",
        fields=directory(f"{RESULTS}/electrochemistry/{{geometry}}/{{run}}/fields.bp"),
        vtu=f"{RESULTS}/electrochemistry/{{geometry}}/{{run}}/fields.vtu",
    params:
        parameters=lambda wildcards: CELLS.parameters_json("electrochemistry", wildcards.run),
    log:
        f"{RESULTS}/logs/electrochemistry/{{geometry}}/{{run}}.log",
    conda:
        "../envs/lisse.yaml"
    resources:
        mpi="mpiexec",
        tasks=config["solver"]["mpi_ranks"],
        mem_mb=4000,
        runtime=30,
    shell:
        "{resources.mpi} -n {resources.tasks} python scripts/electrochemistry.py"
        " --mesh {input.mesh} --geometry {input.facts} --parameters '{params.parameters}'"
        " --interface {output.interface} --summary {output.summary} --fields {output.fields}"
        " --vtu {output.vtu}"
        " > {log} 2>&1"


rule mechanics:
    """Li creep stress under stack pressure on one geometry: the steady flow, or the transient to t_eval."""
    input:
        mesh=f"{RESULTS}/geometry/{{geometry}}/mesh.msh",
        facts=f"{RESULTS}/geometry/{{geometry}}/geometry.json",
        calibration=lambda wildcards: CELLS.calibration_input(wildcards.geometry, wildcards.run),
    output:
        interface=f"{RESULTS}/mechanics/{{geometry}}/{{run}}/interface.csv",
        summary=f"{RESULTS}/mechanics/{{geometry}}/{{run}}/summary.json",
        fields=directory(f"{RESULTS}/mechanics/{{geometry}}/{{run}}/fields.bp"),
        vtu=f"{RESULTS}/mechanics/{{geometry}}/{{run}}/fields.vtu",
    params:
        parameters=lambda wildcards: CELLS.parameters_json("mechanics", wildcards.run),
        calibration=lambda wildcards, input: (
            f"--calibration {input.calibration}" if input.calibration else ""
        ),
    log:
        f"{RESULTS}/logs/mechanics/{{geometry}}/{{run}}.log",
    conda:
        "../envs/lisse.yaml"
    resources:
        mpi="mpiexec",
        tasks=config["solver"]["mpi_ranks"],
        mem_mb=4000,
        runtime=60,
    shell:
        "{resources.mpi} -n {resources.tasks} python scripts/mechanics.py"
        " --mesh {input.mesh} --geometry {input.facts} --parameters '{params.parameters}'"
        " --interface {output.interface} --summary {output.summary} --fields {output.fields}"
        " --vtu {output.vtu} {params.calibration}"
        " > {log} 2>&1"


rule solver_summary:
    """One table of every solve of a kind: geometry, sweep value and the summary numbers."""
    input:
        summaries=lambda wildcards: CELLS.solver_outputs(wildcards.solver, "summary.json"),
    output:
        table=f"{RESULTS}/{{solver}}_summary.csv",
    params:
        labels=lambda wildcards: CELLS.solver_labels(wildcards.solver),  # by summary path
    log:
        f"{RESULTS}/logs/{{solver}}_summary.log",
    wildcard_constraints:
        solver="electrochemistry|mechanics",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/solver_summary.py"
