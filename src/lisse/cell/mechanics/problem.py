"""The discrete problem of the Li body: spaces, forms, quadrature-point state, Newton."""

from __future__ import annotations

import logging
import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import basix
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem import petsc as fem_petsc
from mpi4py import MPI
from petsc4py import PETSc

from lisse.cell.mechanics.forms import (
    elastic_stress,
    mandel_to_tensor,
    normal_component,
    strain_mandel,
    stress_tensor,
)
from lisse.cell.mechanics.parameters import NITSCHE_VARIANTS, MechanicsParameters
from lisse.core.creep import mandel_identity, norton_creep_update
from lisse.core.kinematics import cell_mean_divergence
from lisse.core.mesh import Body, assemble_scalar, averaged_boundary_normal
from lisse.core.solvers import (
    DIRECT_SOLVER,
    linear_options,
    linear_solve_failure,
    linear_solver,
    rigid_body_modes,
    solve_linear_system,
)

logger = logging.getLogger(__name__)

SQRT2 = math.sqrt(2.0)
# Quadrature of the cell integrals: degree 2, 3 points per triangle, one per DG1 coefficient
QUADRATURE_DEGREE = 2
# Quadrature of the contact terms: products of P2 (v, du), the linear stress trace and up to
# three (nearly) linear normals.  Set explicitly: UFL's estimate for the normalised averaged
# normal n / sqrt(n.n) is far higher and made the 3D Jacobian assembly 2.3x slower (5.1 s
# against 2.2 s at 63k DOFs); degree 8 changes the 2D grid's segment means by < 1e-4.
CONTACT_QUADRATURE_DEGREE = 6
# Round-off floor of the residual.  Steady Norton flow carries the Li far (the small-strain
# displacement grows like eps_dot t: strains of 10..1e6 after an hour at 1..5 MPa), and the
# stresses are E-sized differences of those strains; the attainable residual then grows with
# time, to ~1e-5 of the applied force at 5 MPa.  A Newton iterate whose residual no line search
# can reduce is accepted (and reported) if |R| <= STAGNATION_RTOL * P |li_top|.
STAGNATION_RTOL = 1e-4


# Linear solvers for the Newton steps.  The Jacobian is non-symmetric (Nitsche consistency term
# with the creep tangent): GMRES, preconditioned by smoothed-aggregation AMG (GAMG, no hypre in
# this PETSc) that is told the rigid-body modes.  Solves are tight because each Newton step also
# solves for the uniform-edge borders, whose Schur complement needs accurate back-substitutions.
ITERATIVE_SOLVER = {"ksp_type": "gmres", "ksp_gmres_restart": 200, "ksp_rtol": 1e-10, "ksp_max_it": 1000,
                    "pc_type": "gamg", "pc_gamg_threshold": 0.01, "mg_levels_ksp_type": "chebyshev",
                    "mg_levels_pc_type": "jacobi"}
# 3D above this many DOFs: iterative (sparse LU fill grows like N^2 in 3D); 2D always LU, its
# meshes of the interface region stay well within direct-solver sizes.  Measured on the default
# 3D unit cell (66k DOFs, creep steps): one MUMPS factorisation 2.7 s + 3 back-substitutions
# 0.2 s per Newton step, against ~50 GMRES + GAMG iterations per solve, 5.6 s (the relaxed Li
# is nearly incompressible and the Nitsche penalty stiff, which smoothed aggregation handles poorly).
# On the paper's 3D meshes (creep steps, 1 rank, another job beside it): 184k DOFs, MUMPS 21 s per
# Newton iteration against ~4x that with GAMG; 326k DOFs, MUMPS 41 s per iteration, 5.9 GB.
DIRECT_SOLVER_MAX_DOFS_3D = 400_000




class LiCreepProblem:
    """Spaces, forms, quadrature-point state and the Newton solver of the Li body."""

    def __init__(self, body: Body, params: MechanicsParameters, petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.material = material = params.material()
        tdim = mesh.topology.dim
        fdim = tdim - 1
        mesh.topology.create_connectivity(fdim, tdim)
        self.segments = body.interface_segments
        if not self.segments or "li_top" not in body.facet_groups:
            raise KeyError(f"Li body lacks interface segments or li_top; it has {sorted(body.facet_groups)}")
        if params.lateral_condition == "uniform_edge" and "li_right" not in body.facet_groups:
            raise KeyError("lateral_condition 'uniform_edge' needs the li_right facet group")
        if tdim == 3 and params.lateral_condition != "uniform_edge":
            raise ValueError("the 3D unit cell needs lateral_condition 'uniform_edge'")
        self.tdim = tdim
        # stored stress components and the solved (Mandel) strain components among them
        self.n_stress = 6 if tdim == 3 else 4
        self.solved = list(range(6)) if tdim == 3 else [0, 1, 3]
        n_strain = len(self.solved)
        n_points_per_cell = tdim + 1  # degree-2 Gauss rule on a simplex <-> DG1 coefficients

        self.V = V = fem.functionspace(mesh, ("Lagrange", params.element_degree, (tdim,)))
        self.u = fem.Function(V, name="displacement")
        v, du = ufl.TestFunction(V), ufl.TrialFunction(V)

        # ---- quadrature-point state, held in DG1 fields (see the module docstring)
        self.Q = fem.functionspace(mesh, ("DG", 1))
        # [xx, yy, zz, xy] (plane strain) or [xx, yy, zz, xy, yz, xz] (3D)
        self.stress = fem.Function(fem.functionspace(mesh, ("DG", 1, (self.n_stress,))), name="stress")
        # the part of the Mandel tangent C_alg of the solved components differentiated through
        # the DG1 field: all of it, or only the deviatoric part when the pressure is taken per cell
        self.tangent = fem.Function(fem.functionspace(mesh, ("DG", 1, (n_strain, n_strain))))
        self.tangent_moment = fem.Function(fem.functionspace(mesh, ("DG", 1, (n_strain, n_strain, tdim))))  # C (x) x_q
        self.bulk_modulus = material.lame_lambda + 2.0 * material.shear_modulus / 3.0
        # material numbers enter the forms as Constants: one compiled form set serves every case
        bulk = fem.Constant(mesh, self.bulk_modulus)
        shear = fem.Constant(mesh, material.shear_modulus)
        self.bulk = bulk
        self.cell_pressure = params.constant_pressure_per_cell
        if self.cell_pressure:
            W0 = fem.functionspace(mesh, ("DG", 0, (tdim,)))
            self.centroid = fem.Function(W0)
            self.centroid.interpolate(fem.Expression(ufl.SpatialCoordinate(mesh), W0.element.interpolation_points))
        else:
            self.centroid = None
        cell_map = mesh.topology.index_map(tdim)
        self.n_cells = cell_map.size_local + cell_map.num_ghosts  # ghosts too: no scatter of the state needed
        self.cells = np.arange(self.n_cells, dtype=np.int32)
        cell_type = basix.CellType.tetrahedron if tdim == 3 else basix.CellType.triangle
        points, _ = basix.make_quadrature(cell_type, QUADRATURE_DEGREE)
        assert len(points) == n_points_per_cell, "the DG1 storage of the state needs one point per vertex"
        self.n_points_per_cell = n_points_per_cell
        tabulated = self.Q.element.basix_element.tabulate(0, points)[0, :, :, 0]  # (point, dof)
        self.point_to_dof = np.linalg.inv(tabulated)  # DG1 coefficients from the values at the 3 points
        self.dofs = self.Q.dofmap.list[: self.n_cells]  # (cell, tdim + 1): same layout for every DG1 space
        self.strain_at_points = fem.Expression(strain_mandel(self.u), points)
        x_points = fem.Expression(ufl.SpatialCoordinate(mesh), points).eval(mesh, self.cells)
        self.point_coordinates = x_points.reshape(-1, tdim)  # (cell * points + point, coordinates)
        n_points = n_points_per_cell * self.n_cells
        self.creep_strain_old = np.zeros((n_points, self.n_stress))
        self.equivalent_creep_strain_old = np.zeros(n_points)
        self.update = None  # CreepUpdate of the current iterate
        self.linear_iterations = 0  # Krylov iterations over all solves (1 per solve with LU)

        # ---- loads and constraint data
        self.pressure = fem.Constant(mesh, float(params.stack_pressure))
        self.gap = fem.Constant(mesh, 0.0)  # g = -delta(t)
        nu_top = ufl.FacetNormal(mesh)
        # nu: outward from the Li, into the SSE (n = -nu), continuous along the interface by default
        if params.interface_normal == "averaged":
            self.interface_normal = averaged_boundary_normal(body, self.segments)
            nu = self.interface_normal / ufl.sqrt(ufl.dot(self.interface_normal, self.interface_normal))
        else:
            self.interface_normal = None
            nu = nu_top
        h = ufl.CellDiameter(mesh)
        penalty = fem.Constant(mesh, params.nitsche_penalty * params.youngs_modulus) / h
        theta = fem.Constant(mesh, NITSCHE_VARIANTS[params.nitsche_variant])
        dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        ds_top = body.ds("li_top")
        ds_contact = body.ds(*self.segments).reconstruct(metadata={"quadrature_degree": CONTACT_QUADRATURE_DEGREE})
        sigma = stress_tensor(self.stress, tdim)
        constraint = ufl.dot(self.u, nu) + self.gap  # = -(u.n - g)

        elastic_test_stress = elastic_stress(v, bulk, shear, self.centroid)
        residual = (
            ufl.inner(sigma, ufl.sym(ufl.grad(v))) * dx
            + self.pressure * ufl.dot(v, nu_top) * ds_top
            - normal_component(sigma, nu) * ufl.dot(v, nu) * ds_contact
            - theta * normal_component(elastic_test_stress, nu) * constraint * ds_contact
            + penalty * constraint * ufl.dot(v, nu) * ds_contact
        )
        jacobian = (
            ufl.inner(self.stress_derivative(du), strain_mandel(v)) * dx
            - normal_component(mandel_to_tensor(self.stress_derivative(du)), nu) * ufl.dot(v, nu) * ds_contact
            - theta * normal_component(elastic_test_stress, nu) * ufl.dot(du, nu) * ds_contact
            + penalty * ufl.dot(du, nu) * ufl.dot(v, nu) * ds_contact
        )
        self.residual_form = fem.form(residual)
        self.jacobian_form = fem.form(jacobian)

        # ---- boundary conditions on the increments: mirror planes (u_x = 0 on li_left, u_z = 0 on
        # li_front in 3D) and w = 0 normal to each uniform edge
        mirrors = [("li_left", 0)] + ([("li_front", 2)] if tdim == 3 else [])
        self.edges = []  # (facet group, displacement component) of each uniform edge
        if params.lateral_condition == "uniform_edge":
            self.edges.append(("li_right", 0))
        if tdim == 3:
            (self.edges if params.back_condition == "uniform_edge" else mirrors).append(("li_back", 2))
        self.bcs = []
        for name, component in mirrors + self.edges:
            if name not in body.facet_groups:
                raise KeyError(f"the Li body lacks the {name} facet group; it has {sorted(body.facet_groups)}")
            dofs = fem.locate_dofs_topological(V.sub(component), fdim, body.facets(name))
            self.bcs.append(fem.dirichletbc(0.0, dofs, V.sub(component)))
        self.edge_bcs = self.bcs[len(mirrors):]

        # ---- uniform edges: psi_j = x_c / x_c,max e_c, whose couplings border the Newton system
        self.psi = []
        for name, component in self.edges:
            extent = self.comm.allreduce(float(mesh.geometry.x[:, component].max(initial=-np.inf)), op=MPI.MAX)
            psi = fem.Function(V)
            psi.interpolate(lambda x, c=component, L=extent: np.vstack(
                [x[c] / L if k == c else np.zeros_like(x[0]) for k in range(tdim)]))
            self.psi.append(psi)
        # owned rows (and columns) of the constrained increments, in the matrix's local numbering
        bs = V.dofmap.index_map_bs
        owned = V.dofmap.index_map.size_local * bs
        constrained = np.concatenate([bc.dof_indices()[0] for bc in self.bcs] or [np.zeros(0, np.int32)])
        self.constrained_rows = np.unique(constrained[constrained < owned]).astype(PETSc.IntType)

        # ---- linear algebra
        self.A = fem_petsc.create_matrix(self.jacobian_form)
        self.A.setNearNullSpace(rigid_body_modes(V))  # GAMG builds its coarse spaces from these
        self.b = fem_petsc.create_vector(V)
        self.solution = self.b.duplicate()
        n_dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs
        use_direct = tdim == 2 or n_dofs <= DIRECT_SOLVER_MAX_DOFS_3D
        self.petsc_options = linear_options(dict(petsc_options or {}), DIRECT_SOLVER, ITERATIVE_SOLVER, use_direct)
        self.ksp = linear_solver(self.comm, prefix, self.petsc_options)
        self.border_columns = [self.b.duplicate() for _ in self.psi]
        self.border_rows = [self.b.duplicate() for _ in self.psi]
        self.border_solutions = [self.b.duplicate() for _ in self.psi]
        self.psi_norms = [psi.x.petsc_vec.norm() for psi in self.psi]

        self.top_length = assemble_scalar(self.comm, 1.0 * ds_top)
        # residual entries are nodal forces per unit depth: scale by the total applied force
        stress_scale = params.stack_pressure if params.stack_pressure > 0 else params.creep_stress_ref
        self.force_scale = stress_scale * self.top_length
        self.n_dofs = n_dofs + len(self.psi)  # plus one border unknown per uniform edge

    # ---- the constitutive update at the quadrature points -> DG1 fields

    def stress_derivative(self, du):
        """Exact directional derivative of the DG1 stress field, in-plane Mandel components.

        The DG1 field is the interpolant through the values at the quadrature points x_q:
        d(sigma_h)[du](x) = sum_q L_q(x) C_q eps(du)(x_q).  eps(du) is linear on a straight
        triangle, so eps(du)(x_q) = eps(du)(x) + grad(eps(du)) (x_q - x), and with the DG1
        interpolants C_h of C_q and M_h of C_q (x) x_q:
            d(sigma_h)[du] = C_h eps(du) + (M_h - C_h (x) x) : grad(eps(du)).
        At the quadrature points this is exactly C_q eps(du)(x_q).  With a pressure per cell,
        C_h is the deviatoric part and the cell pressure adds K mean(div du) I.
        """
        e = strain_mandel(du)
        i, j, k = ufl.indices(3)  # UFL index objects (ranges follow the operands' shapes)
        x = ufl.SpatialCoordinate(self.mesh)
        moment = self.tangent_moment[i, j, k] - self.tangent[i, j] * x[k]
        derivative = ufl.as_vector(self.tangent[i, j] * e[j] + moment * ufl.grad(e)[j, k], i)
        if self.cell_pressure:
            volumetric = self.bulk * cell_mean_divergence(du, self.centroid)
            identity = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0] if self.tdim == 3 else [1.0, 1.0, 0.0]
            derivative = derivative + volumetric * ufl.as_vector(identity)
        return derivative

    def _to_dg1(self, function: fem.Function, values_at_points: np.ndarray) -> None:
        """Set a DG1 field from its values at the tdim + 1 quadrature points of every local cell."""
        per_cell = values_at_points.reshape(self.n_cells, self.n_points_per_cell, -1)
        coefficients = np.einsum("dq,cqk->cdk", self.point_to_dof, per_cell)
        bs = function.function_space.dofmap.index_map_bs
        function.x.array.reshape(-1, bs)[self.dofs.ravel()] = coefficients.reshape(-1, bs)

    def update_constitutive(self, dt: float) -> None:
        solved = self.strain_at_points.eval(self.mesh, self.cells).reshape(-1, len(self.solved))
        strain = np.zeros((len(solved), self.n_stress))
        strain[:, self.solved] = solved  # plane strain: eps_zz = 0
        self.update = update = norton_creep_update(strain, self.creep_strain_old, dt, self.material)
        tangent = update.tangent
        if self.cell_pressure:  # creep is deviatoric: only the elastic pressure K tr(eps) changes
            identity = mandel_identity(self.n_stress)
            trace = strain[:, :3].sum(axis=1)
            m = self.n_points_per_cell  # equal weights of the degree-2 rule: the cell mean is the point mean
            cell_mean_trace = np.repeat(trace.reshape(-1, m).mean(axis=1), m)
            update.stress += (self.bulk_modulus * (cell_mean_trace - trace))[:, None] * identity
            tangent = tangent - self.bulk_modulus * np.outer(identity, identity)
        stress = update.stress.copy()
        stress[:, 3:] /= SQRT2  # Mandel -> tensor shear components
        self._to_dg1(self.stress, stress)
        tangent = tangent[:, self.solved][:, :, self.solved]
        self._to_dg1(self.tangent, tangent)
        moment = tangent[:, :, :, None] * self.point_coordinates[:, None, None, :]
        self._to_dg1(self.tangent_moment, moment)

    def commit(self) -> None:
        """Accept the current iterate as the state at the end of the step."""
        self.creep_strain_old = self.update.creep_strain.copy()
        self.equivalent_creep_strain_old = self.equivalent_creep_strain_old + self.update.creep_increment

    # ---- Newton

    def _assemble_residual(self) -> tuple[float, np.ndarray]:
        """Assemble R into self.b (constrained rows zeroed); return (|R|, R_U) with R_U_j = R . psi_j."""
        with self.b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(self.b, self.residual_form)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        edge_residuals = np.array([self.b.dot(psi.x.petsc_vec) for psi in self.psi])
        fem_petsc.set_bc(self.b, self.bcs, alpha=0.0)
        return math.sqrt(self.b.norm() ** 2 + float(edge_residuals @ edge_residuals)), edge_residuals

    def _assemble_jacobian(self) -> np.ndarray:
        """Assemble K into self.A and the border of the Newton system; return its corner psi_i^T K_full psi_j.

        The border comes from the unconstrained matrix K_full, before the constrained rows and
        columns are replaced by the identity: k_j = K_full psi_j, r_j = K_full^T psi_j.
        """
        self.A.zeroEntries()
        fem_petsc.assemble_matrix(self.A, self.jacobian_form)
        self.A.assemble()
        for psi, column, row in zip(self.psi, self.border_columns, self.border_rows):
            self.A.mult(psi.x.petsc_vec, column)
            self.A.multTranspose(psi.x.petsc_vec, row)
        corner = np.array([[psi.x.petsc_vec.dot(column) for column in self.border_columns] for psi in self.psi])
        for vector in self.border_columns + self.border_rows:
            fem_petsc.set_bc(vector, self.bcs, alpha=0.0)
        self.A.zeroRowsColumnsLocal(self.constrained_rows, diag=1.0)
        return corner

    def _evaluate(self, dt: float) -> tuple[float, np.ndarray]:
        """Constitutive update and residual at the current u: (|R|, R_U); |R| = inf if either failed."""
        try:
            self.update_constitutive(dt)
            failed = 0
        except RuntimeError:  # the return mapping did not converge at some point
            failed = 1
        if self.comm.allreduce(failed, op=MPI.MAX):  # every rank must take the same branch
            return math.inf, np.zeros(len(self.psi))
        return self._assemble_residual()

    def _newton_direction(self, edge_residuals: np.ndarray) -> np.ndarray:
        """Solve for the Newton correction -du into self.solution (w part); return dU (psi parts).

        With k uniform edges the bordered system is reduced to its k x k Schur complement:
        K a = R_w, K b_j = k_j, S_ij = corner_ij - r_i . b_j, S dU = r . a - R_U, solution = a + b dU.
        """
        corner = self._assemble_jacobian()
        self.ksp.setOperators(self.A)
        self._linear_solve(self.b, self.solution)  # K a = R_w
        if not self.psi:
            return np.zeros(0)
        for column, solution in zip(self.border_columns, self.border_solutions):
            self._linear_solve(column, solution)  # K b_j = k_j
        schur = corner - np.array([[row.dot(b) for b in self.border_solutions] for row in self.border_rows])
        rhs = np.array([row.dot(self.solution) for row in self.border_rows]) - edge_residuals
        dU = np.linalg.solve(schur, rhs)
        for dU_j, b in zip(dU, self.border_solutions):
            self.solution.axpy(dU_j, b)  # a + b dU: then du = -solution + dU . psi
        return dU

    def _linear_solve(self, rhs: PETSc.Vec, solution: PETSc.Vec) -> None:
        solve_linear_system(self.ksp, rhs, solution)
        self.linear_iterations += self.ksp.getIterationNumber()
        if self.ksp.getConvergedReason() <= 0:
            raise LinearSolveError(linear_solve_failure(self.ksp))

    def newton(self, dt: float) -> tuple[bool, int, float, str]:
        """Solve the step from the current guess in self.u; returns (converged, iterations, |R|, reason).

        Newton with a back-tracking line search on |R|: with n = 6.6 the tangent is stiff
        where the Li barely creeps and soft where it flows, and full steps from a poor
        guess (e.g. when the recession stops at the end of its ramp) can wander off.
        """
        p = self.params
        norm, edge_residuals = self._evaluate(dt)
        correction_norm = math.inf
        u_start = self.u.x.petsc_vec.copy()
        for iteration in range(p.max_newton_iterations + 1):
            if self.comm.rank == 0:
                logger.debug("  Newton %2d: |R| = %.3e, |du| = %.3e, %d Krylov its so far",
                             iteration, norm, correction_norm, self.linear_iterations)
            if not math.isfinite(norm):
                return False, iteration, norm, "constitutive update failed or residual not finite"
            if norm <= p.newton_rtol * self.force_scale:
                return True, iteration, norm, "converged"
            # Once the creep flow has carried u far, the residual is limited by round-off
            # (stresses are E-sized differences of large strains): then accept a Newton
            # correction at round-off level relative to u.
            if correction_norm <= p.newton_stol * self.u.x.petsc_vec.norm():
                return True, iteration, norm, "converged (correction at round-off level)"
            if iteration == p.max_newton_iterations:
                break
            try:
                dU = self._newton_direction(edge_residuals)
            except LinearSolveError as error:
                return False, iteration, norm, str(error)
            direction_norm = math.sqrt(self.solution.norm() ** 2 + float(np.sum((dU * self.psi_norms) ** 2)))
            self.u.x.petsc_vec.copy(u_start)
            roundoff = direction_norm <= p.newton_stol * u_start.norm()
            alpha = 1.0
            for _ in range(p.max_line_search_halvings + 1):
                self.u.x.petsc_vec.waxpy(-alpha, self.solution, u_start)
                for dU_j, psi in zip(dU, self.psi):
                    self.u.x.petsc_vec.axpy(alpha * dU_j, psi.x.petsc_vec)
                self.u.x.scatter_forward()
                trial_norm, trial_edge = self._evaluate(dt)
                if roundoff or trial_norm <= (1.0 - 1e-4 * alpha) * norm:
                    break
                alpha *= 0.5
            else:
                # No descent along the Newton direction: the residual sits at its round-off
                # floor if it is already small (accept), a failure otherwise.
                if norm <= STAGNATION_RTOL * self.force_scale:
                    u_start.copy(self.u.x.petsc_vec)  # back to the last iterate and its state
                    self.u.x.scatter_forward()
                    self._evaluate(dt)
                    return True, iteration, norm, "converged (residual stagnates at round-off level)"
                return False, iteration + 1, norm, "line search found no decrease of the residual"
            norm, edge_residuals = trial_norm, trial_edge
            correction_norm = alpha * direction_norm
        return False, p.max_newton_iterations, norm, f"no convergence in {p.max_newton_iterations} Newton iterations"


class LinearSolveError(RuntimeError):
    """A Newton direction could not be computed; the message says why (linear_solve_failure)."""


