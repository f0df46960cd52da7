"""The discrete problem of the Li + LLZO body: spaces, forms, quadrature-point state, Newton."""

from __future__ import annotations

import logging
import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import basix
import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem import petsc as fem_petsc
from mpi4py import MPI
from petsc4py import PETSc

from lisse.core.creep import MANDEL_IDENTITY
from lisse.core.kinematics import cell_mean_divergence
from lisse.core.mesh import Body
from lisse.core.solvers import (
    default_petsc_options,
    linear_solve_failure,
    linear_solver,
    solve_linear_system,
)
from lisse.plating.mechanics.constitutive import (
    PointUpdate,
    finite_strain_update,
    small_strain_update,
)
from lisse.plating.mechanics.parameters import PlatingParameters, bulk_modulus

logger = logging.getLogger(__name__)

SQRT2 = math.sqrt(2.0)
QUADRATURE_DEGREE = 2  # 3 points per triangle
ROUNDOFF_RESIDUAL_FACTOR = 100.0
LLZO, LI = 1, 2  # cell tags (lisse.plating.geometry.CELL_GROUPS)



def _cell_mean_jacobian(u, centroid, second_moment):
    """Exact cell mean of J = det(I + grad u) on an affine P2 triangle.

    grad u is linear: F(x) = F_c + H.(x - x_c) with F_c = F at the centroid and H = grad grad u
    constant.  J is quadratic, the linear term averages out, and the mean of the quadratic
    term is det-like in H contracted with the second moment S = mean (x - x_c)(x - x_c)^T.
    """
    x = ufl.SpatialCoordinate(u.ufl_function_space().mesh)
    H = ufl.grad(ufl.grad(u))
    Fc = ufl.Identity(2) + ufl.grad(u) + ufl.dot(H, centroid - x)
    k, l_ = ufl.indices(2)
    quadratic = (H[0, 0, k] * H[1, 1, l_] - H[0, 1, k] * H[1, 0, l_]) * second_moment[k, l_]
    return ufl.det(Fc) + quadratic


def _sym_tensor(v):
    return ufl.as_tensor([[v[0], v[2]], [v[2], v[1]]])


# --------------------------------------------------------------------------------------
# The discrete problem
# --------------------------------------------------------------------------------------


class PlatingProblem:
    """Spaces, forms, quadrature-point state and the Newton solver of the Li + LLZO body."""

    def __init__(self, body: Body, cell_tags: dmesh.MeshTags, layer_thickness: float, params: PlatingParameters,
                 petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.finite = params.kinematics == "finite"
        self.layer_thickness = layer_thickness
        self.li_material, self.llzo_material = params.li_material(), params.llzo_material()
        tdim, fdim = 2, 1
        mesh.topology.create_connectivity(fdim, tdim)
        cell_map = mesh.topology.index_map(tdim)
        self.n_owned = cell_map.size_local
        self.n_cells = cell_map.size_local + cell_map.num_ghosts
        self.cells = np.arange(self.n_cells, dtype=np.int32)

        # ---- per-cell data (DG0): material, growth indicator, bulk modulus, centroid, second moment
        self.Q0 = fem.functionspace(mesh, ("DG", 0))
        dg0_dofs = self.Q0.dofmap.list[: self.n_cells, 0]
        material = fem.Function(self.Q0)
        material.x.array[dg0_dofs[cell_tags.indices[cell_tags.indices < self.n_cells]]] = \
            cell_tags.values[cell_tags.indices < self.n_cells]
        material.x.scatter_forward()
        self.cell_material = np.rint(material.x.array[dg0_dofs]).astype(int)
        if not np.all(np.isin(self.cell_material, (LLZO, LI))):
            raise ValueError("every cell must be tagged llzo (1) or li (2)")
        vertices = mesh.geometry.x[dmesh.entities_to_geometry(mesh, tdim, self.cells)][:, :, :2]  # (cell, 3, 2)
        centroids = vertices.mean(axis=1)
        relative = vertices - centroids[:, None, :]
        second_moments = np.einsum("cvi,cvj->cij", relative, relative) / 12.0
        self.cell_centroids = centroids
        self.growing_cell = (self.cell_material == LI) & (centroids[:, 1] > 0.0)  # the layer above y = 0
        self.pit_cell = (self.cell_material == LI) & (centroids[:, 1] < 0.0)
        self.has_llzo = self.comm.allreduce(int(np.any(self.cell_material[: self.n_owned] == LLZO)), op=MPI.MAX) > 0

        self.growth = fem.Function(self.Q0, name="growth_strain")
        self.bulk = fem.Function(self.Q0)
        self.bulk_li, self.bulk_llzo = bulk_modulus(self.li_material), bulk_modulus(self.llzo_material)
        self.cell_bulk = np.where(self.cell_material == LI, self.bulk_li, self.bulk_llzo)
        self.bulk.x.array[dg0_dofs] = self.cell_bulk
        W0 = fem.functionspace(mesh, ("DG", 0, (2,)))
        T0 = fem.functionspace(mesh, ("DG", 0, (2, 2)))
        self.centroid, self.second_moment = fem.Function(W0), fem.Function(T0)
        self.centroid.x.array.reshape(-1, 2)[W0.dofmap.list[: self.n_cells, 0]] = centroids
        self.second_moment.x.array.reshape(-1, 4)[T0.dofmap.list[: self.n_cells, 0]] = second_moments.reshape(-1, 4)
        self.dg0_dofs = dg0_dofs

        # ---- displacement and quadrature-point fields
        self.V = V = fem.functionspace(mesh, ("Lagrange", 2, (tdim,)))
        self.u = fem.Function(V, name="displacement")
        v, du = ufl.TestFunction(V), ufl.TrialFunction(V)
        points, weights = basix.make_quadrature(basix.CellType.triangle, QUADRATURE_DEGREE)
        assert len(points) == 3
        self.quadrature_points = points

        def quadrature_space(shape):
            element = basix.ufl.quadrature_element(mesh.basix_cell(), value_shape=shape, degree=QUADRATURE_DEGREE)
            return fem.functionspace(mesh, element)

        self.tau_q = fem.Function(quadrature_space((3,)))
        self.dtau_q = fem.Function(quadrature_space((3, 3)))
        self.state_q = fem.Function(quadrature_space((3,)))  # finite: C_v^-1 in-plane [xx, yy, xy]
        assert np.allclose(self.tau_q.function_space.element.interpolation_points, points)  # same rule, same order
        self.q_dofs = self.tau_q.function_space.dofmap.list[: self.n_cells]  # (cell, point): same for all
        self.grad_at_points = fem.Expression(ufl.grad(self.u), points)
        x_points = fem.Expression(ufl.SpatialCoordinate(mesh), points).eval(mesh, self.cells)
        self.point_coordinates = x_points.reshape(-1, tdim)
        detJ = fem.Expression(abs(ufl.JacobianDeterminant(mesh)), points).eval(mesh, self.cells).reshape(-1, 3)
        self.point_weights = (detJ * weights[None, :]).ravel()  # area of each point's share of its cell
        self.point_cell = np.repeat(self.cells, 3)
        self.point_material = self.cell_material[self.point_cell]
        self.li_points = self.point_material == LI
        self.owned_points = self.point_cell < self.n_owned
        n_points = 3 * self.n_cells
        self.state = np.tile([1.0, 1.0, 1.0, 0.0], (n_points, 1)) if self.finite else np.zeros((n_points, 4))
        self.equivalent_viscous_strain = np.zeros(n_points)
        self.update: PointUpdate | None = None
        self._set_quadrature(self.state_q, self.state[:, [0, 1, 3]])

        # ---- forms
        dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        g = self.growth
        bulk = self.bulk
        tau = _sym_tensor(self.tau_q)
        if self.finite:
            F = ufl.Identity(2) + ufl.grad(self.u)
            n = ufl.as_vector([0.0, 1.0])
            Fbar = F * (ufl.Identity(2) - g / (1.0 + g) * ufl.outer(n, n))
            b = Fbar * _sym_tensor(self.state_q) * Fbar.T
            measure = ufl.as_vector([b[0, 0], b[1, 1], b[0, 1]])
            FinvT = ufl.inv(F).T
            dmeasure = ufl.derivative(measure, self.u, du)
            dtau = _sym_tensor(ufl.dot(self.dtau_q, dmeasure))
            residual_dev = ufl.inner(tau * FinvT, ufl.grad(v)) * dx
            jacobian_dev = ufl.inner(dtau * FinvT + tau * ufl.derivative(FinvT, self.u, du), ufl.grad(v)) * dx
            self.theta = _cell_mean_jacobian(self.u, self.centroid, self.second_moment)
            volumetric_energy = (1.0 + g) * bulk / 2.0 * ufl.ln(self.theta / (1.0 + g)) ** 2
        else:
            e = ufl.sym(ufl.grad(du))
            dtau = _sym_tensor(ufl.dot(self.dtau_q, ufl.as_vector([e[0, 0], e[1, 1], e[0, 1]])))
            residual_dev = ufl.inner(tau, ufl.grad(v)) * dx
            jacobian_dev = ufl.inner(dtau, ufl.grad(v)) * dx
            self.theta = cell_mean_divergence(self.u, self.centroid)  # Study A's P2-P0 volumetric strain
            volumetric_energy = bulk / 2.0 * (self.theta - g) ** 2
        residual_vol = ufl.derivative(volumetric_energy * dx, self.u, v)
        self.residual_form = fem.form(residual_dev + residual_vol)
        self.jacobian_form = fem.form(jacobian_dev + ufl.derivative(residual_vol, self.u, du))
        self.theta_at_points = fem.Expression(self.theta, points)

        # ---- boundary conditions (homogeneous: the load is the growth)
        groups = body.facet_groups
        x_fixed, y_fixed, all_fixed = ["li_symmetry", "llzo_symmetry"], ["llzo_bottom"], []
        if params.constraint in ("top", "top_lateral"):
            all_fixed.append("li_cc")
        if params.constraint == "top_lateral":
            x_fixed.append("li_free")
        if not self.has_llzo:
            all_fixed.append("li_llzo")  # a Li-only mesh sits on a rigid substrate
        self.bcs = []
        for names, sub in ((x_fixed, 0), (y_fixed, 1)):
            present = [name for name in names if name in groups]
            if present:
                dofs = fem.locate_dofs_topological(V.sub(sub), fdim, body.facets(*present))
                self.bcs.append(fem.dirichletbc(0.0, dofs, V.sub(sub)))
        present = [name for name in all_fixed if name in groups]
        if present:
            dofs = fem.locate_dofs_topological(V, fdim, body.facets(*present))
            self.bcs.append(fem.dirichletbc(np.zeros(2), dofs, V))
        self.constrained = {"u_x = 0": [n for n in x_fixed if n in groups],
                            "u_y = 0": [n for n in y_fixed if n in groups], "u = 0": present}

        # ---- linear algebra
        self.A = fem_petsc.create_matrix(self.jacobian_form)
        self.b = fem_petsc.create_vector(V)
        self.solution = self.b.duplicate()
        self.petsc_options = {**default_petsc_options(), **(petsc_options or {})}
        self.ksp = linear_solver(self.comm, prefix, self.petsc_options)
        self.force_scale = self.bulk_li * params.plated_thickness  # nodal forces per unit depth, N/m
        self.n_dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs

    # ---- quadrature-point state

    def _set_quadrature(self, function: fem.Function, values: np.ndarray) -> None:
        bs = function.function_space.dofmap.index_map_bs
        function.x.array.reshape(-1, bs)[self.q_dofs.ravel()] = values.reshape(len(values), -1)

    def set_growth(self, growth_strain: float) -> None:
        self.growth.x.array[self.dg0_dofs] = np.where(self.growing_cell, growth_strain, 0.0)

    @property
    def point_growth(self) -> np.ndarray:
        return np.repeat(self.growth.x.array[self.dg0_dofs], 3)

    def update_constitutive(self, dt: float) -> None:
        grad_u = self.grad_at_points.eval(self.mesh, self.cells).reshape(-1, 2, 2)
        growth = self.point_growth
        step = finite_strain_update if self.finite else small_strain_update
        n = len(grad_u)
        tau, dtau = np.empty((n, 3)), np.empty((n, 3, 3))
        deviator, state, dp = np.empty((n, 4)), np.empty((n, 4)), np.zeros(n)
        p = self.params
        for mask, material, dt_m, ys in ((self.li_points, self.li_material, dt, p.yield_strength),
                                         (~self.li_points, self.llzo_material, 0.0, 0.0)):
            if not np.any(mask):
                continue
            result = step(grad_u[mask], growth[mask], self.state[mask], dt_m, material, ys)
            tau[mask], dtau[mask], deviator[mask] = result.tau, result.dtau, result.deviator
            state[mask], dp[mask] = result.state, result.creep_increment
        self.update = PointUpdate(tau=tau, dtau=dtau, deviator=deviator, state=state, creep_increment=dp)
        self._set_quadrature(self.tau_q, tau)
        self._set_quadrature(self.dtau_q, dtau)

    def commit(self) -> None:
        self.state = self.update.state.copy()
        self.equivalent_viscous_strain = self.equivalent_viscous_strain + self.update.creep_increment
        if self.finite:
            self._set_quadrature(self.state_q, self.state[:, [0, 1, 3]])

    def cauchy_stress(self) -> tuple[np.ndarray, np.ndarray]:
        """Cauchy stress per point as tensor components [xx, yy, zz, xy], and the pressure per cell."""
        theta = self.theta_at_points.eval(self.mesh, self.cells).reshape(-1, 3).mean(axis=1)
        g = self.growth.x.array[self.dg0_dofs]
        if self.finite:
            elastic_volume = theta / (1.0 + g)
            volumetric = self.cell_bulk * np.log(elastic_volume)  # Kirchhoff (intermediate configuration)
            pressure = -volumetric / elastic_volume
            scale = np.repeat(1.0 / elastic_volume, 3)
        else:
            volumetric = self.cell_bulk * (theta - g)
            pressure = -volumetric
            scale = np.ones(3 * self.n_cells)
        mandel = (self.update.deviator + np.repeat(volumetric, 3)[:, None] * MANDEL_IDENTITY) * scale[:, None]
        stress = mandel.copy()
        stress[:, 3] /= SQRT2
        return stress, pressure

    # ---- Newton

    def _assemble_residual(self) -> float:
        with self.b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(self.b, self.residual_form)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem_petsc.set_bc(self.b, self.bcs, alpha=0.0)
        return self.b.norm()

    def _evaluate(self, dt: float) -> float:
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                self.update_constitutive(dt)
            failed = 0
        except (RuntimeError, FloatingPointError, np.linalg.LinAlgError):
            failed = 1
        if self.comm.allreduce(failed, op=MPI.MAX):
            return math.inf
        norm = self._assemble_residual()
        return norm if math.isfinite(norm) else math.inf

    def newton(self, dt: float) -> tuple[bool, int, float, str]:
        """Solve the step from the current guess in self.u: (converged, iterations, |R|, reason)."""
        p = self.params
        norm = self._evaluate(dt)
        correction_norm = math.inf
        u_start = self.u.x.petsc_vec.copy()
        tolerance = p.newton_rtol * self.force_scale
        for iteration in range(p.max_newton_iterations + 1):
            if self.comm.rank == 0:
                logger.debug("  Newton %2d: |R| = %.3e, |du| = %.3e", iteration, norm, correction_norm)
            if not math.isfinite(norm):
                return False, iteration, norm, "constitutive update failed or residual not finite"
            if norm <= tolerance:
                return True, iteration, norm, "converged"
            if correction_norm <= p.newton_stol * self.u.x.petsc_vec.norm():
                return True, iteration, norm, "converged (correction at round-off level)"
            if iteration == p.max_newton_iterations:
                break
            self.A.zeroEntries()
            fem_petsc.assemble_matrix(self.A, self.jacobian_form, bcs=self.bcs)
            self.A.assemble()
            self.ksp.setOperators(self.A)
            solve_linear_system(self.ksp, self.b, self.solution)
            if self.ksp.getConvergedReason() <= 0:
                return False, iteration, norm, linear_solve_failure(self.ksp)
            direction_norm = self.solution.norm()
            self.u.x.petsc_vec.copy(u_start)
            slope0 = -self.b.dot(self.solution)  # d/d alpha of the incremental energy along -solution
            if direction_norm <= p.newton_stol * u_start.norm():
                alpha, trial_norm = 1.0, self._step_to(1.0, u_start, dt)[0]
            else:
                alpha, trial_norm = self._line_search(u_start, dt, norm, slope0)
            if alpha is None:
                if norm <= ROUNDOFF_RESIDUAL_FACTOR * tolerance:
                    u_start.copy(self.u.x.petsc_vec)
                    self.u.x.scatter_forward()
                    self._evaluate(dt)
                    return True, iteration, norm, "converged (residual stagnates at round-off level)"
                return False, iteration + 1, norm, "line search found no acceptable step"
            if self.comm.rank == 0:
                logger.debug("    line search: alpha = %.3g", alpha)
            norm = trial_norm
            correction_norm = alpha * direction_norm
        return False, p.max_newton_iterations, norm, f"no convergence in {p.max_newton_iterations} Newton iterations"

    def _step_to(self, alpha: float, u_start: PETSc.Vec, dt: float) -> tuple[float, float]:
        """u = u_start - alpha * solution; returns (|R|, slope = R . (-solution))."""
        self.u.x.petsc_vec.waxpy(-alpha, self.solution, u_start)
        self.u.x.scatter_forward()
        norm = self._evaluate(dt)
        return norm, (-self.b.dot(self.solution) if math.isfinite(norm) else math.inf)

    def _line_search(self, u_start: PETSc.Vec, dt: float, norm0: float, slope0: float):
        """Critical-point line search along the Newton direction: (alpha, |R|) or (None, |R0|).

        The backward-Euler step of the Hencky-Norton law has an incremental potential
        (Ortiz-Stainier), whose derivative along the direction is slope(alpha) = R . d.
        The full step is taken when the potential still decreases there (slope <= 0) or
        has nearly stopped changing; otherwise the root of the slope is bracketed in
        (0, 1) and found by Illinois-secant steps to |slope| <= eta |slope0|.  Plain
        back-tracking on |R| stalls here: near the flow stress the Norton tangent changes
        by orders of magnitude over one Newton step.  Without descent (slope0 >= 0) it
        falls back to back-tracking on |R|.
        """
        p = self.params
        eta = 0.5
        if not slope0 < 0.0:
            alpha = 1.0
            for _ in range(p.max_line_search_halvings + 1):
                trial, _ = self._step_to(alpha, u_start, dt)
                if trial <= (1.0 - 1e-4 * alpha) * norm0:
                    return alpha, trial
                alpha *= 0.5
            return None, norm0
        trial, slope = self._step_to(1.0, u_start, dt)
        if math.isfinite(trial) and (slope <= 0.0 or abs(slope) <= eta * abs(slope0)):
            return 1.0, trial
        lo, g_lo, hi, g_hi = 0.0, slope0, 1.0, slope
        side = 0
        for _ in range(2 * p.max_line_search_halvings):
            if math.isfinite(g_hi):
                alpha = lo - g_lo * (hi - lo) / (g_hi - g_lo)
                alpha = min(max(alpha, lo + 0.01 * (hi - lo)), hi - 0.01 * (hi - lo))
            else:
                alpha = 0.5 * (lo + hi)
            trial, slope = self._step_to(alpha, u_start, dt)
            if math.isfinite(trial) and abs(slope) <= eta * abs(slope0):
                return alpha, trial
            if math.isfinite(slope) and slope < 0.0:
                lo, g_lo = alpha, slope
                if side == -1 and math.isfinite(g_hi):
                    g_hi *= 0.5  # Illinois
                side = -1
            else:
                hi, g_hi = alpha, slope
                if side == 1:
                    g_lo *= 0.5
                side = 1
        if lo > 0.0:  # the best point found on the descending side
            trial, _ = self._step_to(lo, u_start, dt)
            if math.isfinite(trial):
                return lo, trial
        return None, norm0


