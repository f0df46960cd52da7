"""Quadrature-point state: the Gauss points of every local cell and the DG1 fields through them.

Both creep problems integrate their material at the points of the degree-2 Gauss rule on a
simplex: tdim + 1 points, as many as a DG1 element has coefficients, so the DG1 field through
the values at the points is unique.  :class:`QuadraturePoints` holds the points (owned and ghost
cells, so no scatter is needed), their coordinates and area/volume weights, and sets a DG1
field from point values (:meth:`QuadraturePoints.to_dg1`): what the Study A mechanics stores
its stress and tangent in, and what both studies write their fields in.
"""

from __future__ import annotations

import basix
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh

DEGREE = 2  # tdim + 1 points per simplex: one per DG1 coefficient


class QuadraturePoints:
    """The degree-2 Gauss points of the local cells of ``mesh`` (owned first, then ghosts)."""

    def __init__(self, mesh: dmesh.Mesh, degree: int = DEGREE):
        self.mesh = mesh
        tdim = mesh.topology.dim
        cell_map = mesh.topology.index_map(tdim)
        self.n_owned_cells = cell_map.size_local
        self.n_cells = cell_map.size_local + cell_map.num_ghosts
        self.cells = np.arange(self.n_cells, dtype=np.int32)
        cell_type = basix.CellType.tetrahedron if tdim == 3 else basix.CellType.triangle
        self.degree = degree
        self.reference_points, reference_weights = basix.make_quadrature(cell_type, degree)
        self.per_cell = len(self.reference_points)
        self.dg1 = fem.functionspace(mesh, ("DG", 1))
        tabulated = self.dg1.element.basix_element.tabulate(0, self.reference_points)[0, :, :, 0]  # (point, dof)
        if tabulated.shape[0] != tabulated.shape[1]:
            raise ValueError(f"a DG1 field through the points needs {tabulated.shape[1]} points per cell, "
                             f"the degree-{degree} rule has {tabulated.shape[0]}")
        self.point_to_dof = np.linalg.inv(tabulated)  # DG1 coefficients from the values at the points
        self.dofs = self.dg1.dofmap.list[: self.n_cells]  # (cell, coefficient): the same for every DG1 space
        self.coordinates = self.evaluate(ufl.SpatialCoordinate(mesh)).reshape(-1, mesh.geometry.dim)
        jacobian = self.evaluate(abs(ufl.JacobianDeterminant(mesh))).reshape(-1, self.per_cell)
        self.weights = (jacobian * reference_weights[None, :]).ravel()  # each point's share of its cell
        self.cell_of_point = np.repeat(self.cells, self.per_cell)
        self.owned = self.cell_of_point < self.n_owned_cells

    @property
    def size(self) -> int:
        return self.per_cell * self.n_cells

    def expression(self, expression) -> fem.Expression:
        """A UFL expression compiled for evaluation at the points (compile once, evaluate often)."""
        return fem.Expression(expression, self.reference_points)

    def evaluate(self, expression) -> np.ndarray:
        """Values of a UFL expression (or a compiled one) at every point: (points, value size)."""
        compiled = expression if isinstance(expression, fem.Expression) else self.expression(expression)
        values = compiled.eval(self.mesh, self.cells)
        return values.reshape(self.size, -1)

    def cell_mean(self, values: np.ndarray) -> np.ndarray:
        """The mean over each cell's points (the cell mean for the equal weights of the degree-2 rule)."""
        return values.reshape(self.n_cells, self.per_cell, *values.shape[1:]).mean(axis=1)

    def to_dg1(self, function: fem.Function, values: np.ndarray) -> None:
        """Set a (vector/tensor) DG1 field from its values at the points, (points, ...) in cell order."""
        per_cell = values.reshape(self.n_cells, self.per_cell, -1)
        coefficients = np.einsum("dq,cqk->cdk", self.point_to_dof, per_cell)
        bs = function.function_space.dofmap.index_map_bs
        function.x.array.reshape(-1, bs)[self.dofs.ravel()] = coefficients.reshape(-1, bs)
