"""The discrete problem of the Li + LLZO body: spaces, forms, quadrature-point state, Newton (PETSc SNES)."""

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
from lisse.core.quadrature import QuadraturePoints
from lisse.core.solvers import (
    default_petsc_options,
    linear_solve_failure,
    petsc_options_in_database,
    petsc_reason_name,
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
# A step whose line search fails with |R| below this many times the tolerance has converged:
# the residual stagnates at the round-off of the assembly (nearly incompressible Li).
ROUNDOFF_RESIDUAL_FACTOR = 100.0
# SNES's line search by default: back-tracking on |R|.  On the plating tests it took the fewest
# Newton iterations of PETSc's line searches (bt 1421, l2 1467, basic 1491, cp 1508), although the
# residual is the gradient of the step's incremental potential (Ortiz-Stainier), which cp assumes.
LINE_SEARCH = "bt"
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


def _ring_mean_jacobian(u, cell_points, weights):
    """Exact r-weighted cell mean of J = det(F_rz) (1 + u_r / r) on an affine P2 triangle (axisymmetric).

    theta = int J r dA / int r dA: the deformed over the reference volume of the cell's ring, the
    axisymmetric mean dilatation.  J r = det(F_rz) (r + u_r) is a quartic, so a degree-4 rule over
    the cell is exact; u and grad u at its points ``cell_points`` (DG0 vectors) come from their
    exact Taylor expansion about the evaluation point (P2: grad u linear, H = grad grad u constant).
    """
    x = ufl.SpatialCoordinate(u.ufl_function_space().mesh)
    H = ufl.grad(ufl.grad(u))
    deformed, reference = 0.0, 0.0
    for point, weight in zip(cell_points, weights):
        d = point - x
        Fq = ufl.Identity(2) + ufl.grad(u) + ufl.dot(H, d)
        radial = u[0] + ufl.dot(ufl.grad(u[0]), d) + 0.5 * ufl.dot(d, ufl.dot(H[0, :, :], d))
        deformed += weight * ufl.det(Fq) * (point[0] + radial)
        reference += weight * point[0]
    return deformed / reference


def _sym_tensor(v):
    return ufl.as_tensor([[v[0], v[2]], [v[2], v[1]]])


# --------------------------------------------------------------------------------------
# The discrete problem
# --------------------------------------------------------------------------------------


class PlatingProblem:
    """Spaces, forms, quadrature-point state and the Newton solver (PETSc SNES) of the Li + LLZO body.

    The constitutive update (the return mapping at the quadrature points, writing ``tau_q`` and
    ``dtau_q``) runs in the SNES residual callback, so the Newton and line-search settings are
    PETSc options under ``prefix`` (e.g. ``snes_linesearch_type``, ``snes_monitor``).
    """

    def __init__(self, body: Body, cell_tags: dmesh.MeshTags, layer_thickness: float, params: PlatingParameters,
                 petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.finite = params.kinematics == "finite"
        self.axisymmetric = params.axisymmetric  # x is the radius r, y the axis; the hoop stretch is 1 + u_r / r
        self.layer_thickness = layer_thickness
        self.li_material, self.llzo_material = params.li_material(), params.llzo_material()
        mesh.topology.create_connectivity(1, 2)
        self.points = QuadraturePoints(mesh, QUADRATURE_DEGREE)
        self.n_owned, self.n_cells, self.cells = self.points.n_owned_cells, self.points.n_cells, self.points.cells
        self._cell_data(cell_tags)
        self.V = fem.functionspace(mesh, ("Lagrange", 2, (2,)))
        self.u = fem.Function(self.V, name="displacement")
        self._quadrature_state()
        residual, jacobian = self._weak_form()
        self.bcs, self.constrained = self._boundary_conditions()
        self.force_scale = self.bulk_li * params.final_plated_thickness  # nodal forces per unit depth, N/m
        self.n_dofs = self.V.dofmap.index_map.size_global * self.V.dofmap.index_map_bs
        self._newton_solver(residual, jacobian, petsc_options, prefix)

    def _cell_data(self, cell_tags: dmesh.MeshTags) -> None:
        """Per-cell data (DG0): material, growth indicator, bulk modulus, centroid, second moment."""
        mesh = self.mesh
        self.Q0 = fem.functionspace(mesh, ("DG", 0))
        self.dg0_dofs = dg0_dofs = self.Q0.dofmap.list[: self.n_cells, 0]
        material = fem.Function(self.Q0)
        local = cell_tags.indices < self.n_cells
        material.x.array[dg0_dofs[cell_tags.indices[local]]] = cell_tags.values[local]
        material.x.scatter_forward()
        self.cell_material = np.rint(material.x.array[dg0_dofs]).astype(int)
        if not np.all(np.isin(self.cell_material, (LLZO, LI))):
            raise ValueError("every cell must be tagged llzo (1) or li (2)")
        vertices = mesh.geometry.x[dmesh.entities_to_geometry(mesh, 2, self.cells)][:, :, :2]  # (cell, 3, 2)
        centroids = vertices.mean(axis=1)
        relative = vertices - centroids[:, None, :]
        second_moments = np.einsum("cvi,cvj->cij", relative, relative) / 12.0
        self.cell_centroids = centroids
        self.pit_cell = (self.cell_material == LI) & (centroids[:, 1] < 0.0)
        # the layer above y = 0 grows; the pit's Li too unless pit_growth is off
        self.growing_cell = (self.cell_material == LI) & ((centroids[:, 1] > 0.0) | self.params.pit_growth)
        self.has_llzo = self.comm.allreduce(int(np.any(self.cell_material[: self.n_owned] == LLZO)), op=MPI.MAX) > 0
        self.growth = fem.Function(self.Q0, name="growth_strain")
        self.bulk = fem.Function(self.Q0)
        self.bulk_li, self.bulk_llzo = bulk_modulus(self.li_material), bulk_modulus(self.llzo_material)
        self.cell_bulk = np.where(self.cell_material == LI, self.bulk_li, self.bulk_llzo)
        self.bulk.x.array[dg0_dofs] = self.cell_bulk
        W0 = fem.functionspace(mesh, ("DG", 0, (2,)))
        T0 = fem.functionspace(mesh, ("DG", 0, (2, 2)))
        if self.axisymmetric:  # a degree-4 rule per cell for the ring's mean dilatation
            reference, self.ring_weights = basix.make_quadrature(basix.CellType.triangle, 4)
            edges = vertices[:, 1:, :] - vertices[:, :1, :]  # (cell, 2, 2): the affine map's columns
            self.ring_points = []
            for xi in reference:
                point = fem.Function(W0)
                point.x.array.reshape(-1, 2)[W0.dofmap.list[: self.n_cells, 0]] = vertices[:, 0, :] + xi @ edges
                self.ring_points.append(point)
        self.centroid, self.second_moment = fem.Function(W0), fem.Function(T0)
        self.centroid.x.array.reshape(-1, 2)[W0.dofmap.list[: self.n_cells, 0]] = centroids
        self.second_moment.x.array.reshape(-1, 4)[T0.dofmap.list[: self.n_cells, 0]] = second_moments.reshape(-1, 4)

    def _quadrature_state(self) -> None:
        """The state at the quadrature points: numpy arrays, and quadrature-space functions for the forms."""
        mesh, points = self.mesh, self.points

        def quadrature_space(shape):
            element = basix.ufl.quadrature_element(mesh.basix_cell(), value_shape=shape, degree=QUADRATURE_DEGREE)
            return fem.functionspace(mesh, element)

        self.n_measure = 4 if self.axisymmetric else 3  # [b_xx, b_yy, b_xy] (+ the hoop stretch)
        self.tau_q = fem.Function(quadrature_space((self.n_measure,)))
        self.dtau_q = fem.Function(quadrature_space((self.n_measure, self.n_measure)))
        self.state_q = fem.Function(quadrature_space((3,)))  # finite: C_v^-1 in-plane [xx, yy, xy]
        # the quadrature space has the same rule and point order as QuadraturePoints
        assert np.allclose(self.tau_q.function_space.element.interpolation_points, points.reference_points)
        self.q_dofs = self.tau_q.function_space.dofmap.list[: self.n_cells]  # (cell, point): same for all
        self.grad_at_points = points.expression(ufl.grad(self.u))
        if self.axisymmetric:
            self.hoop_at_points = points.expression(1.0 + self.u[0] / ufl.SpatialCoordinate(mesh)[0])
        self.quadrature_points = points.reference_points
        self.point_coordinates, self.point_weights = points.coordinates, points.weights
        self.point_cell, self.owned_points = points.cell_of_point, points.owned
        self.point_material = self.cell_material[self.point_cell]
        self.li_points = self.point_material == LI
        self.state = np.tile([1.0, 1.0, 1.0, 0.0], (points.size, 1)) if self.finite else np.zeros((points.size, 4))
        self.equivalent_viscous_strain = np.zeros(points.size)
        self.update: PointUpdate | None = None
        self._set_quadrature(self.state_q, self.state[:, [0, 1, 3]])

    def _weak_form(self):
        """Residual and Jacobian: the deviatoric stress at the points, the mean-dilatation volumetric energy."""
        u, g, bulk = self.u, self.growth, self.bulk
        v, du = ufl.TestFunction(self.V), ufl.TrialFunction(self.V)
        dx = ufl.Measure("dx", domain=self.mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        tau = _sym_tensor(self.tau_q)
        weight = 1.0
        if self.axisymmetric:  # the forms per radian, weight r (scaled by h0: residuals in the units of the 2D ones)
            r = ufl.SpatialCoordinate(self.mesh)[0]
            weight = r / self.layer_thickness
        if self.finite:
            F = ufl.Identity(2) + ufl.grad(u)
            n = ufl.as_vector([0.0, 1.0])
            Fbar = F * (ufl.Identity(2) - g / (1.0 + g) * ufl.outer(n, n))
            b = Fbar * _sym_tensor(self.state_q) * Fbar.T
            measure = [b[0, 0], b[1, 1], b[0, 1]]
            if self.axisymmetric:
                hoop = 1.0 + u[0] / r
                measure.append(hoop)
            measure = ufl.as_vector(measure)
            FinvT = ufl.inv(F).T
            dtau_all = ufl.dot(self.dtau_q, ufl.derivative(measure, u, du))
            dtau = _sym_tensor(dtau_all)
            residual_dev = weight * ufl.inner(tau * FinvT, ufl.grad(v)) * dx
            jacobian_dev = weight * ufl.inner(dtau * FinvT + tau * ufl.derivative(FinvT, u, du), ufl.grad(v)) * dx
            if self.axisymmetric:  # P_hoop grad_hoop v = tau_hoop / F_hoop * v_r / r
                tau_hoop = self.tau_q[3]
                residual_dev += weight * tau_hoop / hoop * v[0] / r * dx
                jacobian_dev += weight * (dtau_all[3] / hoop - tau_hoop / hoop**2 * du[0] / r) * v[0] / r * dx
                self.theta = _ring_mean_jacobian(u, self.ring_points, self.ring_weights)
            else:
                self.theta = _cell_mean_jacobian(u, self.centroid, self.second_moment)
            volumetric_energy = (1.0 + g) * bulk / 2.0 * ufl.ln(self.theta / (1.0 + g)) ** 2
        else:
            e = ufl.sym(ufl.grad(du))
            dtau = _sym_tensor(ufl.dot(self.dtau_q, ufl.as_vector([e[0, 0], e[1, 1], e[0, 1]])))
            residual_dev = ufl.inner(tau, ufl.grad(v)) * dx
            jacobian_dev = ufl.inner(dtau, ufl.grad(v)) * dx
            self.theta = cell_mean_divergence(u, self.centroid)  # Study A's P2-P0 volumetric strain
            volumetric_energy = bulk / 2.0 * (self.theta - g) ** 2
        self.theta_at_points = self.points.expression(self.theta)
        residual_vol = ufl.derivative(weight * volumetric_energy * dx, u, v)
        # the Jacobian carries the algorithmic tangent dtau_q
        return residual_dev + residual_vol, jacobian_dev + ufl.derivative(residual_vol, u, du)

    def _boundary_conditions(self) -> tuple[list, dict]:
        """Homogeneous Dirichlet conditions (the load is the growth), by constraint case."""
        body, V, groups, params = self.body, self.V, self.body.facet_groups, self.params
        x_fixed, y_fixed, all_fixed = ["li_symmetry", "llzo_symmetry"], ["llzo_bottom"], []
        if params.constraint in ("top", "top_lateral"):
            all_fixed.append("li_cc")
        if params.constraint == "top_lateral":
            x_fixed.append("li_free")
        if not self.has_llzo:
            all_fixed.append("li_llzo")  # a Li-only mesh sits on a rigid substrate
        bcs = []
        for names, sub in ((x_fixed, 0), (y_fixed, 1)):
            present = [name for name in names if name in groups]
            if present:
                dofs = fem.locate_dofs_topological(V.sub(sub), 1, body.facets(*present))
                bcs.append(fem.dirichletbc(0.0, dofs, V.sub(sub)))
        present = [name for name in all_fixed if name in groups]
        if present:
            dofs = fem.locate_dofs_topological(V, 1, body.facets(*present))
            bcs.append(fem.dirichletbc(np.zeros(2), dofs, V))
        constrained = {"u_x = 0": [n for n in x_fixed if n in groups],
                       "u_y = 0": [n for n in y_fixed if n in groups], "u = 0": present}
        return bcs, constrained

    def _newton_solver(self, residual, jacobian, petsc_options: dict | None, prefix: str) -> None:
        """SNES on R(u) = 0 with the return mapping in its residual callback; options under ``prefix``."""
        params = self.params
        self.tolerance = params.newton_rtol * self.force_scale
        self.prefix = prefix
        self.petsc_options = {
            "snes_type": "newtonls",
            "snes_linesearch_type": LINE_SEARCH,
            "snes_linesearch_max_it": params.max_line_search_halvings,
            "snes_atol": self.tolerance,
            "snes_rtol": 0.0,
            "snes_stol": params.newton_stol,  # |correction| <= stol |u|
            "snes_max_it": params.max_newton_iterations,
            "snes_divergence_tolerance": -1.0,  # a poor predictor may raise |R| first
            **default_petsc_options(),
            **(petsc_options or {}),
        }
        with petsc_options_in_database(prefix, self.petsc_options):
            self.problem = fem_petsc.NonlinearProblem(residual, self.u, bcs=self.bcs, J=jacobian,
                                                      petsc_options_prefix=prefix)
            self.snes = self.problem.solver
            self.snes.setFromOptions()
        self.snes.setFunction(self._residual, self.problem.b)
        self.snes.setJacobian(self._jacobian, self.problem.A)
        if logger.isEnabledFor(logging.DEBUG) and self.comm.rank == 0:
            self.snes.setMonitor(lambda _, iteration, norm: logger.debug("  Newton %2d: |R| = %.3e", iteration, norm))
        self.dt = 0.0
        self._state_at, self._state_valid = self.problem.x.duplicate(), False  # the last return mapping's point

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
        n, m = len(grad_u), self.n_measure
        hoop = self.hoop_at_points.eval(self.mesh, self.cells).ravel() if self.axisymmetric else None
        tau, dtau = np.empty((n, m)), np.empty((n, m, m))
        deviator, state, dp = np.empty((n, 4)), np.empty((n, 4)), np.zeros(n)
        p = self.params
        for mask, material, dt_m, ys in ((self.li_points, self.li_material, dt, p.yield_strength),
                                         (~self.li_points, self.llzo_material, 0.0, 0.0)):
            if not np.any(mask):
                continue
            extra = {"hoop": hoop[mask]} if self.axisymmetric else {}
            result = step(grad_u[mask], growth[mask], self.state[mask], dt_m, material, ys, **extra)
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

    # ---- Newton (PETSc SNES)

    def newton(self, dt: float) -> tuple[bool, int, float, str]:
        """Solve the step from the current guess in self.u: (converged, iterations, |R|, reason)."""
        self.dt, self._state_valid = dt, False
        with petsc_options_in_database(self.prefix, self.petsc_options):  # MUMPS reads its own at factorisation
            self.problem.solve()
        snes = self.snes
        reason, iterations, norm = snes.getConvergedReason(), snes.getIterationNumber(), snes.getFunctionNorm()
        if reason > 0:
            self._constitutive_at(self.problem.x)  # the state commit() takes
            return True, iterations, norm, _CONVERGED.get(reason, f"converged (SNES {self._reason_name(reason)})")
        if reason == PETSc.SNES.ConvergedReason.DIVERGED_LINE_SEARCH:
            norm = self._residual_norm_at(self.problem.x)
            if norm <= ROUNDOFF_RESIDUAL_FACTOR * self.tolerance:
                return True, iterations, norm, "converged (residual stagnates at round-off level)"
        if reason == PETSc.SNES.ConvergedReason.DIVERGED_LINEAR_SOLVE:
            return False, iterations, norm, linear_solve_failure(snes.getKSP())
        if reason == PETSc.SNES.ConvergedReason.DIVERGED_FUNCTION_NANORINF:
            return False, iterations, norm, "constitutive update failed or residual not finite"
        return False, iterations, norm, f"SNES {self._reason_name(reason)} after {iterations} Newton iterations"

    def _residual(self, snes: PETSc.SNES, x: PETSc.Vec, b: PETSc.Vec) -> None:
        """SNES residual callback: the return mapping at u = x, then R(u) into b.

        A failed return mapping or a non-finite residual on any rank makes R = inf on all of them
        (petsc4py has no SNESSetFunctionDomainError): SNES rejects the point together on every
        rank, DIVERGED_FUNCTION_NANORINF at the start of a step, DIVERGED_LINE_SEARCH within it,
        and the time loop cuts dt.
        """
        if not self._constitutive_at(x):
            b.set(math.inf)
            return
        with b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(b, self.problem.F)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem_petsc.set_bc(b, self.bcs, x0=x, alpha=-1.0)  # R = u - 0 on the homogeneous Dirichlet dofs
        if not math.isfinite(b.norm()):
            b.set(math.inf)

    def _jacobian(self, snes: PETSc.SNES, x: PETSc.Vec, J: PETSc.Mat, P: PETSc.Mat) -> None:
        """SNES Jacobian callback, with the tangent dtau_q of the return mapping at x."""
        self._constitutive_at(x)  # normally done: the line search's last residual was at x
        fem_petsc.assemble_jacobian(snes, x, J, P, self.u, self.problem.J, None, self.bcs)

    def _constitutive_at(self, x: PETSc.Vec) -> bool:
        """u = x and the return mapping there, unless it was the last point updated; False if it
        failed on any rank."""
        if self._state_valid and self._state_at.equal(x):
            return True
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        fem_petsc.assign(x, self.u)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                self.update_constitutive(self.dt)
            failed = 0
        except (RuntimeError, FloatingPointError, np.linalg.LinAlgError):
            failed = 1
        self._state_valid = not self.comm.allreduce(failed, op=MPI.MAX)
        if self._state_valid:
            x.copy(self._state_at)
        return self._state_valid

    def _residual_norm_at(self, x: PETSc.Vec) -> float:
        """|R| at x (through the residual callback); inf if the point is outside the domain."""
        self.snes.computeFunction(x, self.problem.b)
        norm = self.problem.b.norm()
        return norm if math.isfinite(norm) else math.inf

    @staticmethod
    def _reason_name(reason: int) -> str:
        return petsc_reason_name(PETSc.SNES.ConvergedReason, reason)


_CONVERGED = {
    PETSc.SNES.ConvergedReason.CONVERGED_FNORM_ABS: "converged",
    PETSc.SNES.ConvergedReason.CONVERGED_SNORM_RELATIVE: "converged (correction at round-off level)",
}
