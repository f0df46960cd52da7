"""Newton's method with a back-tracking line search for a :class:`~lisse.core.bordered.BorderedSystem`.

The one hand-written Newton of the package, for problems whose extra (border) unknowns PETSc's
SNES cannot see; problems without them use SNES (``dolfinx.fem.petsc.NonlinearProblem``).

Back-tracking on |R|: with a Norton exponent of 6.6 the tangent is stiff where the Li barely
creeps and soft where it flows, and full steps from a poor guess can wander off.  Two round-off
exits: once creep has carried u far, the residual is limited by round-off (stresses are E-sized
differences of large strains), so a correction at round-off level relative to u is accepted,
and so is a residual that no line search can reduce when it is already below
``stagnation_atol``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from mpi4py import MPI

from lisse.core.bordered import BorderedSystem, LinearSolveError
from lisse.core.stepping import StepOutcome

logger = logging.getLogger(__name__)

ARMIJO = 1e-4  # sufficient decrease of |R| per unit step length


@dataclass(frozen=True)
class NewtonSettings:
    max_iterations: int
    max_line_search_halvings: int
    atol: float  # converged when |R| <= atol
    stol: float  # or when |du| <= stol |u|
    stagnation_atol: float  # a residual that no line search reduces is accepted below this


def evaluate_residual(system: BorderedSystem, update_state: Callable[[], None], comm: MPI.Comm) -> float:
    """Run the constitutive update at the current u, then assemble; |R|, or inf if the update failed
    on any rank (every rank takes the same branch)."""
    try:
        update_state()
        failed = 0
    except (RuntimeError, FloatingPointError):  # the return mapping did not converge at some point
        failed = 1
    if comm.allreduce(failed, op=MPI.MAX):
        return math.inf
    return system.residual_norm()


def solve(system: BorderedSystem, update_state: Callable[[], None], settings: NewtonSettings,
          accept: Callable[[float, float], None] | None = None) -> StepOutcome:
    """Newton from the current guess in ``system.u``; ``update_state()`` evaluates the material at u
    (at every trial point of the line search); ``accept(alpha, |R|)`` is told the step length and the
    residual when a trial becomes the iterate."""
    comm = system.u.function_space.mesh.comm
    x = system.u.x.petsc_vec
    norm = evaluate_residual(system, update_state, comm)
    correction_norm = math.inf
    start = x.copy()
    for iteration in range(settings.max_iterations + 1):
        if comm.rank == 0:
            logger.debug("  Newton %2d: |R| = %.3e, |du| = %.3e, %d Krylov its so far", iteration, norm,
                         correction_norm, system.linear_iterations)
        if not math.isfinite(norm):
            return StepOutcome(False, iteration, norm, "constitutive update failed or residual not finite")
        if norm <= settings.atol:
            return StepOutcome(True, iteration, norm, "converged")
        if correction_norm <= settings.stol * x.norm():
            return StepOutcome(True, iteration, norm, "converged (correction at round-off level)")
        if iteration == settings.max_iterations:
            break
        try:
            direction_norm = system.newton_direction()
        except LinearSolveError as error:
            return StepOutcome(False, iteration, norm, str(error))
        x.copy(start)
        roundoff = direction_norm <= settings.stol * start.norm()
        alpha = 1.0
        for _ in range(settings.max_line_search_halvings + 1):
            system.step(start, alpha)
            trial_norm = evaluate_residual(system, update_state, comm)
            if roundoff or trial_norm <= (1.0 - ARMIJO * alpha) * norm:
                break
            alpha *= 0.5
        else:
            if norm <= settings.stagnation_atol:  # no descent, but already at the round-off floor
                start.copy(x)
                system.u.x.scatter_forward()
                evaluate_residual(system, update_state, comm)  # back to the last iterate's state
                return StepOutcome(True, iteration, norm, "converged (residual stagnates at round-off level)")
            return StepOutcome(False, iteration + 1, norm, "line search found no decrease of the residual")
        norm = trial_norm
        if accept is not None:
            accept(alpha, norm)
        correction_norm = alpha * direction_norm
    return StepOutcome(False, settings.max_iterations, norm,
                       f"no convergence in {settings.max_iterations} Newton iterations")
