"""Plating to the end time: the time loop, the history and summary, the result and its files."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import pandas as pd
from dolfinx import fem, io
from mpi4py import MPI

from lisse.core.creep import equivalent_stress
from lisse.core.mesh import Body, load_mesh, write_vtu
from lisse.core.outputs import write_outputs
from lisse.core.quadrature import QuadraturePoints
from lisse.core.stepping import LinearPredictor, StepOutcome, SteppingRecord, integrate
from lisse.core.units import MA_CM2
from lisse.plating.fracture import (
    GRIFFITH_GEOMETRY_FACTOR,
    LLZO_CLEAVAGE_STRENGTH,
    griffith_critical_stress,
    whisker_stress,
)
from lisse.plating.mechanics.constitutive import principal_max
from lisse.plating.mechanics.parameters import (
    PlatingConvergenceError,
    PlatingParameters,
    confined_pressure,
)
from lisse.plating.mechanics.problem import LI, PlatingProblem
from lisse.plating.mechanics.sampling import TipSampler, axis_top_node, overlap_with_llzo_surface

logger = logging.getLogger(__name__)

SQRT2 = math.sqrt(2.0)
# A run stops, flagged, at the first step where it leaves the model: where the Li reaches this fraction
# of the layer thickness below the free LLZO surface (it has no contact there), or where sigma_1 at the pit
# tip exceeds the LLZO's ideal strength (no intact solid carries it; the crack verdict is certain by then).
# The tip's, not the LLZO's maximum: that one sits at the corner where the bonded Li ends, a singularity.
OVERLAP_TOLERANCE = 0.01

HISTORY_COLUMNS = (
    "time_s",
    "plated_thickness_m",
    "growth_strain",
    "p_max_Pa",  # max over Li cells of p = -tr(sigma)/3 (Cauchy, compression positive)
    "p_max_x_m",
    "p_max_y_m",
    "p_mean_Pa",  # area mean over the Li
    "p_pit_mean_Pa",  # area mean over the Li in the pit (NaN without a pit)
    "sigma1_tip_Pa",  # max principal stress at the pit tip, LLZO side (max over the pit_tip samples)
    "sigma1_tip_mean_Pa",  # its length average over pit_tip
    "sigma1_llzo_max_Pa",  # max over all LLZO quadrature points
    "sigma1_llzo_max_x_m",
    "sigma1_llzo_max_y_m",
    "von_mises_li_max_Pa",
    "top_displacement_m",  # u_y of the Li top on the axis (x = 0, y = h0)
    "newton_iterations",
    "dt_s",
)



@dataclass
class PlatingResult:
    history: pd.DataFrame  # one row per time step (and t = 0)
    summary: dict  # JSON-serialisable
    parameters: PlatingParameters
    _problem: PlatingProblem = field(repr=False, default=None)
    _snapshots: list = field(repr=False, default_factory=list)  # (t, u array, stress (N,4), pressure, creep)
    _points: QuadraturePoints = field(repr=False, default=None)

    def _dg1_fields(self) -> dict[str, fem.Function]:
        mesh, Q1 = self._problem.mesh, self._points.dg1
        fields_ = {name: fem.Function(Q1, name=name) for name in
                   ("material", "pressure", "max_principal_stress", "von_mises", "equivalent_viscous_strain")}
        fields_["displacement"] = fem.Function(fem.functionspace(mesh, ("DG", 1, (2,))), name="displacement")
        fields_["stress"] = fem.Function(fem.functionspace(mesh, ("DG", 1, (4,))), name="stress")
        return fields_

    def _fill(self, fields_: dict[str, fem.Function], snapshot) -> None:
        problem, to_dg1 = self._problem, self._points.to_dg1
        t, u_array, stress, pressure, creep = snapshot
        mandel = stress.copy()
        mandel[:, 3] *= SQRT2
        to_dg1(fields_["stress"], stress)
        to_dg1(fields_["max_principal_stress"], principal_max(stress))
        to_dg1(fields_["von_mises"], equivalent_stress(mandel))
        to_dg1(fields_["pressure"], np.repeat(pressure, 3))
        to_dg1(fields_["material"], problem.point_material.astype(float))
        to_dg1(fields_["equivalent_viscous_strain"], creep)
        saved = problem.u.x.array.copy()
        problem.u.x.array[:] = u_array
        fields_["displacement"].interpolate(problem.u)
        problem.u.x.array[:] = saved

    def write_fields(self, path: str | Path) -> None:
        """VTX (ADIOS2 .bp) directory for ParaView: every snapshot, all fields in DG1."""
        fields_ = self._dg1_fields()
        with io.VTXWriter(self._problem.comm, str(path), list(fields_.values()), engine="BP4") as vtx:
            for snapshot in self._snapshots:
                self._fill(fields_, snapshot)
                vtx.write(snapshot[0])

    def write_vtu(self, path: str | Path) -> None:
        """The final state as one serial .vtu (:func:`lisse.core.mesh.write_vtu`), for the workflow's figures."""
        fields_ = self._dg1_fields()
        self._fill(fields_, self._snapshots[-1])
        write_vtu(path, fields_)


# --------------------------------------------------------------------------------------
# The solve
# --------------------------------------------------------------------------------------


def body_of(mesh_data) -> Body:
    """The whole two-body mesh as one :class:`lisse.core.mesh.Body` (Li and LLZO share the displacement)."""
    groups = {name: group.tag for name, group in mesh_data.physical_groups.items() if group.dim == 1}
    present = set(mesh_data.facet_tags.values.tolist())
    present = set().union(*mesh_data.mesh.comm.allgather(present))
    return Body(mesh=mesh_data.mesh, facet_tags=mesh_data.facet_tags,
                facet_groups={name: tag for name, tag in groups.items() if tag in present})


class History:
    """One row per accepted step (and t = 0): p in the Li, sigma_1 in the LLZO and at the pit tip."""

    def __init__(self, problem: PlatingProblem, points: QuadraturePoints, layer_thickness: float):
        self.problem, self.points, self.h0 = problem, points, layer_thickness
        self.comm = problem.comm
        self.tip = TipSampler(problem)
        self.top_node = axis_top_node(problem, layer_thickness)
        self.stress_dg1 = fem.Function(fem.functionspace(problem.mesh, ("DG", 1, (4,))))
        self.owned_cells = np.arange(problem.n_cells) < problem.n_owned
        self.li_cells = problem.cell_material == LI
        weights = problem.point_weights * (problem.point_coordinates[:, 0] if problem.axisymmetric else 1.0)
        self.cell_area = weights.reshape(-1, 3).sum(axis=1)  # per radian (times r) when axisymmetric
        self.velocity = problem.params.plating_velocity
        self.rows: list[dict] = []
        self.stress, self.pressure = None, None  # of the last row

    def _global_max(self, values: np.ndarray, where: np.ndarray, coordinates: np.ndarray):
        comm, local = self.comm, values[where]
        best, rank = comm.allreduce((float(local.max(initial=-np.inf)), comm.rank), op=MPI.MAXLOC)
        xy = coordinates[where][int(local.argmax())] if comm.rank == rank and len(local) else None
        return best, comm.bcast(xy, root=rank)

    def _mean(self, values: np.ndarray, weights: np.ndarray) -> float:
        total = self.comm.allreduce(float(np.sum(values * weights)), op=MPI.SUM)
        weight = self.comm.allreduce(float(np.sum(weights)), op=MPI.SUM)
        return total / weight if weight > 0 else math.nan

    def record(self, t: float, iterations: int, dt: float) -> dict:
        problem, comm = self.problem, self.comm
        self.stress, self.pressure = stress, pressure = problem.cauchy_stress()
        self.points.to_dg1(self.stress_dg1, stress)
        mandel = stress.copy()
        mandel[:, 3] *= SQRT2
        owned, li_points = problem.owned_points, problem.li_points
        tip_max, tip_mean = self.tip.sample(self.stress_dg1)
        p_max, p_at = self._global_max(pressure, self.owned_cells & self.li_cells, problem.cell_centroids)
        s1_max, s1_at = self._global_max(principal_max(stress), owned & ~li_points, problem.point_coordinates)
        vm_max, _ = self._global_max(equivalent_stress(mandel), owned & li_points, problem.point_coordinates)
        top = float(problem.u.x.array[2 * self.top_node + 1]) if self.top_node is not None else -np.inf
        top = comm.allreduce(top, op=MPI.MAX)
        pit = self.owned_cells & problem.pit_cell
        llzo = problem.has_llzo
        row = {
            "time_s": t, "plated_thickness_m": self.velocity * t, "growth_strain": self.velocity * t / self.h0,
            "p_max_Pa": p_max, "p_max_x_m": float(p_at[0]), "p_max_y_m": float(p_at[1]),
            "p_mean_Pa": self._mean(pressure, self.cell_area * (self.owned_cells & self.li_cells)),
            "p_pit_mean_Pa": (self._mean(pressure, self.cell_area * pit) if comm.allreduce(int(pit.any()), op=MPI.MAX)
                              else math.nan),
            "sigma1_tip_Pa": tip_max, "sigma1_tip_mean_Pa": tip_mean,
            "sigma1_llzo_max_Pa": s1_max if llzo else math.nan,
            "sigma1_llzo_max_x_m": float(s1_at[0]) if llzo else math.nan,
            "sigma1_llzo_max_y_m": float(s1_at[1]) if llzo else math.nan,
            "von_mises_li_max_Pa": vm_max,
            "top_displacement_m": top if math.isfinite(top) else math.nan,
            "newton_iterations": iterations, "dt_s": dt,
        }
        self.rows.append(row)
        return row

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(HISTORY_COLUMNS))


def solve_plating(mesh_data, facts: dict, params: PlatingParameters, petsc_options: dict | None = None,
                  prefix: str = "pl_") -> PlatingResult:
    """Plate at ``params.current_density`` for ``params.end_time`` (the deposition time, or to the plated
    thickness); history and final summary.

    ``mesh_data`` is :func:`lisse.core.mesh.load_mesh`'s result for a plating mesh; ``facts`` its
    geometry JSON (at least ``li_thickness_m``; ``flaw_size_m``, ``pit_tip_radius_m`` and
    ``contact_half_width_m`` when present).  Raises :class:`PlatingConvergenceError`.
    """
    t_start = time.perf_counter()
    h0 = float(facts["li_thickness_m"])
    problem = PlatingProblem(body_of(mesh_data), mesh_data.cell_tags, h0, params, petsc_options, prefix)
    comm = problem.comm
    points = problem.points
    history = History(problem, points, h0)
    snapshots = []

    # ---- t = 0: stress free
    problem.set_growth(0.0)
    problem.update_constitutive(0.0)
    problem.commit()
    history.record(0.0, 0, 0.0)

    # ---- growth: backward Euler with adaptive steps
    predictor = LinearPredictor(problem.u.x.array)

    def attempt(t_new: float, dt: float) -> StepOutcome:
        problem.set_growth(params.plating_velocity * t_new / h0)
        predictor.guess(problem.u.x.array, dt)
        return StepOutcome(*problem.newton(dt))

    def accept(t_new: float, dt: float, outcome: StepOutcome) -> None:
        problem.commit()
        predictor.accept(problem.u.x.array, dt)
        row = history.record(t_new, outcome.iterations, dt)
        if comm.rank == 0:
            logger.info("plating: t = %.4g ms  %.3g nm plated  p_max %.4g MPa  sigma1_tip %.4g MPa", t_new * 1e3,
                        row["plated_thickness_m"] * 1e9, row["p_max_Pa"] / 1e6, row["sigma1_tip_Pa"] / 1e6)

    def reached(stop: float) -> None:
        snapshots.append((stop, problem.u.x.array.copy(), history.stress, history.pressure,
                          problem.equivalent_viscous_strain.copy()))

    contact = facts.get("contact_half_width_m")
    check_overlap = contact is not None and problem.has_llzo

    def outside_model(t: float) -> str:
        """Why the model no longer describes the cell at t, or ""."""
        s1_tip = history.rows[-1]["sigma1_tip_Pa"]  # NaN without a pit
        if s1_tip > params.llzo_cleavage_strength:
            return (f"sigma_1 at the pit tip reached {s1_tip / 1e9:.3g} GPa, above the LLZO's ideal (cleavage) "
                    f"strength {params.llzo_cleavage_strength / 1e9:.3g} GPa: it would have cleaved")
        overlap = overlap_with_llzo_surface(problem, float(contact)) if check_overlap else 0.0
        if overlap > OVERLAP_TOLERANCE * h0:
            return (f"the Li sags {overlap * 1e9:.3g} nm through the free LLZO surface beyond the contact (more "
                    f"than {OVERLAP_TOLERANCE:.0%} of the layer), where the model has no contact")
        return ""

    stepping = integrate(params.stepsize(), params.stops, attempt, accept, reached, PlatingConvergenceError,
                         comm.rank, halt=outside_model)
    wall_time = comm.allreduce(time.perf_counter() - t_start, op=MPI.MAX)
    table = history.table()
    summary = plating_summary(problem, table, facts, stepping, wall_time)
    if comm.rank == 0:
        logger.info("plating: %s, i = %.4g mA/cm2, %.3g nm plated in %.4g ms, %d dofs, %d steps, %d Newton its, "
                    "p_max %.4g MPa, sigma1_tip %.4g MPa, %.2f s%s", params.constraint, params.current_density / MA_CM2,
                    summary["reached_plated_thickness_m"] * 1e9, summary["reached_time_s"] * 1e3, problem.n_dofs,
                    stepping.steps, summary["newton_iterations"], summary["p_max_Pa"] / 1e6,
                    summary["sigma1_tip_Pa"] / 1e6, wall_time,
                    f" (stopped early: {stepping.halted})" if stepping.halted else "")
    return PlatingResult(history=table, summary=summary, parameters=params, _problem=problem, _snapshots=snapshots,
                         _points=points)


def fracture_estimates(facts: dict, sigma1_tip: float) -> dict:
    """Griffith's criterion and the cleavage strength beside the FE notch-root stress of the pit tip.

    Creager-Paris: the notch-root stress of a slender blunt notch is sigma_tip = 2 K_I / sqrt(pi rho).
    """
    flaw, rho = facts.get("flaw_size_m"), facts.get("pit_tip_radius_m")
    if flaw is None or rho is None or not math.isfinite(sigma1_tip):
        return {}
    k_estimate = 0.5 * math.sqrt(math.pi * rho) * sigma1_tip
    return {
        "griffith_critical_stress_Pa": float(griffith_critical_stress(flaw)),
        "cleavage_strength_Pa": LLZO_CLEAVAGE_STRENGTH,
        "stress_intensity_estimate_Pa_sqrt_m": k_estimate,
        "griffith_equivalent_stress_Pa": k_estimate / (GRIFFITH_GEOMETRY_FACTOR * math.sqrt(math.pi * flaw)),
    }


def plating_summary(problem: PlatingProblem, history: pd.DataFrame, facts: dict, stepping: SteppingRecord,
                    wall_time: float) -> dict:
    """The summary JSON of a solve: the case, the final state, its maxima over time, fracture, the solver."""
    params = problem.params
    final = history.iloc[-1]
    velocity, t_end, h0 = params.plating_velocity, params.end_time, problem.layer_thickness
    summary = {
        "constraint": params.constraint,
        "kinematics": params.kinematics,
        "axisymmetric": params.axisymmetric,
        "current_density_A_m2": float(params.current_density),
        "current_density_mA_cm2": float(params.current_density) / MA_CM2,
        "plating_velocity_m_s": velocity,
        "plated_thickness_m": float(params.final_plated_thickness),
        "duration_s": params.duration,
        "pit_growth": params.pit_growth,
        "final_growth_strain": velocity * t_end / h0,
        "end_time_s": t_end,
        # the run stops early where it leaves the model (stopped_early); its final values are those there
        "reached_time_s": float(final["time_s"]),
        "reached_plated_thickness_m": float(final["plated_thickness_m"]),
        "stopped_early": stepping.halted or None,
        "valid": not stepping.halted,  # within the model to the end
        "li_thickness_m": h0,
        "flaw_size_m": facts.get("flaw_size_m"),
        "pit_tip_radius_m": facts.get("pit_tip_radius_m"),
        "p_max_Pa": float(final["p_max_Pa"]),
        "p_max_at": {"x_m": float(final["p_max_x_m"]), "y_m": float(final["p_max_y_m"])},
        "p_max_over_time_Pa": float(history["p_max_Pa"].max()),
        "p_mean_Pa": float(final["p_mean_Pa"]),
        "p_pit_mean_Pa": float(final["p_pit_mean_Pa"]),
        "sigma1_tip_Pa": float(final["sigma1_tip_Pa"]),
        "sigma1_tip_mean_Pa": float(final["sigma1_tip_mean_Pa"]),
        "sigma1_tip_max_over_time_Pa": float(history["sigma1_tip_Pa"].max()),
        "sigma1_llzo_max_Pa": float(final["sigma1_llzo_max_Pa"]),
        "sigma1_llzo_max_at": {"x_m": float(final["sigma1_llzo_max_x_m"]), "y_m": float(final["sigma1_llzo_max_y_m"])},
        "von_mises_li_max_Pa": float(final["von_mises_li_max_Pa"]),
        "top_displacement_m": float(final["top_displacement_m"]),
        "bulk_modulus_li_Pa": problem.bulk_li,
        "confined_pressure_bound_Pa": float(confined_pressure(velocity * t_end / h0, problem.bulk_li,
                                                              params.kinematics)),
        "boundary_conditions": problem.constrained,
        "dofs": int(problem.n_dofs),
        "cells": int(problem.body.global_size()),
        "time_steps": stepping.steps,
        "time_step_cutbacks": stepping.cutbacks,
        "newton_iterations": int(sum(stepping.iterations)),
        "newton_iterations_per_step": [int(i) for i in stepping.iterations],
        "wall_time_s": wall_time,
        "n_ranks": problem.comm.size,
        **fracture_estimates(facts, float(final["sigma1_tip_Pa"])),
    }
    if "contact_half_width_m" in facts:
        summary["whisker_stress_Pa"] = float(whisker_stress(velocity, facts["contact_half_width_m"]))
        summary["li_llzo_overlap_m"] = overlap_with_llzo_surface(problem, float(facts["contact_half_width_m"]))
    return summary


# --------------------------------------------------------------------------------------
# File-level driver (the workflow step)
# --------------------------------------------------------------------------------------


def run_plating(mesh_path: str | Path, geometry_json: str | Path, params: PlatingParameters,
                history_csv: str | Path, summary_json: str | Path, fields_dir: str | Path | None,
                vtu_path: str | Path | None, petsc_options: dict | None = None, comm: MPI.Comm = MPI.COMM_WORLD,
                prefix: str = "pl_", provenance: dict | None = None) -> PlatingResult:
    """Load a plating mesh, solve, and write the history CSV, summary JSON, VTX fields and VTU.

    Nothing is written unless the solve succeeded; each output is written under a temporary
    name and renamed into place.
    """
    facts = json.loads(Path(geometry_json).read_text())
    result = solve_plating(load_mesh(mesh_path, comm), facts, params, petsc_options=petsc_options, prefix=prefix)
    result.summary.update({"mesh": str(mesh_path), "geometry": str(geometry_json), "parameters": asdict(params),
                           "petsc_options": dict(petsc_options or {})})
    if provenance is not None:
        result.summary["provenance"] = provenance
    write_outputs(result, comm, history_csv, summary_json, fields_dir, vtu_path, table="history")
    return result
