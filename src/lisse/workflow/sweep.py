"""Study A's sweep from the validated study: run ids, paths and per-geometry rule inputs.

The rules (``workflow/rules/*.smk``) ask a :class:`CellSweep` for every path, id and sweep
value; the rule scripts read their inputs by the names it gives (:func:`input_name`), never
by position in a flat list.  The config is in lab units (mA/cm², MPa, °C), the solves and
the post-processing in SI: the conversions are the functions below, and sweep values are
matched to configured values in one place, :func:`same_value`.

Here rather than beside the solvers so that Snakemake can plan jobs without DOLFINx.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from lisse.core.units import MA_CM2, MPA, kelvin
from lisse.workflow.config import GeometryCase, Study

SOLVERS = ("electrochemistry", "mechanics")
SWEPT_PARAMETER = {"electrochemistry": "applied_current_density", "mechanics": "stack_pressure"}  # SI, per solver


# Sweep values are decimal config literals converted by one multiplication, so two that mean the
# same quantity agree to round-off (~1e-16), while distinct sweep values differ by percent.
RELATIVE_TOLERANCE = 1e-9


def a_m2(current_mA_cm2: float) -> float:
    """Current density in A/m² from mA/cm²."""
    return current_mA_cm2 * MA_CM2


def ma_cm2(current_A_m2: float) -> float:
    """Current density in mA/cm² from A/m²."""
    return current_A_m2 / MA_CM2


def pascal(pressure_MPa: float) -> float:
    return pressure_MPa * MPA


def megapascal(pressure_Pa: float) -> float:
    return pressure_Pa / MPA


def same_value(a: float, b: float) -> bool:
    """Whether two sweep values (same unit) denote the same quantity: agree to ``RELATIVE_TOLERANCE``."""
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=0.0)


def to_si(solver: str, value: float) -> float:
    """A swept value in the config's unit (mA/cm² or MPa) in SI (A/m² or Pa)."""
    return a_m2(value) if solver == "electrochemistry" else pascal(value)


def input_name(label: str, kind: str) -> str:
    """Name of a per-geometry rule input, e.g. ``grid200_electrochemistry``; the scripts read inputs by it."""
    return f"{label}_{kind}"


@dataclass(frozen=True)
class CellSweep:
    """The Study A sweep of a workflow run: ids, paths and per-run parameters (for the rules).

    Paths: ``<results>/geometry/<geometry id>/`` per geometry and
    ``<results>/<solver>/<geometry id>/<run id>/`` per solve.  Run order: "sweep order" is the
    study temperature's runs by increasing current or pressure; :meth:`solver_outputs` keeps
    the study's own order (every temperature) for the summary tables.
    """

    study: Study

    # --- ids and paths ------------------------------------------------------------------

    @property
    def results(self) -> str:
        return self.study.results

    @property
    def figures(self) -> str:
        return f"{self.results}/figures"

    @property
    def config(self) -> dict:
        return self.study.config

    @property
    def analysis_config(self) -> dict:
        """Sections of the config the post-processing reads (as rule params: a change reruns it)."""
        return {key: self.config[key] for key in ("temperature_C", "geometry", "mechanics", "stability", "figures")}

    def case(self, geometry: str) -> GeometryCase:
        """A 2D geometry or a 3D unit cell by id."""
        return self.study.case(geometry)

    def label(self, geometry: str) -> str:
        return self.case(geometry).label

    def geometry_parameters(self, geometry: str) -> dict:
        """The SI fields of :class:`lisse.cell.geometry.CellGeometry` (rule params of ``geometry``)."""
        return asdict(self.case(geometry).geometry)

    def sizing_parameters(self, geometry: str) -> dict:
        return asdict(self.case(geometry).sizing)

    def geometry_id(self, channel_width_um: float) -> str:
        """Id of the study's geometry with this channel width (0 = planar)."""
        for geometry, case in self.study.geometries.items():
            if same_value(case.channel_width_um, channel_width_um):
                return geometry
        raise KeyError(f"no geometry with channel width {channel_width_um:g} um in study {self.study.name!r}")

    @property
    def planar_id(self) -> str:
        return self.geometry_id(0.0)

    def geometry_outputs(self) -> list[str]:
        """Mesh, facts and preview of every geometry of the study and of the model forms (for ``rule all``)."""
        geometries = dict.fromkeys([*self.study.geometries,
                                    *(g for form in self.study.forms.values() for g in form.geometries)])
        return [f"{self.results}/geometry/{geometry}/{file}"
                for geometry in geometries for file in ("mesh.msh", "geometry.json", "preview.png")]

    def run_file(self, solver: str, geometry: str, run: str, file: str) -> str:
        return f"{self.results}/{solver}/{geometry}/{run}/{file}"

    # --- runs and sweep values ----------------------------------------------------------

    def all_runs(self, solver: str) -> dict[str, dict]:
        """Every run of a solver, every temperature: run id -> SI parameters."""
        return self.study.electrochemistry if solver == "electrochemistry" else self.study.mechanics

    def parameters_json(self, solver: str, run: str) -> str:
        """The ``--parameters`` of one solve (SI), of the study or of a model form."""
        if solver == "mechanics":
            return json.dumps(self.study.mechanics_run(run))
        return json.dumps(self.study.electrochemistry_run(run))

    @property
    def steady_mechanics(self) -> bool:
        """Whether the mechanics is the steady creep flow: one run per geometry serves every P and T."""
        return self.config["mechanics"]["method"] == "steady"

    def runs(self, solver: str, temperature_C: float | None = None) -> dict[str, dict]:
        """Runs of a solver at one temperature (default: the study's), in sweep order (the steady
        mechanics' one run at every temperature)."""
        return self._runs_at(self.all_runs(solver), solver, temperature_C)

    def sweep_values(self, solver: str, temperature_C: float | None = None) -> list[float]:
        """i_app (A/m²) or P (Pa) of each run of :meth:`runs`."""
        return [p[SWEPT_PARAMETER[solver]] for p in self.runs(solver, temperature_C).values()]

    def run_at(self, solver: str, value: float) -> str:
        """Id of the study-temperature run at a configured current (mA/cm²) or pressure (MPa); for the
        steady mechanics, its one run (which holds every pressure)."""
        if solver == "mechanics" and self.steady_mechanics:
            return next(iter(self.all_runs(solver)))
        target = to_si(solver, value)
        for run, p in self.runs(solver).items():
            if same_value(p[SWEPT_PARAMETER[solver]], target):
                return run
        raise KeyError(f"no {solver} run at {value:g} ({SWEPT_PARAMETER[solver]}) in study {self.study.name!r}")

    def run_files(self, solver: str, geometry: str, file: str, temperature_C: float | None = None) -> list[str]:
        """``file`` of one geometry's solves at one temperature, in sweep order."""
        return [self.run_file(solver, geometry, run, file) for run in self.runs(solver, temperature_C)]

    def solver_outputs(self, solver: str, file: str) -> list[str]:
        """``file`` of every solve of a solver on the 2D geometries, every temperature."""
        return [self.run_file(solver, geometry, run, file)
                for geometry in self.study.geometries for run in self.all_runs(solver)]

    def solver_labels(self, solver: str, file: str = "summary.json") -> dict[str, dict]:
        """Per file of :meth:`solver_outputs`: its geometry label, channel width and ids."""
        return {self.run_file(solver, geometry, run, file): {
                    "geometry": case.label, "channel_width_um": case.channel_width_um,
                    "geometry_id": geometry, "run_id": run}
                for geometry, case in self.study.geometries.items() for run in self.all_runs(solver)}

    # --- calibration ---------------------------------------------------------------------

    def calibration_file(self, form: str | None = None) -> str:
        """The calibration record of the model of record, of a model form (the record's own if it is
        the model of record) or of a sensitivity variant."""
        if form is None or self.study.model(form).record:
            return f"{self.results}/calibration.json"
        folder = "model_forms" if form in self.study.forms else "sensitivity"
        return f"{self.results}/{folder}/{form}/calibration.json"

    def calibration_cell(self, form: str | None = None) -> dict:
        """The planar cell a calibration is fitted on (recorded with it): label, id, dimension, method."""
        geometries, mechanics, _ = self._model(form)
        planar = next(iter(geometries))
        return {"label": geometries[planar].label, "geometry_id": planar,
                "dimension": geometries[planar].geometry.dimension,
                "method": next(iter(mechanics.values()))["method"]}

    def calibration_tables(self) -> dict[str, list[str]]:
        """The planar cell's tables the calibration fits on (``ec``, ``me``); none without calibration."""
        if not self.config["stability"]["calibrate"]:
            return {"ec": [], "me": []}
        return self._tables(self.planar_id, self.study.mechanics)

    def calibration_input(self, geometry: str, run: str) -> list[str] | str:
        """The calibration a mechanics solve needs: the transient grid mechanics uses the calibrated
        eps_dot_0 of its own model (the planar solve, which the calibration reads, does not depend on
        it: its Li is in steady flow at t_eval); the steady mechanics depends on it nowhere."""
        if not self.config["stability"]["calibrate"] or self.study.mechanics_run(run)["method"] == "steady":
            return []
        if geometry in self.study.geometries and run in self.study.mechanics:
            return [] if geometry == self.planar_id else self.calibration_file()
        for name, form in {**self.study.forms, **self.study.variants}.items():
            if geometry in form.geometries and run in form.mechanics:
                return [] if geometry == next(iter(form.geometries)) else self.calibration_file(name)
        raise KeyError(f"mechanics run {run!r} on {geometry!r} belongs to no model of study {self.study.name!r}")

    # --- per-geometry inputs of the post-processing --------------------------------------

    def sweep_inputs(self, geometries: list[str] | None = None, file: str = "interface.csv") -> dict[str, list[str]]:
        """Per geometry and solver, ``<label>_<solver>``: ``file`` of each solve in sweep order
        (the order of :meth:`sweep_values`)."""
        return _unique((input_name(self.label(geometry), solver), self.run_files(solver, geometry, file))
                       for geometry in (geometries or self.study.geometries) for solver in SOLVERS)

    def geometry_labels(self) -> dict[str, float]:
        """Label -> channel width (µm) of every 2D geometry."""
        return {case.label: case.channel_width_um for case in self.study.geometries.values()}

    def stability_inputs(self) -> dict[str, str]:
        """Per geometry, ``<label>_phase_diagram`` and ``<label>_ccd``."""
        return _unique((input_name(case.label, kind), f"{self.results}/stability/{geometry}/{kind}.csv")
                       for geometry, case in self.study.geometries.items() for kind in ("phase_diagram", "ccd"))

    # --- the figures' operating point ----------------------------------------------------

    def figure_run(self, solver: str) -> str:
        """Run id of the figures' operating point (figures.current_mA_cm2 / figures.pressure_MPa)."""
        figures = self.config["figures"]
        return self.run_at(solver, figures["current_mA_cm2"] if solver == "electrochemistry"
                           else figures["pressure_MPa"])

    def figure_point_inputs(self, file: str, geometries: list[str] | None = None,
                            suffix: str = "") -> dict[str, str]:
        """Per geometry and solver, ``<label>_<solver><suffix>``: ``file`` of its solve at the figures' point."""
        return _unique((input_name(self.label(geometry), solver + suffix),
                        self.run_file(solver, geometry, self.figure_run(solver), file))
                       for geometry in (geometries or self.study.geometries) for solver in SOLVERS)

    def mechanics_stress_scale(self) -> float:
        """figures.pressure_MPa over the pressure of the figures' mechanics run: the factor on its
        stresses (1 for the transient, whose figure run is at that pressure)."""
        solved = self.all_runs("mechanics")[self.figure_run("mechanics")]["stack_pressure"]
        return pascal(self.config["figures"]["pressure_MPa"]) / solved

    def field_map_geometries(self) -> list[str]:
        """The planar cell and the grid of figures.field_map_channel_width_um, those the study has."""
        widths = [0.0, self.config["figures"]["field_map_channel_width_um"]]
        have = {case.channel_width_um for case in self.study.geometries.values()}
        return [self.geometry_id(width) for width in widths if any(same_value(width, w) for w in have)]

    def field_map_windows_um(self) -> dict[str, tuple[float, float, float, float]]:
        """Label -> zoom window of each field-map panel, in panel order."""
        return {self.label(geometry): self.case(geometry).zoom_box_um() for geometry in self.field_map_geometries()}

    def figure_outputs(self) -> list[str]:
        names = ["field_maps", "interface_profiles", "strain_rates", "phase_diagrams", "phase_boundaries",
                 "ccd_vs_channel_width", "validation_table"]
        if self.study.forms:
            names.append("model_forms")
        return [f"{self.figures}/{name}.{ext}" for name in names for ext in ("png", "pdf")]

    # --- validation ----------------------------------------------------------------------

    def validation_cases(self, form: str | None = None) -> dict[str, dict]:
        """Per (geometry, temperature) an experiment needs: its solved tables and sweep values (SI), in
        the model of record or in a model form."""
        geometries, mechanics, electrochemistry = self._model(form)
        cases = {}
        for row in self.study.experiments.itertuples():
            geometry = next(g for g, case in geometries.items() if same_value(case.channel_width_um, row.channel_width_um))
            cases[f"{geometry}|{row.temperature_C:g}"] = {
                "geometry": geometry,
                "channel_width_um": row.channel_width_um,
                "temperature_C": row.temperature_C,
                **self._tables(geometry, mechanics, row.temperature_C, electrochemistry),
                "currents_A_m2": self._values(electrochemistry, "electrochemistry", row.temperature_C),
                "pressures_Pa": [p["stack_pressure"] for p in self._runs_at(mechanics, "mechanics",
                                                                            row.temperature_C).values()],
            }
        return cases

    def validation_inputs(self, form: str | None = None) -> list[str]:
        """Every interface table the validation reads (its cases carry them by name)."""
        return [path for case in self.validation_cases(form).values() for path in case["ec"] + case["me"]]

    # --- model forms ---------------------------------------------------------------------

    def _model(self, form: str | None) -> tuple[dict, dict, dict]:
        """(geometries, mechanics runs, electrochemistry runs) of the model of record, a model form or a
        sensitivity variant."""
        if form is None:
            return self.study.geometries, self.study.mechanics, self.study.electrochemistry
        model = self.study.model(form)
        return model.geometries, model.mechanics, model.electrochemistry

    def _runs_at(self, runs: dict[str, dict], solver: str, temperature_C: float | None = None) -> dict[str, dict]:
        """Of ``runs``, those at one temperature in sweep order (a steady mechanics run: at every one)."""
        temperature = kelvin(self.config["temperature_C"] if temperature_C is None else temperature_C)
        chosen = {run: p for run, p in runs.items()
                  if p.get("method") == "steady" or same_value(p["temperature"], temperature)}
        return dict(sorted(chosen.items(), key=lambda item: item[1][SWEPT_PARAMETER[solver]]))

    def _values(self, runs: dict[str, dict], solver: str, temperature_C: float | None = None) -> list[float]:
        """The swept values (SI) of ``runs`` at one temperature, in sweep order."""
        return [p[SWEPT_PARAMETER[solver]] for p in self._runs_at(runs, solver, temperature_C).values()]

    def _tables(self, geometry: str, mechanics: dict[str, dict], temperature_C: float | None = None,
                electrochemistry: dict[str, dict] | None = None) -> dict:
        """The interface tables of one geometry at one temperature, in sweep order: ``ec`` (one per
        run of ``electrochemistry``, default the study's) and ``me`` (one per run of ``mechanics``)."""
        electrochemistry = self.study.electrochemistry if electrochemistry is None else electrochemistry
        return {"ec": [self.run_file("electrochemistry", geometry, run, "interface.csv")
                       for run in self._runs_at(electrochemistry, "electrochemistry", temperature_C)],
                "me": [self.run_file("mechanics", geometry, run, "interface.csv")
                       for run in self._runs_at(mechanics, "mechanics", temperature_C)]}

    def form_calibration_inputs(self, form: str) -> dict[str, list[str]]:
        """The planar cell's tables of a model form or sensitivity variant: ``ec`` and ``me`` (for its calibration)."""
        geometries, mechanics, electrochemistry = self._model(form)
        return self._tables(next(iter(geometries)), mechanics, None, electrochemistry)

    def form_sweep_values(self, form: str) -> dict[str, list[float]]:
        """The currents (A/m²) and pressures (Pa) of a model's tables at the study temperature."""
        _, mechanics, electrochemistry = self._model(form)
        return {"currents_A_m2": self._values(electrochemistry, "electrochemistry"),
                "pressures_Pa": self._values(mechanics, "mechanics")}

    def analysis_config_of(self, form: str) -> dict:
        """The post-processing sections of a model's config (a sensitivity variant's differ)."""
        config = self.study.model(form).config
        return {key: config[key] for key in ("temperature_C", "geometry", "mechanics", "stability", "figures")}

    def model_form_cases(self, models: dict | None = None) -> dict[str, dict]:
        """Per model form (or sensitivity variant, ``models``): its title, dimension, method, calibration
        file, post-processing config, per-geometry tables at the study temperature and validation cases
        (the params of rules model_forms and sensitivity)."""
        cases = {}
        for name, form in (self.study.forms if models is None else models).items():
            cases[name] = {
                "title": form.title, "dimension": form.dimension, "method": form.method, "record": form.record,
                "calibration": self.calibration_file(name), "config": self.analysis_config_of(name),
                **self.form_sweep_values(name),
                "geometries": {case.label: {"channel_width_um": case.channel_width_um,
                                            **self._tables(geometry, form.mechanics, None, form.electrochemistry)}
                               for geometry, case in form.geometries.items()},
                "validation": self.validation_cases(name),
            }
        return cases

    def model_form_inputs(self, models: dict | None = None) -> list[str]:
        """Every file the model-form table (or the sensitivity table) reads."""
        files = []
        for case in self.model_form_cases(models).values():
            files.append(case["calibration"])
            files += [f for tables in case["geometries"].values() for f in tables["ec"] + tables["me"]]
            files += [f for valid in case["validation"].values() for f in valid["ec"] + valid["me"]]
        return list(dict.fromkeys(files))

    def form_calibration_forms(self) -> list[str]:
        """The model forms calibrated apart from the model of record."""
        return [name for name, form in self.study.forms.items() if not form.record]

    # --- sensitivity and design map -------------------------------------------------------

    def variant_calibration_names(self) -> list[str]:
        """The sensitivity variants calibrated apart from the model of record (all but the baseline)."""
        return [name for name, variant in self.study.variants.items() if not variant.record]

    def design_points(self) -> dict[str, dict]:
        """Per design-map cell (label), the study's planar cell first as the reference: width, depth, land
        ratio, its geometry facts and its tables and sweep values at the map's temperature (the params
        of rule design_map)."""
        temperature = self.design_temperature_C
        cells = {**({self.planar_id: self.case(self.planar_id)} if self.config["geometry"]["planar"] else {}),
                 **self.study.design}
        return {case.label: {"channel_width_um": case.channel_width_um,
                             "channel_depth_um": case.geometry.channel_depth / 1e-6,
                             "land_to_channel_width_ratio": (case.geometry.land_width / case.geometry.channel_width
                                                             if case.channel_width_um else 0.0),
                             "facts": f"{self.results}/geometry/{geometry}/geometry.json",
                             **self._tables(geometry, self.study.mechanics, temperature),
                             "currents_A_m2": self.sweep_values("electrochemistry", temperature),
                             "pressures_Pa": self.sweep_values("mechanics", temperature)}
                for geometry, case in cells.items()}

    @property
    def design_temperature_C(self) -> float:
        temperature = self.config["design_map"]["temperature_C"]
        return self.config["temperature_C"] if temperature is None else temperature

    def design_inputs(self) -> list[str]:
        return [f for point in self.design_points().values() for f in [point["facts"], *point["ec"], *point["me"]]]

    def measured_grids(self) -> list[tuple[float, float]]:
        """(width, depth) in µm of the grids the experiments measured (pinned on the design map)."""
        depth = self.config["geometry"]["channel_depth_um"]
        return [(float(w), float(depth)) for w in sorted(set(self.study.experiments["channel_width_um"])) if w > 0]

    def design_outputs(self) -> list[str]:
        """The design map's and the sensitivity study's products (for ``rule all``)."""
        outputs = []
        if self.study.design:
            outputs += [f"{self.results}/design_map.csv", f"{self.figures}/design_map.png"]
        if self.study.variants:
            outputs += [f"{self.results}/sensitivity.csv", f"{self.figures}/sensitivity.png"]
        return outputs


def _unique(pairs) -> dict:
    """Named inputs from (name, files) pairs; names are built from labels, so refuse a repeated one."""
    named = {}
    for name, files in pairs:
        if name in named:
            raise ValueError(f"two rule inputs would be named {name!r}")
        named[name] = files
    return named
