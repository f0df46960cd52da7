"""Adaptive time stepping for the creep problems: one step size rule, one loop, one failure.

Both studies integrate a path-dependent material by backward Euler to a list of stops (output
times, the end of a load ramp, the end time).  :class:`Stepsize` holds the rule, in the spirit
of FESTIM's ``Stepsize``: grow after a quickly converged step, halve on failure, stay within
``[min_value, max_value]``, land exactly on every stop without a sliver step before it.
:func:`integrate` runs the loop around a problem's own step attempt and reports what it did
(:class:`SteppingRecord`); a step that keeps failing raises :class:`TimeSteppingError`.  A
problem may also end the loop early once its own model no longer holds (``halt``): the
record says why and when.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

# Fraction of dt below which the remainder before a stop is merged into the step
SLIVER_FRACTION = 0.25
# Relative tolerance of "the loop has reached the stop" and "the step ran at full size"
TIME_TOLERANCE = 1e-12
SIZE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class StepOutcome:
    """What one attempt at a step returned: converged or not, and how."""

    converged: bool
    iterations: int
    residual_norm: float
    reason: str


class TimeSteppingError(RuntimeError):
    """The time stepping gave up: a step kept failing after the allowed cut-backs."""

    kind = "time"

    def __init__(self, step: int, time_s: float, dt: float, reason: str, residual_norm: float):
        self.step, self.time_s, self.dt, self.reason, self.residual_norm = step, time_s, dt, reason, residual_norm
        super().__init__(f"{self.kind} time step {step} from t = {time_s:.6g} s failed with dt = {dt:.3e} s after "
                         f"the maximum number of cut-backs: {reason} (last residual norm {residual_norm:.3e})")


@dataclass
class Stepsize:
    """The adaptive step size: ``value`` is the nominal step the next step starts from.

    After a step converged at its full size in at most ``fast_iterations`` Newton iterations
    the nominal step grows by ``growth_factor`` (up to ``max_value``); a failed attempt is
    halved, at most ``max_cutbacks`` times in a row, and a step that needed a halving makes
    its size the new nominal one.  ``min_value`` (by default the initial step halved
    ``max_cutbacks`` times) stops steps that each succeed after a halving from shrinking the
    step forever.
    """

    initial_value: float
    growth_factor: float = 1.25
    fast_iterations: int = 6
    max_cutbacks: int = 10
    max_value: float = math.inf
    min_value: float = 0.0  # 0: the initial step halved max_cutbacks times
    value: float = field(init=False)

    def __post_init__(self):
        if self.initial_value <= 0 or self.growth_factor < 1.0 or self.max_cutbacks < 0:
            raise ValueError("need initial_value > 0, growth_factor >= 1 and max_cutbacks >= 0")
        if self.min_value <= 0.0:
            self.min_value = self.initial_value * 0.5**self.max_cutbacks
        self.value = self.initial_value

    def first_try(self, t: float, stop: float) -> float:
        """The step from ``t`` toward ``stop``: the nominal one, or what is left when the rest
        would be a sliver."""
        dt = min(self.value, self.max_value, stop - t)
        if stop - (t + dt) < SLIVER_FRACTION * dt:
            dt = stop - t
        return dt

    def adapt(self, dt: float, iterations: int, cut_back: bool) -> None:
        """Update the nominal step after a converged step of size ``dt``."""
        if cut_back:
            self.value = dt
        elif iterations <= self.fast_iterations and dt >= min(self.value, self.max_value) * (1.0 - SIZE_TOLERANCE):
            self.value = dt * self.growth_factor


@dataclass
class SteppingRecord:
    """What the loop did: one entry per accepted step."""

    step_sizes: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    residual_norms: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    cutbacks: int = 0
    halted: str = ""  # why the loop ended before the last stop, at its last step ("": it did not)

    @property
    def steps(self) -> int:
        return len(self.step_sizes)


def integrate(stepsize: Stepsize, stops: Iterable[float], attempt: Callable[[float, float], StepOutcome],
              accept: Callable[[float, float, StepOutcome], None], reached: Callable[[float], None],
              error: type[TimeSteppingError] = TimeSteppingError, rank: int = 0,
              halt: Callable[[float], str] | None = None) -> SteppingRecord:
    """March from t = 0 through every stop.

    ``attempt(t_new, dt)`` sets the loads at ``t_new``, restores the state of the last accepted
    step (with any predictor) and solves; ``accept(t_new, dt, outcome)`` commits a converged
    step; ``reached(stop)`` runs once the loop lands on a stop.  ``halt(t)``, asked after every
    accepted step, returns why the march should end there ("" to go on); the loop then calls
    ``reached(t)`` and returns.  Raises ``error`` (a :class:`TimeSteppingError`) naming the step,
    time, step size, reason and residual.
    """
    record = SteppingRecord()
    t = 0.0
    for stop in stops:
        while t < stop * (1.0 - TIME_TOLERANCE):
            dt = stepsize.first_try(t, stop)
            t_new = stop if dt == stop - t else t + dt
            halvings = 0
            for _ in range(stepsize.max_cutbacks + 1):
                outcome = attempt(t_new, dt)
                if outcome.converged:
                    break
                halvings += 1
                record.cutbacks += 1
                if rank == 0:
                    logger.info("%s: step %d at t = %.4g s with dt = %.3e s failed (%s); halving", error.kind,
                                record.steps + 1, t, dt, outcome.reason)
                dt *= 0.5
                t_new = t + dt
                if dt < stepsize.min_value:
                    raise error(record.steps + 1, t, 2.0 * dt, f"{outcome.reason}; dt fell below the smallest step "
                                f"{stepsize.min_value:.2e} s (the initial step halved max_cutbacks times)",
                                outcome.residual_norm)
            else:
                raise error(record.steps + 1, t, 2.0 * dt, outcome.reason, outcome.residual_norm)
            accept(t_new, dt, outcome)
            record.step_sizes.append(dt)
            record.iterations.append(outcome.iterations)
            record.residual_norms.append(outcome.residual_norm)
            record.reasons.append(outcome.reason)
            if rank == 0:
                logger.info("%s: step %3d  t = %.4e s  dt = %.3e s  %d Newton its  |R| = %.2e", error.kind,
                            record.steps, t_new, dt, outcome.iterations, outcome.residual_norm)
            stepsize.adapt(dt, outcome.iterations, cut_back=halvings > 0)
            t = t_new
            why = halt(t) if halt is not None else ""
            if why:
                if rank == 0:
                    logger.info("%s: halted at t = %.4e s: %s", error.kind, t, why)
                record.halted = why
                reached(t)
                return record
        reached(stop)
    return record


class LinearPredictor:
    """The first guess of a step: the last accepted solution plus the last increment scaled to
    the new step (exact for steady creep, which is linear in t).  ``forget()`` after a kink in
    the loading (the end of a ramp), where extrapolating would overshoot."""

    def __init__(self, committed: np.ndarray):
        self.committed = committed.copy()
        self.increment: np.ndarray | None = None
        self.previous_dt = 1.0

    def guess(self, values: np.ndarray, dt: float) -> None:
        """Write the guess for a step of size ``dt`` into ``values``."""
        values[:] = self.committed
        if self.increment is not None:
            values += (dt / self.previous_dt) * self.increment

    def accept(self, values: np.ndarray, dt: float) -> None:
        self.increment = values - self.committed
        self.committed = values.copy()
        self.previous_dt = dt

    def forget(self) -> None:
        self.increment = None
