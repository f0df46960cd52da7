# Helpers shared by the rules: sweep lists from the validated study.
import json
from dataclasses import asdict


wildcard_constraints:
    geometry="[^/]+",
    run="[^/]+",


def geometry_case(wildcards):
    return STUDY.case(wildcards.geometry)


def geometry_outputs():
    return expand(
        f"{RESULTS}/geometry/{{geometry}}/{{file}}",
        geometry=[*STUDY.geometries, *STUDY.unit_cells_3d],
        file=["mesh.msh", "geometry.json", "preview.png"],
    )


def unit_cell_3d_pairs():
    """(geometry id, dimension) of every 3D unit cell and of the 2D cross-section of the same width."""
    pairs = []
    for geometry, case in STUDY.unit_cells_3d.items():
        pairs.append((geometry, 3))
        if case.channel_width_um in [c.channel_width_um for c in STUDY.geometries.values()]:
            pairs.append((STUDY.geometry_id(case.channel_width_um), 2))
    return pairs


def unit_cell_3d_runs(solver):
    """Runs of the 3D unit cells (and their 2D cross-sections): every current of the study for
    the electrochemistry, the pressures of unit_cell_3d.stack_pressures_MPa for the mechanics."""
    runs = STUDY.runs_at(solver)
    if solver == "electrochemistry":
        return list(runs)
    pressures = STUDY.config["unit_cell_3d"]["stack_pressures_MPa"]
    return [run for run, p in runs.items() if any(abs(p["stack_pressure"] - P * 1e6) < 1e-6 for P in pressures)]


def unit_cell_3d_files(solver, file):
    """``file`` of every 3D unit cell and 2D cross-section (outer) at each of its runs (inner)."""
    return [
        f"{RESULTS}/{solver}/{geometry}/{run}/{file}"
        for geometry, _ in unit_cell_3d_pairs()
        for run in unit_cell_3d_runs(solver)
    ]


def unit_cell_3d_sweep_values(solver):
    """i_app (A/m²) or P (Pa) of each run of unit_cell_3d_runs(solver)."""
    key = "applied_current_density" if solver == "electrochemistry" else "stack_pressure"
    runs = STUDY.runs_at(solver)
    return [runs[run][key] for run in unit_cell_3d_runs(solver)]


def unit_cell_3d_labels(solver):
    return [
        {"geometry": STUDY.case(geometry).label, "channel_width_um": STUDY.case(geometry).channel_width_um,
         "dimension": dimension}
        for geometry, dimension in unit_cell_3d_pairs()
        for run in unit_cell_3d_runs(solver)
    ]


def unit_cell_3d_render_vtu():
    """The 3D field shown in the figure: the first 3D unit cell at the figures' current."""
    current = STUDY.config["figures"]["current_mA_cm2"] * 10.0
    run = next(r for r, p in STUDY.runs_at("electrochemistry").items() if abs(p["applied_current_density"] - current) < 1e-9)
    return f"{RESULTS}/electrochemistry/{next(iter(STUDY.unit_cells_3d))}/{run}/fields.vtu"


def solver_runs(solver):
    return STUDY.electrochemistry if solver == "electrochemistry" else STUDY.mechanics


def solver_outputs(solver, file):
    return [
        f"{RESULTS}/{solver}/{geometry}/{run}/{file}"
        for geometry in STUDY.geometries
        for run in solver_runs(solver)
    ]


def solver_labels(solver):
    """Per summary file: geometry label, channel width and the run's sweep value (lab units)."""
    return [
        {
            "geometry": case.label,
            "channel_width_um": case.channel_width_um,
            "geometry_id": geometry,
            "run_id": run,
        }
        for geometry, case in STUDY.geometries.items()
        for run in solver_runs(solver)
    ]


# Sections of the validated config the post-processing needs (params: changes rerun them).
ANALYSIS_CONFIG = {
    key: STUDY.config[key] for key in ("temperature_C", "mechanics", "stability", "figures")
}


def planar_id():
    return STUDY.geometry_id(0.0)


def solver_files(solver, geometry, file, temperature_C=None):
    """Files of one geometry's solves at one temperature, in sweep order."""
    return [
        f"{RESULTS}/{solver}/{geometry}/{run}/{file}"
        for run in STUDY.runs_at(solver, temperature_C)
    ]


def sweep_values(solver, temperature_C=None):
    key = "applied_current_density" if solver == "electrochemistry" else "stack_pressure"
    return [p[key] for p in STUDY.runs_at(solver, temperature_C).values()]


def validation_cases():
    """Per (geometry, temperature) an experiment needs: its solved tables and sweep values."""
    cases = {}
    for row in STUDY.experiments.itertuples():
        geometry = STUDY.geometry_id(row.channel_width_um)
        cases[f"{geometry}|{row.temperature_C:g}"] = {
            "geometry": geometry,
            "channel_width_um": row.channel_width_um,
            "temperature_C": row.temperature_C,
            "ec": solver_files("electrochemistry", geometry, "interface.csv", row.temperature_C),
            "currents_A_m2": sweep_values("electrochemistry", row.temperature_C),
            "me": solver_files("mechanics", geometry, "interface.csv", row.temperature_C),
            "pressures_Pa": sweep_values("mechanics", row.temperature_C),
        }
    return cases


FIGURES = f"{RESULTS}/figures"


def figure_run(solver):
    """Run id of the figures' operating point (figures.current_mA_cm2 / figures.pressure_MPa)."""
    value, key = (
        (STUDY.config["figures"]["current_mA_cm2"] * 10.0, "applied_current_density")
        if solver == "electrochemistry"
        else (STUDY.config["figures"]["pressure_MPa"] * 1e6, "stack_pressure")
    )
    return next(
        run for run, p in STUDY.runs_at(solver).items() if abs(p[key] - value) <= 1e-9 * value
    )


def figure_files(solver, file, geometries=None):
    return [
        f"{RESULTS}/{solver}/{geometry}/{figure_run(solver)}/{file}"
        for geometry in (geometries or STUDY.geometries)
    ]


def field_map_geometries():
    return [planar_id(), STUDY.geometry_id(STUDY.config["figures"]["field_map_channel_width_um"])]


def figure_outputs():
    names = ["field_maps", "interface_profiles", "strain_rates", "phase_diagrams", "phase_boundaries",
             "ccd_vs_channel_width", "validation_table"]
    if STUDY.unit_cells_3d:
        names.append("unit_cell_3d")
    return [f"{FIGURES}/{name}.{ext}" for name in names for ext in ("png", "pdf")]


def print_agreement_score():
    """Printed when the run ends: how many experiments the calibrated model gets right."""
    import os

    path = f"{RESULTS}/validation.csv"
    if os.path.exists(path):
        from lisse.cell.analysis import agreement_score

        agree, total = agreement_score(path)
        print(f"lisse: model agrees with {agree} of {total} experiments ({path}); results in {RESULTS}/")


def calibration_input(wildcards):
    """Grid mechanics uses the calibrated eps_dot_0 (the planar solve, which the calibration
    reads, does not depend on it: its Li is in steady flow at t_eval)."""
    if STUDY.config["stability"]["calibrate"] and wildcards.geometry != planar_id():
        return f"{RESULTS}/calibration.json"
    return []
