"""Workflow configuration: schema validation with readable errors, defaults, and the SI study.

The JSON schema (``workflow/schemas/config.schema.yaml``) is the single description
of every key, its default and its allowed range.  :func:`load_study` checks a
config against it, fills the defaults, runs the cross-key checks a schema cannot
express (fillet versus channel width, channel depth versus SSE thickness, element
size versus feature size) and converts to SI.  Every problem is reported at once,
each naming the key, the value and what is allowed, before any job starts.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pandas as pd
import yaml

from lisse.cell.experiments import channel_widths_um, read_experiments
from lisse.cell.geometry import CellGeometry, MeshSizing
from lisse.core.creep import creep_law_from_config
from lisse.core.provenance import parameter_digest
from lisse.core.units import MA_CM2, UM, kelvin
from lisse.workflow.cost import cost_problems

DEFAULT_SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration is invalid; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


# --------------------------------------------------------------------------------------
# Schema checks with messages that name key, value and allowed range
# --------------------------------------------------------------------------------------


def _key(path) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "<top level>"


def _range(schema: dict) -> str:
    low = ("> " + f"{schema['exclusiveMinimum']:g}") if "exclusiveMinimum" in schema else (
        (">= " + f"{schema['minimum']:g}") if "minimum" in schema else "")
    high = ("< " + f"{schema['exclusiveMaximum']:g}") if "exclusiveMaximum" in schema else (
        ("<= " + f"{schema['maximum']:g}") if "maximum" in schema else "")
    return " and ".join(part for part in (low, high) if part)


def _describe(error: jsonschema.ValidationError) -> str:
    key, value = _key(error.absolute_path), error.instance
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(value) - set(allowed))
        prefix = key + "." if error.absolute_path else ""
        return f"unknown config key {', '.join(repr(prefix + k) for k in unknown)}; allowed keys here: {', '.join(allowed)}"
    if error.validator == "required":
        missing = error.message.split("'")[1]
        prefix = key + "." if error.absolute_path else ""
        description = error.schema["properties"].get(missing, {}).get("description", "")
        return f"missing config key '{prefix}{missing}' ({description})"
    if error.validator == "type":
        return f"config key '{key}' = {value!r} has the wrong type: expected {error.validator_value}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"config key '{key}' = {value!r} is out of range: allowed {_range(error.schema)}"
    if error.validator == "enum":
        return f"config key '{key}' = {value!r} is not allowed: choose one of {error.validator_value}"
    if error.validator == "pattern":
        return f"config key '{key}' = {value!r} must match {error.validator_value} (letters, digits, _ . -)"
    return f"config key '{key}' = {value!r}: {error.message}"


def _fill_defaults(config: dict, schema: dict) -> None:
    for name, sub in schema.get("properties", {}).items():
        if name not in config and "default" in sub:
            config[name] = copy.deepcopy(sub["default"])
        if isinstance(config.get(name), dict) and sub.get("type") == "object":
            _fill_defaults(config[name], sub)


_SCALAR_TYPES = {"number": (int, float), "integer": (int,), "boolean": (bool,), "array": (list,), "object": (dict,)}


def _parse_overrides(value, schema: dict):
    """Snakemake hands the values inside a nested ``--config key={...}`` override over as strings
    (``'150'``): parse a string as YAML where the schema expects another type, so an override is
    validated like the same value in a config file (a string that does not parse stays as it is
    and fails validation with its key)."""
    expected = schema.get("type")
    types = expected if isinstance(expected, list) else [expected]
    if isinstance(value, str) and "string" not in types and any(t in _SCALAR_TYPES for t in types):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        wanted = tuple(c for t in types if t in _SCALAR_TYPES for c in _SCALAR_TYPES[t])
        if isinstance(parsed, wanted) and not (isinstance(parsed, bool) and bool not in wanted):
            value = parsed
        else:
            return value
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {key: _parse_overrides(item, properties.get(key, {})) for key, item in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_parse_overrides(item, schema["items"]) for item in value]
    return value


def read_schema(path: str | Path = DEFAULT_SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


def validate_config(config: dict, schema: dict | None = None) -> dict:
    """Return a validated copy of ``config`` with every default filled in; raise :class:`ConfigError`."""
    schema = read_schema() if schema is None else schema
    config = _parse_overrides(config, schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        raise ConfigError([_describe(e) for e in errors])
    config = copy.deepcopy(config)
    _fill_defaults(config, schema)
    problems = _cross_key_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


# --------------------------------------------------------------------------------------
# The study in SI, with cross-key checks
# --------------------------------------------------------------------------------------


def fillet_radius_um(geometry_cfg: dict, channel_width_um: float) -> float:
    return min(geometry_cfg["fillet_radius_max_um"], geometry_cfg["fillet_radius_to_width_ratio"] * channel_width_um)


def _cross_key_problems(config: dict) -> list[str]:
    g, m = config["geometry"], config["mesh"]
    problems = []
    cross_sections = g["dimension"] == 2 or config["model_comparison"]["enabled"]  # the mesh section is theirs
    depth, half = g["channel_depth_um"], g["sse_half_thickness_um"]
    h = m["interface_element_um"]
    if g["channel_widths_um"] and depth >= half:
        problems.append(f"config key 'geometry.channel_depth_um' = {depth:g} is too deep: allowed < "
                        f"geometry.sse_half_thickness_um = {half:g} (the channel must stay inside the modelled half of the SSE)")
    if cross_sections and m["max_element_um"] < h:
        problems.append(f"config key 'mesh.max_element_um' = {m['max_element_um']:g} is below "
                        f"mesh.interface_element_um = {h:g}: allowed >= {h:g}")
    for k, width in enumerate(g["channel_widths_um"]):
        land = g["land_to_channel_width_ratio"] * width
        radius = fillet_radius_um(g, width)
        limit = min(width, land, depth) / 2
        if radius >= limit:
            problems.append(
                f"config keys 'geometry.fillet_radius_max_um' = {g['fillet_radius_max_um']:g} and "
                f"'geometry.fillet_radius_to_width_ratio' = {g['fillet_radius_to_width_ratio']:g} give a fillet of "
                f"{radius:g} um for 'geometry.channel_widths_um[{k}]' = {width:g}: allowed < {limit:g} um "
                f"(half the channel width {width:g}, land width {land:g} and depth {depth:g})")
        feature = min(width, land, depth)
        if cross_sections and h > feature / 4:
            problems.append(
                f"config key 'mesh.interface_element_um' = {h:g} is larger than the feature it must resolve: "
                f"allowed <= {feature / 4:g} um (a quarter of the narrowest of channel {width:g}, land {land:g}, "
                f"depth {depth:g} um, for 'geometry.channel_widths_um[{k}]')")
        if g["lateral_extent"] == "pellet" and g["pellet_radius_um"] < width / 2 + land / 2:
            problems.append(f"config key 'geometry.pellet_radius_um' = {g['pellet_radius_um']:g} holds no channel of "
                            f"width {width:g} um: allowed >= {width / 2 + land / 2:g}")
    if cross_sections and g["planar"] and g["lateral_extent"] != "pellet" and h > g["planar_width_um"] / 4:
        problems.append(f"config key 'mesh.interface_element_um' = {h:g} is larger than the planar slice resolves: "
                        f"allowed <= {g['planar_width_um'] / 4:g} um (a quarter of geometry.planar_width_um)")
    condition = config["mechanics"]["lateral_condition"]
    if (g["lateral_extent"] == "pellet") != (condition == "free"):
        needed = "free" if g["lateral_extent"] == "pellet" else "uniform_edge"
        problems.append(f"config key 'mechanics.lateral_condition' = {condition!r} does not fit "
                        f"geometry.lateral_extent = {g['lateral_extent']!r}: allowed {needed!r} (the pellet slice ends at "
                        "the free rim; a unit cell or periods slice sits inside a wide foil and its edge moves as one)")
    st, pressures = config["stability"], config["mechanics"]["stack_pressures_MPa"]
    transient = config["mechanics"]["method"] == "transient"  # steady stresses hold at every pressure
    if not transient and not config["mechanics"]["creep"]:
        problems.append("config key 'mechanics.creep' = false has no steady creep flow: allowed with "
                        "mechanics.method = 'transient' (the elastic response)")
    if transient and st["calibrate"] and not min(pressures) <= st["calibration_pressure_MPa"] <= max(pressures):
        problems.append(f"config key 'stability.calibration_pressure_MPa' = {st['calibration_pressure_MPa']:g} lies outside "
                        f"the solved pressures: allowed {min(pressures):g} to {max(pressures):g} "
                        "(mechanics.stack_pressures_MPa)")
    if st["calibrate"] and not g["planar"]:
        problems.append("config key 'stability.calibrate' = true needs the planar cell: allowed with geometry.planar = true")
    fig = config["figures"]
    if fig["current_mA_cm2"] not in config["electrochemistry"]["current_densities_mA_cm2"]:
        problems.append(f"config key 'figures.current_mA_cm2' = {fig['current_mA_cm2']:g} is not solved: allowed one of "
                        f"electrochemistry.current_densities_mA_cm2 = {config['electrochemistry']['current_densities_mA_cm2']}")
    if transient and fig["pressure_MPa"] not in pressures:
        problems.append(f"config key 'figures.pressure_MPa' = {fig['pressure_MPa']:g} is not solved: allowed one of "
                        f"mechanics.stack_pressures_MPa = {pressures}")
    for key in ("current_range_mA_cm2", "pressure_range_MPa"):
        low, high = st[key]
        if low >= high:
            problems.append(f"config key 'stability.{key}' = {st[key]}: allowed [low, high] with low < high")
    if not g["planar"] and not g["channel_widths_um"]:
        problems.append("config keys 'geometry.planar' = false and 'geometry.channel_widths_um' = []: no geometry to build; "
                        "allowed: planar true or at least one channel width")
    return problems


def _fmt(value: float) -> str:
    return f"{value:g}"


def _digest(*parts: dict) -> str:
    return parameter_digest(parts)


@dataclass(frozen=True)
class GeometryCase:
    """One geometry of the study: its label (``planar``, ``grid200``), the SI parameters and its path id."""

    label: str
    channel_width_um: float  # 0 for planar
    geometry: CellGeometry
    sizing: MeshSizing

    @property
    def id(self) -> str:
        """Directory name, ``<label>_h~<interface element um>_<digest>``: the digest covers every
        geometry and mesh parameter, so changing any of them never overwrites another run's files
        (the parameters themselves are in the geometry's JSON)."""
        h = _fmt(self.sizing.interface_element / UM)
        return f"{self.label}_h~{h}_{_digest(asdict(self.geometry), asdict(self.sizing))}"

    def zoom_box_um(self) -> tuple[float, float, float, float]:
        """Preview window (x0, x1, y0, y1) in µm: the channel's upper corner and its grading."""
        g = self.geometry
        if g.is_planar:
            half = min(g.half_width, 100e-6) / UM / 2
            return (0.0, 2 * half, -half, half)
        half = max(min(g.channel_width, g.channel_depth) / UM, 20.0) / 2
        corner = g.channel_width / 2 / UM
        return (max(corner - half, 0.0), corner + half, -half, half)


# The forms of the model the model-form table compares: name -> (dimension, mechanics method, title)
MODEL_FORMS = {
    "cross_section_transient": (2, "transient", "2D cross-section, creep transient"),
    "cross_section_steady": (2, "steady", "2D cross-section, steady creep"),
    "unit_cell_steady": (3, "steady", "3D unit cell, steady creep"),
}


@dataclass(frozen=True)
class ModelForm:
    """One alternative model of the cells, calibrated on its own planar cell and scored on the
    experiments: a form of the model-form table, or a variant of the sensitivity study."""

    name: str
    dimension: int
    method: str
    title: str
    geometries: dict[str, GeometryCase]  # id -> case, planar first
    mechanics: dict[str, dict]  # run id -> SI parameters
    record: bool  # the study's model of record (its calibration, phase diagrams and validation)
    electrochemistry: dict[str, dict]  # run id -> SI parameters
    config: dict  # its validated config (the study's, or the variant's)


@dataclass(frozen=True)
class Study:
    name: str
    config: dict  # validated, defaults filled, lab units
    geometries: dict[str, GeometryCase]  # id -> case, in the model of record's dimension
    electrochemistry: dict[str, dict]  # run id -> SI parameters of lisse.cell.electrochemistry (+ petsc_options)
    mechanics: dict[str, dict]  # run id -> SI parameters of lisse.cell.mechanics (+ petsc_options)
    experiments: pd.DataFrame  # checked experiments table
    forms: dict[str, ModelForm]  # the model-form comparison (empty when disabled)
    variants: dict[str, ModelForm] = field(default_factory=dict)  # the sensitivity study (empty when disabled)
    design: dict[str, GeometryCase] = field(default_factory=dict)  # the design map's cells (empty when disabled)

    @property
    def results(self) -> str:
        return f"results/{self.name}"

    @property
    def dimension(self) -> int:
        return self.config["geometry"]["dimension"]

    def runs(self, study: str) -> bool:
        """Whether this workflow runs a study: ``cells`` (Study A) or ``plating`` (Study B)."""
        return study in self.config["studies"]

    def model(self, name: str) -> ModelForm:
        """A model form or a sensitivity variant, by name."""
        return self.forms[name] if name in self.forms else self.variants[name]

    def _find(self, kind: str, key: str):
        """``key`` in the study's ``kind`` (geometries, electrochemistry, mechanics), a model form's or
        a sensitivity variant's (or a design-map cell)."""
        design = [SimpleNamespace(geometries=self.design)]
        for holder in (self, *self.forms.values(), *self.variants.values(), *design):
            if key in getattr(holder, kind, {}):
                return getattr(holder, kind)[key]
        raise KeyError(f"no {kind} entry {key!r} in study {self.name!r}")

    def case(self, geometry_id: str) -> GeometryCase:
        """A geometry of the study, a model form, a sensitivity variant or the design map, by id."""
        return self._find("geometries", geometry_id)

    def mechanics_run(self, run: str) -> dict:
        """The SI parameters of a mechanics run of the study, a model form or a sensitivity variant."""
        return self._find("mechanics", run)

    def electrochemistry_run(self, run: str) -> dict:
        """The SI parameters of an electrochemistry run of the study or a sensitivity variant."""
        return self._find("electrochemistry", run)


def electrochemistry_runs(config: dict, temperatures_C: tuple[float, ...] = ()) -> dict[str, dict]:
    """One run per applied current density and temperature (the study's and any experiment's:
    the conductivity, hence the current distribution, depends on T); the id names i and T and
    digests the rest."""
    ec = config["electrochemistry"]
    runs = {}
    for temperature in sorted({config["temperature_C"], *temperatures_C}):
        runs.update(_electrochemistry_runs_at(ec, temperature))
    return runs


def _electrochemistry_runs_at(ec: dict, temperature: float) -> dict[str, dict]:
    common = {
        "temperature": kelvin(temperature),
        "conductivity_ref": ec["conductivity_mS_cm"] * 0.1,  # mS/cm -> S/m
        "reference_temperature": kelvin(ec["conductivity_reference_temperature_C"]),
        "activation_energy": ec["conductivity_activation_energy_eV"],
        "exchange_current_density": ec["exchange_current_density_mA_cm2"] * MA_CM2,
        "alpha_anodic": ec["alpha_anodic"],
        "alpha_cathodic": ec["alpha_cathodic"],
    }
    digest = _digest(common, ec["petsc_options"])
    return {f"i~{_fmt(i)}_T~{_fmt(temperature)}_{digest}":
            {"applied_current_density": i * MA_CM2, **common, "petsc_options": dict(ec["petsc_options"])}
            for i in ec["current_densities_mA_cm2"]}


# The pressure a steady-creep solve is made at: its stresses are sigma / P in MPa per MPa, and
# every other pressure is a multiple of them (lisse.cell.mechanics.steady)
STEADY_SOLVE_PRESSURE_MPA = 1.0


def mechanics_runs(config: dict, temperatures_C: tuple[float, ...] = (), method: str | None = None,
                   pressures_MPa: tuple[float, ...] | None = None) -> dict[str, dict]:
    """The mechanics solves of each geometry.

    ``method: steady`` (default): one run.  The steady flow's stress is proportional to P and
    independent of eps_dot_0, hence of the temperature, so it is solved once, at
    :data:`STEADY_SOLVE_PRESSURE_MPA` and the creep law's reference temperature (where its
    velocities are reported); its id digests what the stress depends on.

    ``method: transient``: one run per stack pressure and temperature (the study's and any
    experiment's).  At t_eval the Li in the 2D channels sits on a relaxation tail whose stress
    depends on eps_dot_0 (sigma ~ (E eps_dot_0 t)^(-1/(n-1))), so each temperature needs its own
    solve.  The id names P and T and digests the rest.

    ``method`` and ``pressures_MPa`` override the config's (for the model forms).
    """
    me = dict(config["mechanics"], method=method or config["mechanics"]["method"])
    if pressures_MPa is not None:
        me["stack_pressures_MPa"] = list(pressures_MPa)
    if me["method"] == "steady":
        steady = {"method": "steady", **creep_law_from_config(me), "lateral_condition": me["lateral_condition"]}
        steady["temperature"] = steady["reference_temperature"]
        shape = {key: steady[key] for key in ("method", "creep_exponent", "lateral_condition")}
        return {f"steady_{_digest(shape, me['petsc_options'])}":
                {"stack_pressure": STEADY_SOLVE_PRESSURE_MPA * 1e6, **steady, "petsc_options": dict(me["petsc_options"])}}
    runs = {}
    for temperature in sorted({config["temperature_C"], *temperatures_C}):
        runs.update(_mechanics_runs_at(me, temperature))
    return runs


def _mechanics_runs_at(me: dict, temperature: float) -> dict[str, dict]:
    common = {
        "method": "transient",
        "temperature": kelvin(temperature),
        "youngs_modulus": me["youngs_modulus_GPa"] * 1e9,
        "poisson_ratio": me["poisson_ratio"],
        **creep_law_from_config(me),
        "recession": me["recession_um"] * UM,
        "recession_ramp_time": me["recession_ramp_time_s"],
        "t_eval": me["evaluation_time_h"] * 3600.0,
        "output_times": sorted(me["output_times_s"]),
        "lateral_condition": me["lateral_condition"],
    }
    digest = _digest(common, me["petsc_options"])
    return {f"P~{_fmt(p)}_T~{_fmt(temperature)}_{digest}":
            {"stack_pressure": p * 1e6, **common, "petsc_options": dict(me["petsc_options"])}
            for p in me["stack_pressures_MPa"]}


def geometry_cases(config: dict, extra_channel_widths_um: tuple[float, ...] = (),
                   dimension: int | None = None) -> list[GeometryCase]:
    """The planar cell and one grid per channel width, as 2D cross-sections (mesh section) or 3D
    unit cells (unit_cell_3d section).  Default: the model of record's dimension, labelled
    ``planar``, ``grid200``; the other dimension's cells are labelled ``planar_2d``, ``grid200_3d``."""
    g = config["geometry"]
    dimension = dimension or g["dimension"]
    suffix = "" if dimension == g["dimension"] else f"_{dimension}d"
    widths = sorted(set(g["channel_widths_um"]) | set(extra_channel_widths_um))
    thicknesses = dict(sse_half_thickness=g["sse_half_thickness_um"] * UM, li_thickness=g["li_thickness_um"] * UM)
    if dimension == 2:
        m = config["mesh"]
        common = dict(thicknesses, lateral_extent=g["lateral_extent"], n_periods=g["n_periods"],
                      pellet_radius=g["pellet_radius_um"] * UM, planar_width=g["planar_width_um"] * UM)
    else:
        m = config["unit_cell_3d"]
        common = dict(thicknesses, planar_width=g["planar_width_um"] * UM, dimension=3)

    def sizing(width_um: float) -> MeshSizing:
        feature = min(width_um, g["land_to_channel_width_ratio"] * width_um, g["channel_depth_um"])
        interface = m["interface_element_um"] if dimension == 2 or not width_um else \
            min(m["interface_element_um"], feature / 4)  # a narrow 3D channel needs its own resolution
        return MeshSizing(interface_element=interface * UM, growth_rate=m["growth_rate"],
                          max_element=m["max_element_um"] * UM, elements_per_fillet=m["elements_per_fillet"])

    cases = []
    if g["planar"]:
        cases.append(GeometryCase("planar" + suffix, 0.0, CellGeometry(0.0, 0.0, 0.0, 0.0, **common), sizing(0.0)))
    for width in widths:
        geometry = CellGeometry(channel_width=width * UM, land_width=g["land_to_channel_width_ratio"] * width * UM,
                                channel_depth=g["channel_depth_um"] * UM,
                                fillet_radius=fillet_radius_um(g, width) * UM, **common)
        cases.append(GeometryCase(f"grid{_fmt(width)}{suffix}", width, geometry, sizing(width)))
    return cases


def _unit_cell_3d_problems(config: dict) -> list[str]:
    g, u = config["geometry"], config["unit_cell_3d"]
    problems = []
    three_d = g["dimension"] == 3 or config["model_comparison"]["enabled"]
    if g["dimension"] == 3 and g["lateral_extent"] != "unit_cell":
        problems.append(f"config key 'geometry.lateral_extent' = {g['lateral_extent']!r} has no 3D cell: allowed "
                        "'unit_cell' with geometry.dimension = 3 (or geometry.dimension = 2)")
    if three_d and u["max_element_um"] < u["interface_element_um"]:
        problems.append(f"config key 'unit_cell_3d.max_element_um' = {u['max_element_um']:g}: allowed at least "
                        f"unit_cell_3d.interface_element_um = {u['interface_element_um']:g}")
    if three_d and g["planar"] and u["interface_element_um"] > g["planar_width_um"] / 4:
        problems.append(f"config key 'unit_cell_3d.interface_element_um' = {u['interface_element_um']:g} is larger than the "
                        f"3D planar cell resolves: allowed <= {g['planar_width_um'] / 4:g} um (a quarter of "
                        "geometry.planar_width_um)")
    return problems


def _comparison_problems(config: dict) -> list[str]:
    g, me = config["geometry"], config["mechanics"]
    if not config["model_comparison"]["enabled"]:
        return []
    problems = []
    if not g["planar"]:
        problems.append("config key 'model_comparison.enabled' = true calibrates each form on its planar cell: allowed "
                        "with geometry.planar = true")
    if not me["creep"]:
        problems.append("config key 'model_comparison.enabled' = true compares steady creep flows: allowed with "
                        "mechanics.creep = true")
    if g["lateral_extent"] != "unit_cell":
        problems.append(f"config key 'model_comparison.enabled' = true needs the 3D cell beside the 2D one: allowed with "
                        f"geometry.lateral_extent = 'unit_cell', not {g['lateral_extent']!r}")
    return problems


def transient_comparison_pressures_MPa(config: dict, experiments: pd.DataFrame) -> tuple[float, ...]:
    """The pressures of a transient model form: the study's if the record is transient, otherwise only
    those the table needs (the calibration pressure and the experiments')."""
    if config["mechanics"]["method"] == "transient":
        return tuple(config["mechanics"]["stack_pressures_MPa"])
    return tuple(sorted({config["stability"]["calibration_pressure_MPa"], *experiments["pressure_MPa"]}))


def model_forms(config: dict, experiments: pd.DataFrame) -> dict[str, ModelForm]:
    """The forms of the model-form table (none when model_comparison.enabled is false)."""
    if not config["model_comparison"]["enabled"]:
        return {}
    temperatures = tuple(experiments["temperature_C"])
    forms = {}
    for name, (dimension, method, title) in MODEL_FORMS.items():
        record = dimension == config["geometry"]["dimension"] and method == config["mechanics"]["method"]
        pressures = None if method == "steady" else transient_comparison_pressures_MPa(config, experiments)
        cases = geometry_cases(config, channel_widths_um(experiments), dimension)
        forms[name] = ModelForm(name, dimension, method, title, {case.id: case for case in cases},
                                mechanics_runs(config, temperatures, method, pressures), record,
                                electrochemistry_runs(config, temperatures), config)
    return forms


# The inputs of the sensitivity study: config list -> (title, how a value changes the config)
def _scaled(section: str, *keys: str):
    def change(config: dict, factor: float) -> None:
        for key in keys:
            config[section][key] *= factor
    return change


def _set(section: str, key: str, complement: str | None = None):
    def change(config: dict, value: float) -> None:
        config[section][key] = value
        if complement:
            config[section][complement] = 1.0 - value
    return change


SENSITIVITY_INPUTS = {  # config list -> (variant name, title, how a value changes the config)
    "exchange_current_density_factors": ("i0", "i0 x", _scaled("electrochemistry", "exchange_current_density_mA_cm2")),
    "creep_exponents": ("n", "n =", _set("mechanics", "creep_exponent")),
    "critical_stable_fractions": ("f_crit", "f_crit =", _set("stability", "critical_stable_fraction")),
    "channel_depth_factors": ("depth", "depth x", _scaled("geometry", "channel_depth_um")),
    "fillet_radius_factors": ("fillet", "fillet radius x",
                              _scaled("geometry", "fillet_radius_max_um", "fillet_radius_to_width_ratio")),
    "alpha_anodic": ("alpha_a", "alpha_a =", _set("electrochemistry", "alpha_anodic", complement="alpha_cathodic")),
}


def sensitivity_variants(config: dict, experiments: pd.DataFrame) -> tuple[dict[str, ModelForm], list[str]]:
    """One model per (input, value) of the sensitivity section, each with the planar cell (its
    calibration), the reported grids and the experiments' grids; and the problems of variants
    whose geometry does not fit."""
    sensitivity = config["sensitivity"]
    if not sensitivity["enabled"]:
        return {}, []
    temperatures, variants, problems = tuple(experiments["temperature_C"]), {}, []
    for key, (short, title, change) in SENSITIVITY_INPUTS.items():
        for value in sensitivity[key]:
            variant = copy.deepcopy(config)
            variant["geometry"]["channel_widths_um"] = list(sensitivity["channel_widths_um"])
            change(variant, value)
            found = _cross_key_problems(variant)
            if found:
                problems += [f"sensitivity.{key} value {value:g}: {problem}" for problem in found]
                continue
            name = f"{short}~{value:.4g}"
            cases = geometry_cases(variant, channel_widths_um(experiments))
            variants[name] = ModelForm(name, config["geometry"]["dimension"], config["mechanics"]["method"],
                                       f"{title} {value:.3g}", {case.id: case for case in cases},
                                       mechanics_runs(variant, temperatures), False,
                                       electrochemistry_runs(variant, temperatures), variant)
    return variants, problems


def design_cases(config: dict) -> tuple[dict[str, GeometryCase], list[str]]:
    """The design map's cells (every width x depth x land ratio; labels ``w100_d150_r1``), and the
    problems of combinations that do not fit."""
    design = config["design_map"]
    if not design["enabled"]:
        return {}, []
    cases, problems = {}, []
    for ratio in design["land_to_channel_width_ratios"]:
        for depth in design["channel_depths_um"]:
            for width in design["channel_widths_um"]:
                point = copy.deepcopy(config)
                point["geometry"].update(channel_widths_um=[width], channel_depth_um=depth,
                                         land_to_channel_width_ratio=ratio)
                found = _cross_key_problems(point)
                if found:
                    problems += [f"design_map point width {width:g}, depth {depth:g}, ratio {ratio:g}: {problem}"
                                 for problem in found]
                    continue
                case = geometry_cases(point)[-1]
                label = f"w{_fmt(width)}_d{_fmt(depth)}_r{_fmt(ratio)}"
                case = GeometryCase(label, case.channel_width_um, case.geometry, case.sizing)
                cases[case.id] = case
    return cases, problems


def design_temperature_C(config: dict) -> float:
    t = config["design_map"]["temperature_C"]
    return config["temperature_C"] if t is None else t


SHIPPED_CONFIG_DIR = DEFAULT_SCHEMA.parents[2] / "config"  # where the study's own experiments file lives


def experiments_folder(config_files: list, command_line: dict | None = None) -> Path | None:
    """The folder a relative ``experiments.file`` is read from: the working directory if the command
    line (``--config experiments=...``) sets it, else the folder of the last config file that sets it;
    None when none does (the shipped file in ``config/``)."""
    if "file" in dict((command_line or {}).get("experiments") or {}):
        return Path.cwd()
    for config_file in reversed([Path(f) for f in config_files]):
        experiments = read_config_file(config_file).get("experiments")
        if isinstance(experiments, dict) and "file" in experiments:
            return config_file.parent
    return None


def experiments_path(config: dict, folder: str | Path | None) -> Path:
    """The experiments file: a relative ``experiments.file`` is read from ``folder`` (see
    :func:`experiments_folder`; None: the shipped ``config/`` folder)."""
    path = Path(config["experiments"]["file"])
    if path.is_absolute():
        return path
    resolved = (Path(folder) / path if folder is not None else SHIPPED_CONFIG_DIR / path).resolve()
    try:
        return resolved.relative_to(Path.cwd())  # the rules' paths stay relative to the workflow
    except ValueError:
        return resolved


def load_study(config: dict, schema_path: str | Path = DEFAULT_SCHEMA, experiments_dir: str | Path | None = None) -> Study:
    """Validate ``config`` (a Snakemake ``config`` dict or a parsed YAML) and build the study; a
    relative ``experiments.file`` is read from ``experiments_dir`` (:func:`experiments_folder`)."""
    config = validate_config(config, read_schema(schema_path))
    if "cells" not in config["studies"]:  # Study B only: no cell, no experiment
        return Study(name=config["study"], config=config, geometries={}, electrochemistry={}, mechanics={},
                     experiments=pd.DataFrame(columns=["channel_width_um", "temperature_C", "pressure_MPa"]), forms={})
    given = config["experiments"]["file"]
    config["experiments"]["file"] = str(experiments_path(config, experiments_dir))
    experiments = read_experiments(config["experiments"]["file"], default_temperature_C=config["temperature_C"],
                                   given_as=given)
    cases = geometry_cases(config, extra_channel_widths_um=channel_widths_um(experiments))
    variants, variant_problems = sensitivity_variants(config, experiments)
    design, design_problems = design_cases(config)
    same = {(case.geometry, case.sizing): case for case in cases}
    design = {(found := same.get((case.geometry, case.sizing), case)).id: found for case in design.values()}  # share solves
    problems = ([problem for case in cases for problem in _case_problems(config, case)]
                + _unit_cell_3d_problems(config) + _comparison_problems(config) + _experiment_problems(config, experiments)
                + variant_problems + design_problems)
    if (variants or design) and config["mechanics"]["method"] != "steady":
        problems.append(f"config key 'mechanics.method' = {config['mechanics']['method']!r}: the design map and the "
                        "sensitivity study need one mechanics solve per cell, allowed 'steady'")
    if variants and not config["stability"]["calibrate"]:
        problems.append("config key 'sensitivity.enabled' = true re-calibrates eps_dot_0 for every variant: allowed "
                        "with stability.calibrate = true")
    field_map_width = config["figures"]["field_map_channel_width_um"]
    grid_widths = [case.channel_width_um for case in cases if case.channel_width_um]
    if grid_widths and field_map_width not in grid_widths:  # a planar-only study maps the planar cell alone
        problems.append(f"config key 'figures.field_map_channel_width_um' = {field_map_width:g} is not computed: allowed "
                        f"one of {grid_widths}")
    if problems:
        raise ConfigError(problems)
    temperatures = (*experiments["temperature_C"], *([design_temperature_C(config)] if design else []))
    if variants:  # the model of record heads the sensitivity table
        variants = {"baseline": ModelForm("baseline", config["geometry"]["dimension"], config["mechanics"]["method"],
                                          "baseline", {case.id: case for case in cases},
                                          mechanics_runs(config, temperatures), True,
                                          electrochemistry_runs(config, temperatures), config), **variants}
    study = Study(name=config["study"], config=config, geometries={case.id: case for case in cases},
                  electrochemistry=electrochemistry_runs(config, temperatures),
                  mechanics=mechanics_runs(config, temperatures), experiments=experiments,
                  forms=model_forms(config, experiments), variants=variants, design=design)
    problems = cost_problems(study)  # before any mesh is built
    if problems:
        raise ConfigError(problems)
    return study


def _experiment_problems(config: dict, experiments: pd.DataFrame) -> list[str]:
    """Every experiment is classified on its own cell: the planar ones need the planar cell (the
    grids an experiment names are added to the study)."""
    planar_rows = [int(row) for row in experiments.loc[experiments["channel_width_um"] == 0, "row"]]
    if planar_rows and not config["geometry"]["planar"]:
        return [f"config key 'geometry.planar' = false, but rows {planar_rows} of {config['experiments']['file']} are "
                "planar cells: allowed geometry.planar = true, or an experiments file without planar rows"]
    return []


def _case_problems(config: dict, case: GeometryCase) -> list[str]:
    """Geometries added by the experiments file must satisfy the same checks as configured ones."""
    if not case.channel_width_um or case.channel_width_um in config["geometry"]["channel_widths_um"]:
        return []
    probe = copy.deepcopy(config)
    probe["geometry"]["channel_widths_um"] = [case.channel_width_um]
    return [f"{problem} (channel width {case.channel_width_um:g} um comes from {config['experiments']['file']})"
            for problem in _cross_key_problems(probe)]


def read_config_file(path: str | Path) -> dict:
    """A config file's YAML; a syntax error names the file, line and column."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"config file {str(path)!r} not found"])
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        raise ConfigError([f"{where}: invalid YAML, {problem}" + (f" ({context})" if context else "")]) from None


def load_study_file(path: str | Path, schema_path: str | Path = DEFAULT_SCHEMA) -> Study:
    return load_study(read_config_file(path), schema_path, experiments_dir=experiments_folder([path]))


def config_files_of(arguments: list[str], default: str = "config/config.yaml") -> list[str]:
    """The config files a Snakemake command line reads: the default, then every ``--configfile(s)``."""
    files, taking = [default], False
    for argument in arguments:
        if argument in ("--configfile", "--configfiles"):
            taking = True
        elif argument.startswith("--configfile=") or argument.startswith("--configfiles="):
            files.append(argument.split("=", 1)[1])
        elif taking and not argument.startswith("-"):
            files.append(argument)
        else:
            taking = False
    return files


if __name__ == "__main__":  # scripts/lisse run: check the YAML of the config files before Snakemake reads them
    import sys

    try:
        for config_file in config_files_of(sys.argv[1:]):
            read_config_file(config_file)
    except ConfigError as error:
        sys.exit(str(error))
