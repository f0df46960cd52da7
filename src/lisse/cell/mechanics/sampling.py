"""The interface tables: stresses, tractions, gap and slip at the Gauss points of the interface facets."""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import pandas as pd
from mpi4py import MPI

from lisse.cell.interface import InterfaceProfile
from lisse.cell.mechanics.problem import LiCreepProblem
from lisse.core.creep import equivalent_stress
from lisse.core.mesh import facet_samples

INTERFACE_COLUMNS = (
    "time_s",
    "s_m",
    "x_m",
    "y_m",
    "segment",
    "von_mises_Pa",
    "hydrostatic_pressure_Pa",  # -tr(sigma)/3, positive in compression
    "deviatoric_norm_Pa",  # |s| = sqrt(s:s) = sqrt(2/3) sigma_e, s = dev(sigma) (3D, with s_zz)
    "normal_traction_Pa",  # n.sigma.n, negative in compression
    "tangential_traction_Pa",  # t.sigma.n, t = n turned clockwise (direction of increasing s); ~0
    "normal_gap_m",  # u.n - g, the contact-constraint violation
    "tangential_displacement_m",  # u.t, the slip along the rigid SSE
)

# 3D: no interface coordinate; each row is a facet Gauss point with its share of the interface
# area, and tangential quantities are magnitudes (there is no single tangent direction)
INTERFACE_COLUMNS_3D = ("time_s", "x_m", "y_m", "z_m", "area_m2") + INTERFACE_COLUMNS[4:]
SORT_KEYS = {2: ["s_m"], 3: ["segment", "x_m", "z_m", "y_m"]}
# What the Li's motion columns hold: the displacement of a transient solve (with the gap of the
# contact constraint), or the velocity of a steady one
MOTION_COLUMNS = {"displacement": ("normal_gap_m", "tangential_displacement_m"),
                  "velocity": ("normal_velocity_m_s", "tangential_velocity_m_s")}


def interface_columns(tdim: int, motion: str = "displacement", timed: bool = True) -> list[str]:
    """The columns of an interface table: 2D or 3D, displacement or velocity, with or without time_s."""
    columns = list(INTERFACE_COLUMNS if tdim == 2 else INTERFACE_COLUMNS_3D)
    renamed = dict(zip(MOTION_COLUMNS["displacement"], MOTION_COLUMNS[motion]))
    return [renamed.get(c, c) for c in columns if timed or c != "time_s"]

SQRT2 = math.sqrt(2.0)


class InterfaceSampler:
    """Gauss points on every owned interface facet (2 per edge in 2D, 3 per triangle in 3D), with
    the facet's normal, its cell and its share of the interface length (area).

    Values come from the DG1 stress of the facet's own cell, the same trace the Nitsche
    terms use.  In 2D each point also gets its interface coordinate ``s``; facet-interior
    points never coincide, so ``s`` is strictly increasing.
    """

    def __init__(self, problem: LiCreepProblem, profile: InterfaceProfile | None, motion: str = "displacement"):
        self.problem, self.motion = problem, motion
        self.tdim = tdim = problem.tdim
        samples = facet_samples(problem.body, problem.segments, degree=3 if tdim == 2 else 2)
        self.cells, self.points, self.weights = samples.cells, samples.points, samples.weights
        # n: the SSE's outward normal, into the Li; the constraint's own normal
        if problem.interface_normal is None:
            self.normal = -samples.normals
        else:
            averaged = problem.interface_normal.eval(samples.points, samples.cells).reshape(-1, tdim)
            self.normal = -averaged / np.linalg.norm(averaged, axis=1)[:, None]
        if tdim == 2:
            # Gauss points lie on the straight facets, off a fillet arc by at most its sagitta h^2 / (8 r)
            longest = problem.comm.allreduce(float(2.0 * self.weights.max(initial=0.0)), op=MPI.MAX)
            self.s, self.segment = profile.locate(self.points[:, :2], tolerance=max(1e-9, 0.5 * longest))
            self.tangent = np.column_stack([self.normal[:, 1], -self.normal[:, 0]])  # n turned clockwise
        else:
            self.segment = samples.groups

    def sample(self, t: float | None) -> pd.DataFrame:
        """Interface quantities at time t (None: a steady state, no time column), gathered on every
        rank and sorted (by s in 2D).  The motion is the displacement u with the gap u.n - g, or
        the velocity v of a steady solve."""
        problem, tdim = self.problem, self.tdim
        components = problem.stress.eval(self.points, self.cells).reshape(-1, problem.n_stress)
        moving = problem.u if self.motion == "displacement" else problem.velocity
        offset = float(problem.gap.value) if self.motion == "displacement" else 0.0
        u = moving.eval(self.points, self.cells).reshape(-1, tdim)
        mandel = components.copy()
        mandel[:, 3:] *= SQRT2
        von_mises = equivalent_stress(mandel)
        n = self.normal
        if tdim == 2:  # [xx, yy, zz, xy]
            tensor = components[:, [0, 3, 3, 1]].reshape(-1, 2, 2)
        else:  # [xx, yy, zz, xy, yz, xz]
            tensor = components[:, [0, 3, 5, 3, 1, 4, 5, 4, 2]].reshape(-1, 3, 3)
        traction = np.einsum("pij,pj->pi", tensor, n)
        normal_traction = np.einsum("pi,pi->p", traction, n)
        normal_displacement = np.einsum("pi,pi->p", u, n)
        normal_motion, tangential_motion = MOTION_COLUMNS[self.motion]
        columns = {
            "time_s": np.full(len(self.points), np.nan if t is None else float(t)),
            "x_m": self.points[:, 0],
            "y_m": self.points[:, 1],
            "segment": self.segment.astype(str),
            "von_mises_Pa": von_mises,
            "hydrostatic_pressure_Pa": -(components[:, 0] + components[:, 1] + components[:, 2]) / 3.0,
            "deviatoric_norm_Pa": math.sqrt(2.0 / 3.0) * von_mises,
            "normal_traction_Pa": normal_traction,
            normal_motion: normal_displacement - offset,
        }
        if tdim == 2:
            columns["s_m"] = self.s
            columns["tangential_traction_Pa"] = np.einsum("pi,pi->p", traction, self.tangent)
            columns[tangential_motion] = np.einsum("pi,pi->p", u, self.tangent)
        else:  # no tangent direction on a surface: magnitudes of the tangential parts
            columns["z_m"] = self.points[:, 2]
            columns["area_m2"] = self.weights
            columns["tangential_traction_Pa"] = np.linalg.norm(traction - normal_traction[:, None] * n, axis=1)
            columns[tangential_motion] = np.linalg.norm(u - normal_displacement[:, None] * n, axis=1)
        local = pd.DataFrame(columns, columns=interface_columns(tdim, self.motion, timed=t is not None))
        table = pd.concat(problem.comm.allgather(local), ignore_index=True)
        return table.sort_values(SORT_KEYS[tdim], kind="stable").reset_index(drop=True)


