"""The experiments table is user input: malformed rows fail with row number and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from lisse.cell.experiments import ExperimentsError, channel_widths_um, read_experiments

ROOT = Path(__file__).resolve().parents[1]
HEADER = "geometry,channel_width_um,current_mA_cm2,pressure_MPa,temperature_C,outcome,test,source,note\n"
GOOD = "grid200,200,0.5,1.0,25,stable,cycling,lab,ok\n"


def write(tmp_path, *rows, header=HEADER) -> Path:
    path = tmp_path / "experiments.csv"
    path.write_text(header + "".join(rows))
    return path


def problems(path) -> str:
    with pytest.raises(ExperimentsError) as caught:
        read_experiments(path)
    return str(caught.value)


def test_shipped_experiments():
    table = read_experiments(ROOT / "config" / "experiments.csv")
    assert len(table) == 6
    assert set(table["outcome"]) == {"short", "stable"}
    assert channel_widths_um(table) == (200.0,)


def test_empty_temperature_means_study_temperature(tmp_path):
    table = read_experiments(write(tmp_path, "planar,,0.3,1.0,,short,ccd,lab,\n"), default_temperature_C=60)
    assert table["temperature_C"].iloc[0] == 60


def test_bad_number(tmp_path):
    message = problems(write(tmp_path, GOOD, "grid200,200,abc,1.0,25,short,ccd,lab,\n"))
    assert "row 2 (line 3), column 'current_mA_cm2': value 'abc' is not allowed: a number > 0" in message


def test_negative_pressure(tmp_path):
    assert "row 1 (line 2), column 'pressure_MPa': value '-1' is not allowed" in problems(
        write(tmp_path, "planar,,0.3,-1,25,short,ccd,lab,\n"))


def test_bad_outcome(tmp_path):
    assert "column 'outcome': value 'dead' is not allowed: one of ['stable', 'short']" in problems(
        write(tmp_path, "planar,,0.3,1,25,dead,ccd,lab,\n"))


def test_grid_without_width(tmp_path):
    assert "column 'channel_width_um': value '' is not allowed: a channel width in um > 0" in problems(
        write(tmp_path, "grid50,,0.3,1,25,short,ccd,lab,\n"))


def test_planar_with_width(tmp_path):
    assert "column 'channel_width_um': value '50' is not allowed: empty for the planar cell" in problems(
        write(tmp_path, "planar,50,0.3,1,25,short,ccd,lab,\n"))


def test_temperature_out_of_range(tmp_path):
    assert "column 'temperature_C': value '900' is not allowed" in problems(
        write(tmp_path, "planar,,0.3,1,900,short,ccd,lab,\n"))


def test_missing_column(tmp_path):
    header = "geometry,current_mA_cm2,pressure_MPa,temperature_C,outcome,test,source\n"
    assert "missing column(s) ['channel_width_um']" in problems(
        write(tmp_path, "planar,0.3,1,25,short,ccd,lab\n", header=header))


def test_new_channel_width_is_named(tmp_path):
    table = read_experiments(write(tmp_path, GOOD, "grid75,75,0.5,1.0,25,short,ccd,lab,\n"))
    assert channel_widths_um(table) == (75.0, 200.0)


def test_labels_follow_the_width(tmp_path):
    table = read_experiments(write(tmp_path, "Grid200,200,0.5,1.0,25,stable,cycling,lab,\n",
                                   "pillars,200,0.2,1.0,25,stable,cycling,lab,\n", "PLANAR,,0.3,1.0,25,short,ccd,lab,\n"))
    assert list(table["geometry"]) == ["grid200", "grid200", "planar"]
    assert list(table["label"]) == ["Grid200", "pillars", "PLANAR"]
    message = problems(write(tmp_path, "grid100,200,0.5,1.0,25,stable,cycling,lab,\n"))
    assert "row 1 (line 2), column 'geometry': value 'grid100' is not allowed" in message and "'grid200'" in message


def test_duplicate_rows_name_both(tmp_path):
    message = problems(write(tmp_path, GOOD, "planar,,0.3,1.0,25,short,ccd,lab,\n", GOOD))
    assert "row 3 (line 4) repeats row 1 (line 2)" in message


def test_empty_and_header_only_files(tmp_path):
    assert "no experiments: the file has a header but no rows" in problems(write(tmp_path))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in problems(empty)
