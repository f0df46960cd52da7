rule geometry:
    """Build and mesh one half-cell cross-section with Gmsh; write its facts and a preview."""
    output:
        mesh=f"{RESULTS}/geometry/{{geometry}}/mesh.msh",
        facts=f"{RESULTS}/geometry/{{geometry}}/geometry.json",
        preview=report(
            f"{RESULTS}/geometry/{{geometry}}/preview.png",
            caption="../report/geometry_preview.rst",
            category="Geometry",
            labels=lambda wildcards: {"geometry": geometry_case(wildcards).label},
        ),
    params:
        label=lambda wildcards: geometry_case(wildcards).label,
        geometry=lambda wildcards: asdict(geometry_case(wildcards).geometry),
        sizing=lambda wildcards: asdict(geometry_case(wildcards).sizing),
        zoom_box_um=lambda wildcards: geometry_case(wildcards).zoom_box_um(),
    log:
        f"{RESULTS}/logs/geometry/{{geometry}}.log",
    conda:
        "../envs/lisse.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/geometry.py"
