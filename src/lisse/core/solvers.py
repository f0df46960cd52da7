"""Linear solvers in PETSc: presets, options by prefix, MUMPS workspace retries and failure reasons.

Every solver of the package builds its KSPs here (:func:`linear_solver`) and solves with
:func:`solve_linear_system`, so options reach PETSc the same way everywhere and a failed
solve reports why by name.
"""

from __future__ import annotations

import contextlib
import logging

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
from mpi4py import MPI

# MUMPS LU: 2D problems and small 3D ones, and what a user's pc_type: lu selects
DIRECT_SOLVER = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}


def default_petsc_options() -> dict:
    """A copy of :data:`DIRECT_SOLVER` (Study B's default)."""
    return dict(DIRECT_SOLVER)


def linear_options(user: dict, direct: dict, iterative: dict, use_direct: bool) -> dict:
    """KSP/PC options: the direct or iterative preset by problem size, unless the user's
    ``pc_type`` picks one (``lu`` -> direct, ``gamg`` -> iterative, anything else -> no
    preset); the user's own options override the preset."""
    if "pc_type" in user:
        return {**{"lu": direct, "gamg": iterative}.get(user["pc_type"], {}), **user}
    return {**(direct if use_direct else iterative), **user}


@contextlib.contextmanager
def petsc_options_in_database(prefix: str, options: dict):
    """Put ``options`` under ``prefix`` into PETSc's options database for the duration of a block.

    They are there while the solver objects created in the block read them (multigrid reads its
    level options only when the preconditioner is built, so keep solves inside) and are removed
    afterwards, so one solve's settings never leak into the next one in the same process
    (tests run many).  DOLFINx 0.11's ``petsc_options`` arguments set them but do not remove them.
    """
    from petsc4py import PETSc

    database = PETSc.Options()
    for key, value in options.items():
        database[f"{prefix}{key}"] = value
    try:
        yield
    finally:
        for key in options:
            del database[f"{prefix}{key}"]


SOLVER_OPTIONS = "lisse_petsc_options"  # attribute of a linear_solver KSP: its options
MUMPS_WORKSPACE_RETRIES = 3  # per solve: margins 20 -> 40 -> 80 -> 160 %
# Beyond this the fill of delayed pivots makes one factorisation take minutes instead of
# seconds (measured on the 3D cell at 4 MPa, where creep has left the Li's deviatoric tangent
# far below its bulk modulus): the Jacobian is nearly singular, and failing with that reason
# beats running for hours.
MUMPS_MAX_WORKSPACE_MARGIN = 640  # %


def petsc_reason_name(reasons, value: int) -> str:
    """The name of a PETSc reason code (``reasons``: e.g. ``PETSc.KSP.ConvergedReason``)."""
    names = [k for k in dir(reasons) if k.isupper() and getattr(reasons, k) == value]
    # aliases (ITERATING = CONVERGED_ITERATING): the CONVERGED_/DIVERGED_ spelling
    return next((k for k in names if k.startswith(("CONVERGED_", "DIVERGED_"))), names[0] if names else str(value))


def linear_solve_failure(ksp) -> str:
    """Why ``ksp`` failed, for the error a failed step reports: the KSP reason by name, and for a
    failed preconditioner its own reason, with MUMPS's INFOG(1) and INFOG(2) when MUMPS
    factorised (e.g. -9: workspace too small, -10: numerically singular; MUMPS manual, sec. 8)."""
    from petsc4py import PETSc

    reason = ksp.getConvergedReason()
    text = f"linear solver failed: KSP {petsc_reason_name(PETSc.KSP.ConvergedReason, reason)} ({reason})"
    if reason != PETSc.KSP.ConvergedReason.DIVERGED_PCSETUP_FAILED:
        return text
    pc = ksp.getPC()
    text += f", PC {petsc_reason_name(PETSc.PC.FailedReason, pc.getFailedReason())}"
    if pc.getType() in (PETSc.PC.Type.LU, PETSc.PC.Type.CHOLESKY) and pc.getFactorSolverType() == "mumps":
        factor = pc.getFactorMatrix()
        text += f", MUMPS INFOG(1) = {factor.getMumpsInfog(1)}, INFOG(2) = {factor.getMumpsInfog(2)}"
        if factor.getMumpsInfog(1) in (-8, -9) and factor.getMumpsIcntl(14) >= MUMPS_MAX_WORKSPACE_MARGIN:
            text += f" at a workspace margin of {factor.getMumpsIcntl(14)} % (the most tried): nearly singular Jacobian"
    return text


def grow_mumps_workspace(ksp) -> bool:
    """After MUMPS ran out of workspace, set up a new factorisation with twice the margin; False
    if the solve failed for any other reason (or did not fail).

    MUMPS sizes its workspace at the analysis, plus ICNTL(14) % (20 by default) for the
    delayed pivots of the numerical factorisation.  When creep has relaxed the Li's deviatoric
    stiffness, the nearly incompressible Jacobian needs more pivoting than that (INFOG(1) =
    -9, or -8 for the integer array; measured on the 3D unit cell at 4 MPa after 32 s).  A
    MUMPS instance that failed once never factorises again (PETSc skips it), so the PC is reset
    and analyses anew; the larger margin stays for the rest of the solve.
    """
    from petsc4py import PETSc

    pc = ksp.getPC()
    if (ksp.getConvergedReason() != PETSc.KSP.ConvergedReason.DIVERGED_PCSETUP_FAILED
            or pc.getType() not in (PETSc.PC.Type.LU, PETSc.PC.Type.CHOLESKY) or pc.getFactorSolverType() != "mumps"):
        return False
    factor = pc.getFactorMatrix()
    error, shortfall, margin = factor.getMumpsInfog(1), factor.getMumpsInfog(2), factor.getMumpsIcntl(14)
    if error not in (-8, -9) or margin >= MUMPS_MAX_WORKSPACE_MARGIN:
        return False
    larger = 2 * max(margin, 20)
    operators = ksp.getOperators()
    pc.reset()
    ksp.setOperators(*operators)
    pc.setFactorSetUpSolverType()
    pc.getFactorMatrix().setMumpsIcntl(14, larger)
    if ksp.getComm().rank == 0:
        logging.getLogger(__name__).info("MUMPS workspace too small (INFOG(1) = %d, INFOG(2) = %d): ICNTL(14) %d -> %d %%,"
                                         " factorising again", error, shortfall, margin, larger)
    return True


def solve_linear_system(ksp, rhs, solution) -> None:
    """``ksp.solve`` for a KSP from :func:`linear_solver`, with its options in the database
    (MUMPS and the multigrid levels read theirs only when the preconditioner is built), and
    factorising again with a larger margin when MUMPS ran out of workspace
    (:func:`grow_mumps_workspace`).  The caller checks the converged reason."""
    with petsc_options_in_database(ksp.getOptionsPrefix(), ksp.getAttr(SOLVER_OPTIONS) or {}):
        ksp.solve(rhs, solution)
        for _ in range(MUMPS_WORKSPACE_RETRIES):
            if ksp.getConvergedReason() > 0 or not grow_mumps_workspace(ksp):
                return
            ksp.solve(rhs, solution)


def linear_solver(comm: MPI.Comm, prefix: str, options: dict):
    """A PETSc KSP configured from ``options`` under ``prefix`` (see :func:`petsc_options_in_database`);
    solve with :func:`solve_linear_system`, which puts the options back while it builds the
    preconditioner."""
    from petsc4py import PETSc

    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix(prefix)
    ksp.setAttr(SOLVER_OPTIONS, dict(options))
    with petsc_options_in_database(prefix, options):
        ksp.setFromOptions()
    return ksp


def rigid_body_modes(V):
    """Translations and rotations (3 in 2D, 6 in 3D) of a vector space, for GAMG's near-null space."""
    from dolfinx import fem
    from petsc4py import PETSc

    dim = V.mesh.geometry.dim
    zero = np.zeros_like
    if dim == 2:
        fields = [lambda x: np.vstack([np.ones_like(x[0]), zero(x[0])]),
                  lambda x: np.vstack([zero(x[0]), np.ones_like(x[0])]),
                  lambda x: np.vstack([-x[1], x[0]])]
    else:
        fields = [lambda x, k=k: np.vstack([np.ones_like(x[0]) if i == k else zero(x[0]) for i in range(3)])
                  for k in range(3)]
        fields += [lambda x: np.vstack([-x[1], x[0], zero(x[0])]),
                   lambda x: np.vstack([zero(x[0]), -x[2], x[1]]),
                   lambda x: np.vstack([x[2], zero(x[0]), -x[0]])]
    modes = [fem.Function(V) for _ in fields]
    for mode, rigid_motion in zip(modes, fields):
        mode.interpolate(rigid_motion)
    orthonormalised = []
    for vec in (m.x.petsc_vec for m in modes):  # Gram-Schmidt: PETSc wants an orthonormal basis
        w = vec.copy()
        for q in orthonormalised:
            w.axpy(-w.dot(q), q)
        w.normalize()
        orthonormalised.append(w)
    return PETSc.NullSpace().create(vectors=orthonormalised, comm=V.mesh.comm)
