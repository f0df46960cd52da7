"""The discrete problem of the Li body: spaces, forms, quadrature-point state, Newton."""

from __future__ import annotations

import logging
import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from lisse.cell.mechanics.forms import (
    elastic_stress,
    mandel_to_tensor,
    normal_component,
    strain_mandel,
    stress_tensor,
)
from lisse.cell.mechanics.parameters import NITSCHE_VARIANTS, MechanicsParameters
from lisse.core import newton
from lisse.core.bordered import BorderedSystem
from lisse.core.creep import mandel_identity, norton_creep_update
from lisse.core.kinematics import cell_mean_divergence
from lisse.core.mesh import Body, assemble_scalar, averaged_boundary_normal
from lisse.core.newton import NewtonSettings
from lisse.core.quadrature import QuadraturePoints
from lisse.core.solvers import (
    DIRECT_SOLVER,
    linear_options,
    linear_solver,
    rigid_body_modes,
)
from lisse.core.stepping import StepOutcome

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




def uniform_edge_field(space: fem.FunctionSpace, component: int, motion: int | None = None) -> fem.Function:
    """psi = x_c / max(x_c) e_c: the motion of a uniform edge normal to axis ``component`` moving by 1,
    spread linearly from the mirror plane x_c = 0.  ``motion``: the sub-space holding the
    displacement (velocity) in a mixed space, the rest of psi zero; None if ``space`` is that field's."""
    mesh = space.mesh
    extent = mesh.comm.allreduce(float(mesh.geometry.x[:, component].max(initial=-np.inf)), op=MPI.MAX)
    V, to_space = (space, None) if motion is None else space.sub(motion).collapse()
    field = fem.Function(V)
    field.interpolate(lambda x: np.vstack([x[component] / extent if k == component else np.zeros_like(x[0])
                                           for k in range(mesh.geometry.dim)]))
    if to_space is None:
        return field
    psi = fem.Function(space)
    psi.x.array[to_space] = field.x.array
    return psi


def contact_normal(body: Body, segments: list[str], choice: str):
    """nu of the contact constraint, outward from the Li into the SSE (n = -nu): the vertex-averaged
    facet normal, normalised between vertices ("averaged", continuous along the interface; returned
    also as its P1 field for sampling), or the facets' own ("facet"; field None)."""
    if choice == "averaged":
        averaged = averaged_boundary_normal(body, segments)
        return averaged, averaged / ufl.sqrt(ufl.dot(averaged, averaged))
    return None, ufl.FacetNormal(body.mesh)


def lateral_constraints(body: Body, params: MechanicsParameters, space: fem.FunctionSpace, motion: int | None = None):
    """Dirichlet conditions on the increments and the uniform-edge border fields.

    Mirror planes: zero normal motion on li_left (and li_front in 3D).  Each uniform edge
    (li_right; li_back in 3D unless it is a mirror) has zero normal motion of the field part and a
    border field psi_j = x_c / x_c,max e_c.  Returns (all conditions, those of the edges, borders).
    """
    tdim = body.mesh.topology.dim
    mirrors = [("li_left", 0)] + ([("li_front", 2)] if tdim == 3 else [])
    edges = []  # (facet group, component) of each uniform edge
    if params.lateral_condition == "uniform_edge":
        edges.append(("li_right", 0))
    if tdim == 3:
        (edges if params.back_condition == "uniform_edge" else mirrors).append(("li_back", 2))
    moving = space if motion is None else space.sub(motion)
    bcs = []
    for name, component in mirrors + edges:
        if name not in body.facet_groups:
            raise KeyError(f"the Li body lacks the {name} facet group; it has {sorted(body.facet_groups)}")
        dofs = fem.locate_dofs_topological(moving.sub(component), tdim - 1, body.facets(name))
        bcs.append(fem.dirichletbc(0.0, dofs, moving.sub(component)))
    return bcs, bcs[len(mirrors):], [uniform_edge_field(space, component, motion) for _, component in edges]


class LiCreepProblem:
    """The Li body: displacement space, quadrature-point state, weak form, constraints and Newton."""

    def __init__(self, body: Body, params: MechanicsParameters, petsc_options: dict | None, prefix: str):
        self.body, self.params = body, params
        self.mesh = mesh = body.mesh
        self.comm = mesh.comm
        self.material = params.material()
        self.tdim = tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        self.segments = body.interface_segments
        self._check_boundaries()
        self.V = fem.functionspace(mesh, ("Lagrange", params.element_degree, (tdim,)))
        self.u = fem.Function(self.V, name="displacement")
        self._create_state()
        self.pressure = fem.Constant(mesh, float(params.stack_pressure))
        self.gap = fem.Constant(mesh, 0.0)  # g = -delta(t)
        residual, jacobian = self._weak_form()
        self.bcs, self.edge_bcs, borders = lateral_constraints(body, params, self.V)
        n_dofs = self.V.dofmap.index_map.size_global * self.V.dofmap.index_map_bs
        use_direct = tdim == 2 or n_dofs <= DIRECT_SOLVER_MAX_DOFS_3D
        self.petsc_options = linear_options(dict(petsc_options or {}), DIRECT_SOLVER, ITERATIVE_SOLVER, use_direct)
        self.ksp = linear_solver(self.comm, prefix, self.petsc_options)
        self.system = BorderedSystem(self.u, fem.form(residual), fem.form(jacobian), self.bcs, borders, self.ksp,
                                     near_null_space=rigid_body_modes(self.V))
        self.n_dofs = self.system.size  # plus one border unknown per uniform edge
        # residual entries are nodal forces (per unit depth in 2D): scale by the total applied force
        stress_scale = params.stack_pressure if params.stack_pressure > 0 else params.creep_stress_ref
        self.force_scale = stress_scale * assemble_scalar(self.comm, 1.0 * body.ds("li_top"))
        self.newton_settings = NewtonSettings(
            max_iterations=params.max_newton_iterations, max_line_search_halvings=params.max_line_search_halvings,
            atol=params.newton_rtol * self.force_scale, stol=params.newton_stol,
            stagnation_atol=STAGNATION_RTOL * self.force_scale)

    def _check_boundaries(self) -> None:
        groups, params = self.body.facet_groups, self.params
        if not self.segments or "li_top" not in groups:
            raise KeyError(f"Li body lacks interface segments or li_top; it has {sorted(groups)}")
        if params.lateral_condition == "uniform_edge" and "li_right" not in groups:
            raise KeyError("lateral_condition 'uniform_edge' needs the li_right facet group")
        if self.tdim == 3 and params.lateral_condition != "uniform_edge":
            raise ValueError("the 3D unit cell needs lateral_condition 'uniform_edge'")

    # ---- quadrature-point state, held in DG1 fields (see the package docstring)

    def _create_state(self) -> None:
        mesh, tdim, material = self.mesh, self.tdim, self.material
        # stored stress components and the solved (Mandel) strain components among them
        self.n_stress = 6 if tdim == 3 else 4
        self.solved = list(range(6)) if tdim == 3 else [0, 1, 3]
        n_strain = len(self.solved)
        self.points = QuadraturePoints(mesh, QUADRATURE_DEGREE)
        # [xx, yy, zz, xy] (plane strain) or [xx, yy, zz, xy, yz, xz] (3D)
        self.stress = fem.Function(fem.functionspace(mesh, ("DG", 1, (self.n_stress,))), name="stress")
        # the part of the Mandel tangent C_alg of the solved components differentiated through
        # the DG1 field: all of it, or only the deviatoric part when the pressure is taken per cell
        self.tangent = fem.Function(fem.functionspace(mesh, ("DG", 1, (n_strain, n_strain))))
        self.tangent_moment = fem.Function(fem.functionspace(mesh, ("DG", 1, (n_strain, n_strain, tdim))))  # C (x) x_q
        self.bulk_modulus = material.lame_lambda + 2.0 * material.shear_modulus / 3.0
        # material numbers enter the forms as Constants: one compiled form set serves every case
        self.bulk = fem.Constant(mesh, self.bulk_modulus)
        self.shear = fem.Constant(mesh, material.shear_modulus)
        self.cell_pressure = self.params.constant_pressure_per_cell
        self.centroid = None
        if self.cell_pressure:
            W0 = fem.functionspace(mesh, ("DG", 0, (tdim,)))
            self.centroid = fem.Function(W0)
            self.centroid.interpolate(fem.Expression(ufl.SpatialCoordinate(mesh), W0.element.interpolation_points))
        self.strain_at_points = self.points.expression(strain_mandel(self.u))
        self.creep_strain_old = np.zeros((self.points.size, self.n_stress))
        self.equivalent_creep_strain_old = np.zeros(self.points.size)
        self.update = None  # CreepUpdate of the current iterate

    # ---- weak form (the package docstring)

    def _weak_form(self):
        mesh, body = self.mesh, self.body
        V, params = self.V, self.params
        v, du = ufl.TestFunction(V), ufl.TrialFunction(V)
        nu_top = ufl.FacetNormal(mesh)
        self.interface_normal, nu = contact_normal(body, self.segments, params.interface_normal)
        penalty = fem.Constant(mesh, params.nitsche_penalty * params.youngs_modulus) / ufl.CellDiameter(mesh)
        theta = fem.Constant(mesh, NITSCHE_VARIANTS[params.nitsche_variant])
        dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
        ds_top = body.ds("li_top")
        ds_contact = body.ds(*self.segments).reconstruct(metadata={"quadrature_degree": CONTACT_QUADRATURE_DEGREE})
        sigma = stress_tensor(self.stress, self.tdim)
        constraint = ufl.dot(self.u, nu) + self.gap  # = -(u.n - g)
        elastic_test_stress = elastic_stress(v, self.bulk, self.shear, self.centroid)
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
        return residual, jacobian

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

    # ---- the constitutive update at the quadrature points -> DG1 fields

    def update_constitutive(self, dt: float) -> None:
        solved = self.points.evaluate(self.strain_at_points)
        strain = np.zeros((len(solved), self.n_stress))
        strain[:, self.solved] = solved  # plane strain: eps_zz = 0
        self.update = update = norton_creep_update(strain, self.creep_strain_old, dt, self.material)
        tangent = update.tangent
        if self.cell_pressure:  # creep is deviatoric: only the elastic pressure K tr(eps) changes
            identity = mandel_identity(self.n_stress)
            trace = strain[:, :3].sum(axis=1)
            cell_mean_trace = np.repeat(self.points.cell_mean(trace), self.points.per_cell)
            update.stress += (self.bulk_modulus * (cell_mean_trace - trace))[:, None] * identity
            tangent = tangent - self.bulk_modulus * np.outer(identity, identity)
        stress = update.stress.copy()
        stress[:, 3:] /= SQRT2  # Mandel -> tensor shear components
        self.points.to_dg1(self.stress, stress)
        tangent = tangent[:, self.solved][:, :, self.solved]
        self.points.to_dg1(self.tangent, tangent)
        moment = tangent[:, :, :, None] * self.points.coordinates[:, None, None, :]
        self.points.to_dg1(self.tangent_moment, moment)

    def commit(self) -> None:
        """Accept the current iterate as the state at the end of the step."""
        self.creep_strain_old = self.update.creep_strain.copy()
        self.equivalent_creep_strain_old = self.equivalent_creep_strain_old + self.update.creep_increment

    # ---- Newton

    @property
    def linear_iterations(self) -> int:
        return self.system.linear_iterations

    def newton(self, dt: float) -> StepOutcome:
        """Solve the step of size ``dt`` from the current guess in u (:func:`lisse.core.newton.solve`)."""
        return newton.solve(self.system, lambda: self.update_constitutive(dt), self.newton_settings)
