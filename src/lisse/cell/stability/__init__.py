"""The morphological-stability criterion of the Li/SSE interface and the (i_app, P) phase diagram.

The model (Study A: Adv. Mater. 2021, 2104009; README, Model, "The stability criterion"), SI units throughout:

* stripping removes Li from the interface at the electrochemical strain rate

      eps_dot_EC(s) = |i_loc(s)| M / (F rho h),

  the local current turned into a recession speed (|i| M / (F rho)) over the
  thickness h = delta the mechanics strips;
* Norton creep under the stack pressure refills it at the mechanical strain rate

      eps_dot_ME(s) = eps_dot_0 (sigma_e(s) / sigma_ref)^n;

* the interface is stable at (i_app, P) when eps_dot_ME >= eps_dot_EC over at
  least a fraction f_crit of the interface length.

The electrochemistry does not depend on P and the mechanics does not depend on
i_app, so one geometry is solved at N_i currents and N_P pressures and
:class:`InterfaceResponse` interpolates between them: the normalised current
profile i_loc(s)/i_app linearly in log(i_app), the normalised stress profile
sigma_e(s)/P linearly in log(P).  The dense phase diagram, the critical current
density CCD(P) and the calibration of eps_dot_0 are then post-processing.

Length weighting (the rule used everywhere here): between two neighbouring
points of the interface coordinate s the log-ratio log10(eps_dot_ME/eps_dot_EC)
is taken as linear, and the stable part of the interval is the exact part where
that line is >= 0.  The stable fraction is thus continuous in i_app, P and
eps_dot_0 (a point-indicator rule would make it a staircase), which keeps the
CCD and the calibration root well posed; on a uniform (planar) profile it
reduces to the indicator, 0 or 1.
"""

from lisse.cell.stability.calibration import CalibrationResult, calibrate_creep_prefactor, find_root_illinois
from lisse.cell.stability.criterion import (
    CCD_STATUSES,
    CRITICAL_FRACTION,
    RATE_FLOOR,
    STRIPPED_THICKNESS,
    StabilityCriterion,
    StabilityMetrics,
    area_stability_metrics,
    creep_rate_prefactor,
    electrochemical_strain_rate,
    log10_rate_ratio,
    mechanical_strain_rate,
    stability_metrics,
)
from lisse.cell.stability.response import CriticalCurrent, InterfaceResponse, StabilityMap

__all__ = [
    "CCD_STATUSES", "CRITICAL_FRACTION", "RATE_FLOOR", "STRIPPED_THICKNESS", "CalibrationResult", "CriticalCurrent",
    "InterfaceResponse", "StabilityCriterion", "StabilityMap", "StabilityMetrics", "area_stability_metrics",
    "calibrate_creep_prefactor", "creep_rate_prefactor", "electrochemical_strain_rate", "find_root_illinois",
    "log10_rate_ratio", "mechanical_strain_rate", "stability_metrics",
]
