"""Tests of the adaptive time stepping shared by both studies (:mod:`lisse.core.stepping`), on a
problem whose every step converges, so that only the loop is under test."""

from __future__ import annotations

import pytest

from lisse.core.stepping import StepOutcome, Stepsize, TimeSteppingError, integrate


def _march(stops, halt=None, fails_before: float = -1.0):
    """Run the loop with dt0 = 0.1; attempts of steps ending before ``fails_before`` with dt > 0.05 fail."""
    accepted, reached = [], []

    def attempt(t_new, dt):
        ok = not (t_new <= fails_before and dt > 0.05)
        return StepOutcome(ok, 2, 0.0 if ok else 1.0, "converged" if ok else "diverged")

    record = integrate(Stepsize(0.1, growth_factor=1.0), stops, attempt, lambda t, dt, o: accepted.append(t),
                       reached.append, halt=halt)
    return record, accepted, reached


def test_loop_lands_on_every_stop():
    record, accepted, reached = _march([0.25, 1.0])
    assert reached == [0.25, 1.0]
    assert accepted[-1] == 1.0 and accepted.count(0.25) == 1
    assert record.halted == "" and record.steps == len(accepted)


def test_halt_ends_the_march_at_the_step_it_names_and_says_why():
    """The loop asks after every accepted step; the first step at or past t = 0.35 ends it, its state is
    reached (so its fields are written) and no later stop is."""
    record, accepted, reached = _march([0.5, 1.0], halt=lambda t: "left the model" if t >= 0.35 - 1e-12 else "")
    assert record.halted == "left the model"
    assert accepted[-1] == pytest.approx(0.4) and sum(record.step_sizes) == pytest.approx(accepted[-1])
    assert reached == [accepted[-1]]


def test_cut_backs_are_counted_and_a_step_that_keeps_failing_raises():
    record, accepted, _ = _march([1.0], fails_before=0.3)
    assert record.cutbacks >= 1 and accepted[-1] == 1.0
    with pytest.raises(TimeSteppingError, match="time step 1 from t = 0 s failed"):
        integrate(Stepsize(0.1, max_cutbacks=2), [1.0], lambda t, dt: StepOutcome(False, 9, 1.0, "diverged"),
                  lambda *a: None, lambda t: None)
