"""Where the plating results are read: the pit tip on the LLZO side, the Li top on the axis."""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
from dolfinx import fem
from dolfinx import mesh as dmesh
from mpi4py import MPI

from lisse.plating.mechanics.constitutive import principal_max
from lisse.plating.mechanics.problem import LLZO, PlatingProblem


class TipSampler:
    """Points on the owned ``pit_tip`` facets (ends and 2 Gauss points), in their LLZO cell."""

    GAUSS = (0.5 - 0.5 / math.sqrt(3.0), 0.5 + 0.5 / math.sqrt(3.0))

    def __init__(self, problem: PlatingProblem):
        self.problem = problem
        mesh, body = problem.mesh, problem.body
        self.active = "pit_tip" in body.facet_groups and problem.has_llzo
        if not self.active:
            return
        facets = body.facets("pit_tip")
        facets = facets[facets < mesh.topology.index_map(1).size_local]
        f2c = mesh.topology.connectivity(1, 2)
        cells = []
        for f in facets:
            linked = f2c.links(f)
            llzo = [c for c in linked if problem.cell_material[c] == LLZO]
            cells.append(llzo[0])
        cells = np.asarray(cells, dtype=np.int32)
        ends = mesh.geometry.x[dmesh.entities_to_geometry(mesh, 1, facets)][:, :2, :2] if len(facets) else \
            np.zeros((0, 2, 2))
        chord = ends[:, 1] - ends[:, 0]
        self.length = np.linalg.norm(chord, axis=1)
        params = (0.0, *self.GAUSS, 1.0)
        self.xy = np.stack([ends[:, 0] + t * chord for t in params], axis=1).reshape(-1, 2)
        self.cells = np.repeat(cells, len(params))
        self.is_gauss = np.tile([False, True, True, False], len(facets))
        self.weights = np.repeat(self.length, len(params)) * 0.5 * self.is_gauss
        self.points = np.column_stack([self.xy, np.zeros(len(self.xy))])

    def sample(self, stress_dg1: fem.Function) -> tuple[float, float]:
        """(max, length-mean) of sigma_1 over the tip samples; NaN without a pit tip."""
        if not self.active:
            return math.nan, math.nan
        values = stress_dg1.eval(self.points, self.cells).reshape(-1, 4) if len(self.cells) else np.zeros((0, 4))
        s1 = principal_max(values)
        comm = self.problem.comm
        peak = comm.allreduce(float(s1.max(initial=-np.inf)), op=MPI.MAX)
        total = comm.allreduce(float(np.sum(self.weights * s1)), op=MPI.SUM)
        length = comm.allreduce(float(np.sum(self.weights)), op=MPI.SUM)
        return peak, total / length


def axis_top_node(problem: PlatingProblem, layer_thickness: float) -> int | None:
    """Local index of the P2 node at (0, h0) if this rank owns it."""
    coordinates = problem.V.tabulate_dof_coordinates()[: problem.V.dofmap.index_map.size_local]
    distance = np.hypot(coordinates[:, 0], coordinates[:, 1] - layer_thickness)
    if len(distance) and distance.min() <= 1e-6 * layer_thickness:
        return int(distance.argmin())
    return None




def overlap_with_llzo_surface(problem: PlatingProblem, contact_half_width: float) -> float:
    """How far the deformed Li reaches below the deformed free LLZO surface beyond the contact, m (0: nowhere).

    The model has no contact between the Li and the LLZO surface outside the bonded contact (x > c):
    Li squeezed out of the gap may sag through it.  A run where this is not ~0 has left the model's
    validity.  Compared on the layer's nodes (y > 0) that moved beyond x = c, against the LLZO
    surface (y = 0, x >= c) interpolated at their deformed x.
    """
    V, comm = problem.V, problem.comm
    n_owned = V.dofmap.index_map.size_local
    xy = V.tabulate_dof_coordinates()[:n_owned, :2]
    u = problem.u.x.array[: 2 * n_owned].reshape(-1, 2)
    scale = max(contact_half_width, 1e-12)
    surface = (np.abs(xy[:, 1]) <= 1e-9 * scale) & (xy[:, 0] >= contact_half_width * (1 - 1e-9))
    surface_xy = np.concatenate(comm.allgather(xy[surface] + u[surface]))
    if not problem.has_llzo or len(surface_xy) < 2:
        return 0.0
    order = np.argsort(surface_xy[:, 0])
    layer = xy[:, 1] > 1e-9 * scale
    moved = xy[layer] + u[layer]
    beyond = moved[:, 0] > contact_half_width
    gaps = moved[beyond, 1] - np.interp(moved[beyond, 0], surface_xy[order, 0], surface_xy[order, 1])
    deepest = comm.allreduce(float(-gaps.min(initial=0.0)), op=MPI.MAX)
    return deepest if deepest > 0.0 else 0.0
