rule geometry:
    """Build and mesh one half-cell cross-section with Gmsh; write its facts and a preview."""
    output:
        mesh=f"{RESULTS}/geometry/{{geometry}}/mesh.msh",
        facts=f"{RESULTS}/geometry/{{geometry}}/geometry.json",
        preview=report(
            f"{RESULTS}/geometry/{{geometry}}/preview.png",
            caption="../report/geometry_preview.rst",
            category="Geometry",
            labels=lambda wildcards: {"geometry": CELLS.label(wildcards.geometry)},
        ),
    params:
        label=lambda wildcards: CELLS.label(wildcards.geometry),
        geometry=lambda wildcards: CELLS.geometry_parameters(wildcards.geometry),
        sizing=lambda wildcards: CELLS.sizing_parameters(wildcards.geometry),
        zoom_box_um=lambda wildcards: CELLS.case(wildcards.geometry).zoom_box_um(),
    log:
        f"{RESULTS}/logs/geometry/{{geometry}}.log",
    conda:
        "../envs/lisse.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/geometry.py"
