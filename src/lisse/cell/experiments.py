"""Experimental points (user input): read, check row by row, and name the geometries they need.

Columns (the experiments of Study A, Adv. Mater. 2021, 2104009): ``geometry`` (``planar`` or a grid label such as
``grid200``), ``channel_width_um`` (empty for planar), ``current_mA_cm2``, ``pressure_MPa``,
``temperature_C`` (empty means the study's temperature), ``outcome`` (``stable`` or ``short``),
``test``, ``source``, ``note`` (optional).  Every problem is reported with its row number
(1 = first data row; the file line is one more) and column.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS = ("geometry", "channel_width_um", "current_mA_cm2", "pressure_MPa", "temperature_C",
                    "outcome", "test", "source")
OUTCOMES = ("stable", "short")


class ExperimentsError(ValueError):
    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"invalid experiments file {path}:\n  - " + "\n  - ".join(problems))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


GRID_LABEL = re.compile(r"^grid\s*(\d+(?:\.\d*)?)$")


def geometry_label(channel_width_um: float) -> str:
    """The study's label of a geometry: ``planar`` or ``grid<width>``."""
    return f"grid{channel_width_um:g}" if channel_width_um else "planar"


def read_experiments(path: str | Path, default_temperature_C: float = 25.0, given_as: str | None = None) -> pd.DataFrame:
    """The experiments table with numeric columns parsed; raise :class:`ExperimentsError` listing every bad cell.

    A row's geometry is its channel width: its label is checked against it (case-insensitive;
    ``grid100`` with width 200 is a contradiction, a free label such as ``pillars`` is kept in
    ``label``) and replaced by the study's (``planar``, ``grid200``).  Rows repeating the same
    width, current, pressure, temperature and test are refused.
    """
    path = Path(path)
    if not path.is_file():
        looked = f", looked for {path.resolve()}" if given_as is not None else ""
        raise ExperimentsError(path, [f"file not found (config key 'experiments.file' = {given_as or str(path)!r}"
                                      f"{looked}; a relative path is read from the config file's folder)"])
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ExperimentsError(path, ["the file is empty: it needs a header and at least one row"]) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise ExperimentsError(path, [f"missing column(s) {missing}; the header must hold {list(REQUIRED_COLUMNS)}"])
    if raw.empty:
        raise ExperimentsError(path, ["no experiments: the file has a header but no rows"])
    problems, rows = [], []
    for index, row in raw.iterrows():
        where = f"row {index + 1} (line {index + 2})"

        def bad(column: str, allowed: str, where: str = where, row=row) -> None:
            problems.append(f"{where}, column '{column}': value {row[column]!r} is not allowed: {allowed}")

        label, width_text = row["geometry"].strip(), row["channel_width_um"].strip()
        width = _number(width_text) if width_text else 0.0
        named = GRID_LABEL.match(label.lower())
        if not label:
            bad("geometry", "'planar' or a grid label such as 'grid200'")
        if label.lower() == "planar" and width_text:
            bad("channel_width_um", "empty for the planar cell")
        elif label.lower() != "planar" and (width is None or width <= 0):
            bad("channel_width_um", "a channel width in um > 0 (empty only for geometry 'planar')")
        elif named and width and not math.isclose(float(named.group(1)), width):
            bad("geometry", f"a label that agrees with channel_width_um = {width_text} (e.g. {geometry_label(width)!r})")
        current = _number(row["current_mA_cm2"])
        if current is None or current <= 0:
            bad("current_mA_cm2", "a number > 0 (mA/cm2)")
        pressure = _number(row["pressure_MPa"])
        if pressure is None or pressure <= 0:
            bad("pressure_MPa", "a number > 0 (MPa)")
        temperature_text = row["temperature_C"].strip()
        temperature = _number(temperature_text) if temperature_text else default_temperature_C
        if temperature is None or not -40 <= temperature <= 200:
            bad("temperature_C", "a number from -40 to 200 (C), or empty for the study's temperature")
        outcome = row["outcome"].strip().lower()
        if outcome not in OUTCOMES:
            bad("outcome", f"one of {list(OUTCOMES)}")
        rows.append({"row": index + 1, "geometry": geometry_label(width or 0.0), "label": label,
                     "channel_width_um": width, "current_mA_cm2": current,
                     "pressure_MPa": pressure, "temperature_C": temperature, "outcome": outcome,
                     "test": row["test"], "source": row["source"], "note": row.get("note", "")})
    seen: dict[tuple, int] = {}
    for row in rows:
        key = (row["channel_width_um"], row["current_mA_cm2"], row["pressure_MPa"], row["temperature_C"],
               row["test"].strip().lower())
        if key in seen and None not in key:
            problems.append(f"row {row['row']} (line {row['row'] + 1}) repeats row {seen[key]} (line {seen[key] + 1}): "
                            "the same geometry, current, pressure, temperature and test; keep one")
        seen.setdefault(key, row["row"])
    if problems:
        raise ExperimentsError(path, problems)
    return pd.DataFrame(rows)


def channel_widths_um(experiments: pd.DataFrame) -> tuple[float, ...]:
    """Channel widths the experiments name (the planar cell excluded)."""
    return tuple(sorted({float(w) for w in experiments["channel_width_um"] if w > 0}))
