# Helpers shared by the rules: sweep lists from the validated study.
from dataclasses import asdict


wildcard_constraints:
    geometry="[^/]+",


def geometry_case(wildcards):
    return STUDY.geometries[wildcards.geometry]


def geometry_outputs():
    return expand(
        f"{RESULTS}/geometry/{{geometry}}/{{file}}",
        geometry=STUDY.geometries,
        file=["mesh.msh", "geometry.json", "preview.png"],
    )
