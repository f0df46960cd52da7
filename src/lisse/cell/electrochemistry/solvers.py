"""The SNES Newton of the electrochemistry: PETSc presets by problem size, the linearised initial guess,
the Jacobian as the Ohmic operator plus its interface correction, p-multigrid."""

from __future__ import annotations

import logging
import time

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

from dolfinx import fem
from dolfinx.fem.petsc import (
    assemble_matrix,
    assemble_vector,
    assign,
    interpolation_matrix,
)
from petsc4py import PETSc

from lisse.core.solvers import (
    DIRECT_SOLVER,
    linear_options,
    petsc_reason_name,
)

logger = logging.getLogger(__name__)

# Above this many DOFs the default linear solver switches from MUMPS LU to CG + GAMG.
# Sparse LU in 2D costs O(N^1.5) time and O(N log N) memory, multigrid-preconditioned CG
# about O(N): benchmarks/electrochemistry.py measured equal times at 1e4 DOFs, GAMG 1.5x
# faster at 4e4 and 2x faster in 40 % of the memory at 1.1e6 (~20 us/DOF flat).  The
# workflow's meshes (< 2e4 DOFs) stay on the direct solver, which has no tolerance to tune.
DIRECT_SOLVER_MAX_DOFS = 50_000



# Linear solvers for the Newton steps.  The Jacobian is symmetric positive definite.
# CG with two-level p-multigrid: the P_k operator is smoothed by Chebyshev/Jacobi and its
# coarse level is the P1 operator on the same mesh (the Galerkin product through the P1 -> P_k
# interpolation, which the solver supplies), solved by one GAMG V-cycle.  Against GAMG on the
# P2 operator itself (GAMG_SOLVER), 3D unit cell at 1.3e6 DOFs: set-up 12 -> 2.7 s, CG
# iterations 42 -> 27 (initial guess and two Newton steps), solve 35 -> 19 s on one core.
ITERATIVE_SOLVER = {
    "ksp_type": "cg", "ksp_rtol": 1e-10, "ksp_norm_type": "unpreconditioned",
    "pc_type": "mg", "pc_mg_levels": 2, "pc_mg_galerkin": "both",
    "mg_levels_ksp_type": "chebyshev", "mg_levels_pc_type": "jacobi", "mg_levels_ksp_max_it": 1,
    "mg_coarse_ksp_type": "preonly", "mg_coarse_pc_type": "gamg",
    "mg_coarse_pc_gamg_aggressive_coarsening": 0, "mg_coarse_pc_gamg_graph_symmetrize": False,
}
# CG + GAMG on the operator itself: P1 elements (no lower degree for p-multigrid) or a user's
# pc_type gamg.  GAMG set-up dominates a 3D P2 solve: aggressive coarsening by MIS-2 (with
# minimum-degree ordering) instead of squaring the graph, and no graph symmetrisation (the
# operator is symmetric) make it 2.5x faster at 3e5 DOFs, for no more CG iterations.
GAMG_SOLVER = {"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-10, "ksp_norm_type": "unpreconditioned",
               "pc_gamg_aggressive_square_graph": False, "pc_gamg_mis_k_minimum_degree_ordering": True,
               "pc_gamg_graph_symmetrize": False}
# A Krylov solver stops the linearised initial guess at this relative residual (or at its own
# looser tolerance): the linearisation itself is off by about 1e-3 of that residual at
# 0.5 mA/cm², and Newton corrects the rest at no extra steps.
INITIAL_GUESS_RTOL = 1e-3


def default_petsc_options(n_dofs: int, total_current: float, petsc_options: dict | None = None,
                          element_degree: int = 2) -> dict:
    """SNES Newton with back-tracking line search and the linear solver for the problem size.

    MUMPS LU up to :data:`DIRECT_SOLVER_MAX_DOFS`, CG + p-multigrid above (CG + GAMG for P1
    elements).  A user's ``pc_type`` picks the matching preset instead (``lu`` ->
    :data:`DIRECT_SOLVER`, ``gamg`` -> :data:`GAMG_SOLVER`, anything else -> no linear
    defaults), then the user's options override everything.
    """
    user = dict(petsc_options or {})
    iterative = ITERATIVE_SOLVER if element_degree > 1 and user.get("pc_type") != "gamg" else GAMG_SOLVER
    linear = linear_options(user, DIRECT_SOLVER, iterative, n_dofs <= DIRECT_SOLVER_MAX_DOFS)
    # Residual entries are nodal current imbalances (A per metre of depth): converge to
    # 1e-10 of the total current crossing the cell, whatever i_app is.  No relative test:
    # relative to a poor initial residual it would accept a wrong answer.
    snes_atol = max(1e-10 * abs(total_current), 1e-30)
    return {
        "snes_type": "newtonls",
        "snes_linesearch_type": "bt",
        "snes_atol": snes_atol,
        "snes_rtol": 0.0,
        "snes_max_it": 50,
        # A Krylov solve of a Newton step need only leave a linear residual (the next nonlinear
        # residual, to first order) well below snes_atol: more accuracy is never seen.
        "ksp_atol": 0.1 * snes_atol,
        **linear,
        **user,
    }



def snes_reason_name(reason: int) -> str:
    return petsc_reason_name(PETSc.SNES.ConvergedReason, reason)



def solve_linearised(ksp: PETSc.KSP, A: PETSc.Mat, a: fem.Form, L: fem.Form, u: fem.Function) -> None:
    """Assemble the linear problem a(u, v) = L(v) into ``A`` and solve it into ``u`` with ``ksp``,
    to a relative residual of :data:`INITIAL_GUESS_RTOL` (a Krylov solver; LU is exact)."""
    A.zeroEntries()
    assemble_matrix(A, a)
    A.assemble()
    b = assemble_vector(L)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    ksp.setOperators(A, A)
    rtol = ksp.getTolerances()[0]
    ksp.setTolerances(rtol=max(rtol, INITIAL_GUESS_RTOL))
    try:
        ksp.solve(b, u.x.petsc_vec)
    finally:
        ksp.setTolerances(rtol=rtol)
        b.destroy()
    u.x.scatter_forward()


def set_p1_coarse_level(pc: PETSc.PC, V: fem.FunctionSpace) -> None:
    """Make a two-level PCMG a p-multigrid: its coarse level is P1 on the mesh of ``V``."""
    interpolation = interpolation_matrix(fem.functionspace(V.mesh, ("Lagrange", 1)), V)
    interpolation.assemble()
    pc.setMGInterpolation(1, interpolation)


def jacobian_callback(A: PETSc.Mat, correction: fem.Form, u: fem.Function):
    """SNES Jacobian callback: J = A + the assembled ``correction`` (a form in ``u``) at the iterate."""

    def jacobian(snes, x, J, P):
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        assign(x, u)
        A.copy(J, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        assemble_matrix(J, correction)
        J.assemble()

    return jacobian


def time_snes_assembly(snes: PETSc.SNES) -> dict:
    """Wrap the SNES residual and Jacobian callbacks to accumulate their (assembly) wall time."""
    timer = {"seconds": 0.0}

    def timed(callback):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return callback(*args, **kwargs)
            finally:
                timer["seconds"] += time.perf_counter() - t0
        return wrapper

    residual_vector, (residual, r_args, r_kwargs) = snes.getFunction()
    snes.setFunction(timed(residual), residual_vector, args=r_args, kargs=r_kwargs)
    jacobian_matrix, preconditioner_matrix, (jacobian, j_args, j_kwargs) = snes.getJacobian()
    snes.setJacobian(timed(jacobian), jacobian_matrix, preconditioner_matrix, args=j_args, kargs=j_kwargs)
    return timer


