"""Study B's sweep from the config: the `plating:` section (lab units) in SI, run ids and paths.

Here rather than beside the solver so that Snakemake can plan jobs without DOLFINx.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from lisse.core.creep import creep_law_from_config
from lisse.core.provenance import parameter_digest
from lisse.core.units import MA_CM2, kelvin
from lisse.plating.geometry import NM, PlatingGeometry, PlatingMeshSizing, zoom_box_nm

# --------------------------------------------------------------------------------------
# Config boundary: the `plating:` section (lab units: nm, mA/cm², GPa, MPa, °C) -> SI
# (here rather than in lisse.plating.mechanics so that Snakemake can plan jobs without DOLFINx)
# --------------------------------------------------------------------------------------


def geometry_from_config(cfg: dict, flaw_size_nm: float) -> tuple[PlatingGeometry, PlatingMeshSizing]:
    """The geometry and mesh sizing of one flaw size from a validated ``plating`` config section."""
    mesh = cfg["mesh"]
    geometry = PlatingGeometry(
        flaw_size=flaw_size_nm * NM, pit_tip_radius=cfg["pit_tip_radius_nm"] * NM,
        li_thickness=cfg["li_thickness_nm"] * NM, contact_half_width=cfg["contact_half_width_nm"] * NM,
        cc_tip_radius=cfg["cc_tip_radius_nm"] * NM, llzo_half_width=cfg["llzo_half_width_nm"] * NM,
        llzo_thickness=cfg["llzo_thickness_nm"] * NM)
    sizing = PlatingMeshSizing(tip_element=mesh["tip_element_nm"] * NM, li_element=mesh["li_element_nm"] * NM,
                               growth_rate=mesh["growth_rate"], max_element=mesh["max_element_nm"] * NM)
    return geometry, sizing


def geometry_id(cfg: dict, flaw_size_nm: float) -> str:
    """Directory name ``a~<flaw nm>nm_<digest>``; the digest covers every geometry and mesh parameter."""
    geometry, sizing = geometry_from_config(cfg, flaw_size_nm)
    return f"a~{flaw_size_nm:g}nm_{parameter_digest([asdict(geometry), asdict(sizing)])}"


def parameters_from_config(cfg: dict, constraint: str, current_mA_cm2: float) -> dict:
    """Keyword arguments of :class:`lisse.plating.PlatingParameters` (SI) plus ``petsc_options``.

    With ``deposition: duration`` and ``duration_s: null`` the deposition time is the calibration's
    and is not here: the run step reads it from the calibration record (``--calibration``).
    """
    li, llzo, stepping = cfg["li"], cfg["llzo"], cfg["time_stepping"]
    yield_strength = li.get("yield_strength_MPa")
    by_duration = cfg["deposition"] == "duration"
    return {
        "constraint": constraint,
        "current_density": current_mA_cm2 * MA_CM2,
        "plated_thickness": cfg["plated_thickness_nm"] * NM,
        **({"duration": cfg["duration_s"]} if by_duration and cfg["duration_s"] is not None else {}),
        "pit_growth": cfg["pit_growth"],
        "temperature": kelvin(cfg["temperature_C"]),
        "kinematics": cfg["kinematics"],
        "axisymmetric": cfg["axisymmetric"],
        "li_youngs_modulus": li["youngs_modulus_GPa"] * 1e9,
        "li_poisson_ratio": li["poisson_ratio"],
        **creep_law_from_config(li),
        "yield_strength": 0.0 if yield_strength is None else yield_strength * 1e6,
        "llzo_youngs_modulus": llzo["youngs_modulus_GPa"] * 1e9,
        "llzo_poisson_ratio": llzo["poisson_ratio"],
        "llzo_cleavage_strength": cfg["fracture"]["cleavage_strength_GPa"] * 1e9,
        "initial_steps": stepping["initial_steps"],
        "max_step_fraction": stepping["max_step_fraction"],
        "petsc_options": dict(cfg.get("petsc_options") or {}),
    }


def config_problems(cfg: dict) -> list[str]:
    """Cross-key problems of a schema-valid ``plating`` section, each naming the key, its value and what is
    allowed (the style of :class:`lisse.workflow.config.ConfigError`); empty when it is consistent."""
    problems = []
    flaws, currents = cfg["flaw_sizes_nm"], cfg["current_densities_mA_cm2"]
    if cfg["deposition"] == "thickness" and cfg["duration_s"] is not None:
        problems.append(f"config key 'plating.duration_s' = {cfg['duration_s']:g} is only used with "
                        "plating.deposition = 'duration': allowed null with deposition 'thickness'")
    calibration = cfg["calibration"]
    if cfg["deposition"] == "duration" and cfg["duration_s"] is None and calibration["flaw_size_nm"] not in flaws:
        problems.append(f"config key 'plating.calibration.flaw_size_nm' = {calibration['flaw_size_nm']:g} is not "
                        f"meshed: allowed one of plating.flaw_sizes_nm = {flaws}")
    figure_flaw = cfg["figures"]["flaw_size_nm"]
    if figure_flaw not in flaws:
        problems.append(f"config key 'plating.figures.flaw_size_nm' = {figure_flaw:g} is not solved: allowed one of "
                        f"plating.flaw_sizes_nm = {flaws}")
    for k, current in enumerate(cfg["figures"]["field_currents_mA_cm2"]):
        if current not in currents:
            problems.append(f"config key 'plating.figures.field_currents_mA_cm2[{k}]' = {current:g} is not solved: "
                            f"allowed one of plating.current_densities_mA_cm2 = {currents}")
    if cfg["axisymmetric"] and cfg["kinematics"] != "finite":
        problems.append(f"config key 'plating.axisymmetric' = true needs plating.kinematics = 'finite', not "
                        f"{cfg['kinematics']!r}")
    rho = cfg["pit_tip_radius_nm"]
    for k, a in enumerate(flaws):
        try:
            geometry_from_config(cfg, a)
        except ValueError as error:
            problems.append(f"config key 'plating.flaw_sizes_nm[{k}]' = {a:g} with pit_tip_radius_nm = {rho:g}: {error}")
    return problems


@dataclass(frozen=True)
class PlatingSweep:
    """The Study B sweep of a workflow run: ids, paths and per-run parameters (for ``plating.smk``).

    Paths: ``<results>/plating/geometry/<geometry id>/`` per flaw size and
    ``<results>/plating/<case>/<geometry id>/i~<mA/cm²>mA_cm2/`` per run.
    """

    config: dict  # the validated `plating` section (lab units)
    results: str  # results/<study>

    @property
    def directory(self) -> str:
        return f"{self.results}/plating"

    @property
    def calibrated(self) -> bool:
        """Whether the deposition time is fitted (deposition: duration, duration_s: null)."""
        return self.config["deposition"] == "duration" and self.config["duration_s"] is None

    @property
    def calibration_file(self) -> str:
        """The calibration record (JSON), beside Study A's ``calibration.json``."""
        return f"{self.results}/plating_calibration.json"

    @property
    def calibration_geometry(self) -> str:
        return geometry_id(self.config, self.config["calibration"]["flaw_size_nm"])

    def calibration_parameters_json(self) -> str:
        """The calibration run's parameters (SI): the case and current of the reported value."""
        calibration = self.config["calibration"]
        return json.dumps(parameters_from_config(self.config, calibration["constraint"], calibration["current_mA_cm2"]))

    def calibration_target(self) -> dict:
        """The reported value (SI) and the tolerance of the fit."""
        calibration = self.config["calibration"]
        return {"p_max_Pa": calibration["p_max_GPa"] * 1e9, "rtol": calibration["rtol"]}

    @property
    def figures(self) -> str:
        return f"{self.results}/figures"

    @property
    def geometries(self) -> dict[str, float]:
        """Geometry id -> flaw size (nm)."""
        return {geometry_id(self.config, a): a for a in self.config["flaw_sizes_nm"]}

    def flaw_size_nm(self, geometry: str) -> float:
        return self.geometries[geometry]

    def geometry(self, geometry: str) -> tuple[PlatingGeometry, PlatingMeshSizing]:
        return geometry_from_config(self.config, self.flaw_size_nm(geometry))

    def parameters_json(self, constraint: str, current_mA_cm2: str | float) -> str:
        return json.dumps(parameters_from_config(self.config, constraint, float(current_mA_cm2)))

    @property
    def run_digest(self) -> str:
        """Digest of every solve parameter but the swept ones (case, current), so that changing
        one (plated thickness, Li law, time stepping, ...) never overwrites another run's files."""
        fixed = parameters_from_config(self.config, "top", 1.0)
        fixed.pop("constraint"), fixed.pop("current_density")
        if self.calibrated:  # the deposition time comes from the calibration: its target and geometry count
            fixed["calibration"] = dict(self.config["calibration"], geometry=self.calibration_geometry)
        elif self.config["deposition"] == "duration":
            fixed.pop("plated_thickness")  # not used
        return parameter_digest(fixed)

    def run_file(self, case: str, flaw_size_nm: float, current_mA_cm2: float, file: str) -> str:
        return (f"{self.directory}/{case}/{geometry_id(self.config, flaw_size_nm)}/"
                f"i~{current_mA_cm2:g}mA_cm2_{self.run_digest}/{file}")

    def run_files(self, file: str) -> list[str]:
        """One file per run, case-major, then flaw size, then current density."""
        return [self.run_file(case, a, i, file) for case in self.config["constraint_cases"]
                for a in self.config["flaw_sizes_nm"] for i in self.config["current_densities_mA_cm2"]]

    def field_panels(self) -> list[tuple[str, float]]:
        """(case, current) of the field figure: every case at each of the figure's currents."""
        return [(case, i) for case in self.config["constraint_cases"]
                for i in self.config["figures"]["field_currents_mA_cm2"]]

    def field_files(self) -> list[str]:
        a = self.config["figures"]["flaw_size_nm"]
        return [self.run_file(case, a, i, "fields.vtu") for case, i in self.field_panels()]

    def field_inputs(self) -> dict[str, str]:
        """One named input per panel of the field figure, ``<case>_<current>mA_cm2``: its VTU."""
        return dict(zip(self.field_panels_by_input(), self.field_files()))

    def field_panels_by_input(self) -> dict[str, dict]:
        """Input name -> the panel's case, current (mA/cm²) and window (nm), in panel order."""
        geometry, _ = geometry_from_config(self.config, self.config["figures"]["flaw_size_nm"])
        return {f"{case}_{i:g}mA_cm2": {"case": case, "current_mA_cm2": float(i), "window_nm": zoom_box_nm(geometry)}
                for case, i in self.field_panels()}

    def fracture_parameters(self) -> dict:
        """Keyword arguments of :func:`lisse.plating.plots.fracture_assessment` (SI) from ``fracture``."""
        fracture = self.config["fracture"]
        return {"points_per_decade": fracture["map_points_per_decade"],
                "report_currents_A_m2": tuple(i * MA_CM2 for i in fracture["report_currents_mA_cm2"]),
                "fracture_toughness": fracture["fracture_toughness_MPa_m05"] * 1e6,  # MPa m^0.5 -> Pa m^0.5
                "geometry_factor": fracture["geometry_factor"],
                "cleavage_strength": fracture["cleavage_strength_GPa"] * 1e9}  # GPa -> Pa

    def outputs(self) -> list[str]:
        """Every Study B product (for ``rule all``)."""
        return [f"{self.results}/plating_summary.csv", f"{self.results}/plating_vs_paper.csv",
                f"{self.directory}/fracture_map.csv", f"{self.directory}/critical_flaw_size.csv"] + (
            [self.calibration_file] if self.calibrated else []) + [
            f"{self.figures}/plating_{name}.{ext}" for name in ("stress_vs_current", "fields", "fracture_map", "vs_paper")
            for ext in ("png", "pdf")]
