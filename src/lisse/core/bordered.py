"""A linear(ised) system bordered by a few global unknowns: u = w + sum_j U_j psi_j.

Used where a boundary moves as one (the "uniform edge" of a unit cell cut from a wide foil:
u.n = U on the edge, U one unknown, zero net force on it).  The field part w is zero on the
Dirichlet rows (which include the edge's normal component), and each border unknown U_j
multiplies a fixed field psi_j.  The equation of U_j is the residual tested with psi_j.
Each Newton step solves

    [K      K psi ] [dw]     [R_w    ]
    [psi^T K  c   ] [dU] = - [R . psi]

by back-substitution with one factorisation of K: K a = R_w, K b_j = k_j, the k x k Schur
complement S_ij = c_ij - r_i . b_j, S dU = r . a - R_U, and the correction -(a + b dU) + dU . psi.
The border vectors k_j = K_full psi_j and r_j = K_full^T psi_j come from the unconstrained
matrix, before the Dirichlet rows and columns are replaced by the identity.
"""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
from dolfinx import fem
from dolfinx.fem import petsc as fem_petsc
from petsc4py import PETSc

from lisse.core.solvers import linear_solve_failure, solve_linear_system


class LinearSolveError(RuntimeError):
    """A Newton direction could not be computed; the message says why (linear_solve_failure)."""


class BorderedSystem:
    """The Newton system of ``residual_form`` / ``jacobian_form`` in ``u``, with Dirichlet ``bcs`` on
    the increments and border fields ``borders`` (psi_j, each a function of u's space)."""

    def __init__(self, u: fem.Function, residual_form: fem.Form, jacobian_form: fem.Form, bcs: list,
                 borders: list[fem.Function], ksp: PETSc.KSP, near_null_space: PETSc.NullSpace | None = None):
        self.u, self.residual_form, self.jacobian_form = u, residual_form, jacobian_form
        self.bcs, self.borders, self.ksp = bcs, borders, ksp
        V = u.function_space
        self.A = fem_petsc.create_matrix(jacobian_form)
        if near_null_space is not None:
            self.A.setNearNullSpace(near_null_space)  # GAMG builds its coarse spaces from these
        self.b = fem_petsc.create_vector(V)
        self.solution = self.b.duplicate()
        self.border_columns = [self.b.duplicate() for _ in borders]
        self.border_rows = [self.b.duplicate() for _ in borders]
        self.border_solutions = [self.b.duplicate() for _ in borders]
        self.border_norms = np.array([psi.x.petsc_vec.norm() for psi in borders])
        # owned rows (and columns) of the constrained increments, in the matrix's local numbering
        owned = V.dofmap.index_map.size_local * V.dofmap.index_map_bs
        constrained = np.concatenate([bc.dof_indices()[0] for bc in bcs] or [np.zeros(0, np.int32)])
        self.constrained_rows = np.unique(constrained[constrained < owned]).astype(PETSc.IntType)
        self.border_residuals = np.zeros(len(borders))
        self.border_correction = np.zeros(len(borders))
        self.linear_iterations = 0  # Krylov iterations over all solves (1 per solve with LU)

    @property
    def size(self) -> int:
        """Global number of unknowns: the field's and one per border."""
        V = self.u.function_space
        return V.dofmap.index_map.size_global * V.dofmap.index_map_bs + len(self.borders)

    def residual_norm(self) -> float:
        """Assemble R at the current u into ``b`` (constrained rows zeroed) and R_U_j = R . psi_j;
        return |(R_w, R_U)|."""
        with self.b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(self.b, self.residual_form)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self.border_residuals = np.array([self.b.dot(psi.x.petsc_vec) for psi in self.borders])
        fem_petsc.set_bc(self.b, self.bcs, alpha=0.0)
        return math.sqrt(self.b.norm() ** 2 + float(self.border_residuals @ self.border_residuals))

    def _assemble_jacobian(self) -> np.ndarray:
        """Assemble K and the border vectors; return the corner psi_i^T K_full psi_j."""
        self.A.zeroEntries()
        fem_petsc.assemble_matrix(self.A, self.jacobian_form)
        self.A.assemble()
        for psi, column, row in zip(self.borders, self.border_columns, self.border_rows):
            self.A.mult(psi.x.petsc_vec, column)
            self.A.multTranspose(psi.x.petsc_vec, row)
        corner = np.array([[psi.x.petsc_vec.dot(column) for column in self.border_columns] for psi in self.borders])
        for vector in self.border_columns + self.border_rows:
            fem_petsc.set_bc(vector, self.bcs, alpha=0.0)
        self.A.zeroRowsColumnsLocal(self.constrained_rows, diag=1.0)
        return corner

    def _linear_solve(self, rhs: PETSc.Vec, solution: PETSc.Vec) -> None:
        solve_linear_system(self.ksp, rhs, solution)
        self.linear_iterations += self.ksp.getIterationNumber()
        if self.ksp.getConvergedReason() <= 0:
            raise LinearSolveError(linear_solve_failure(self.ksp))

    def newton_direction(self) -> float:
        """Solve for the Newton correction at the last assembled residual; return its norm.

        The field part is kept as ``solution`` (the correction is -solution) and the border part
        as ``border_correction``.  Raises :class:`LinearSolveError`.
        """
        corner = self._assemble_jacobian()
        self.ksp.setOperators(self.A)
        self._linear_solve(self.b, self.solution)  # K a = R_w
        self.border_correction = np.zeros(len(self.borders))
        if self.borders:
            for column, solution in zip(self.border_columns, self.border_solutions):
                self._linear_solve(column, solution)  # K b_j = k_j
            schur = corner - np.array([[row.dot(b) for b in self.border_solutions] for row in self.border_rows])
            rhs = np.array([row.dot(self.solution) for row in self.border_rows]) - self.border_residuals
            self.border_correction = np.linalg.solve(schur, rhs)
            for dU_j, b in zip(self.border_correction, self.border_solutions):
                self.solution.axpy(dU_j, b)  # a + b dU: then du = -solution + dU . psi
        return math.sqrt(self.solution.norm() ** 2 + float(np.sum((self.border_correction * self.border_norms) ** 2)))

    def step(self, start: PETSc.Vec, alpha: float) -> None:
        """u = start + alpha du, du the last Newton correction (ghosts updated)."""
        x = self.u.x.petsc_vec
        x.waxpy(-alpha, self.solution, start)
        for dU_j, psi in zip(self.border_correction, self.borders):
            x.axpy(alpha * dU_j, psi.x.petsc_vec)
        self.u.x.scatter_forward()
