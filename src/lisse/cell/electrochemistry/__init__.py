"""Steady electrolyte potential in the SSE with Butler–Volmer kinetics at the Li/SSE interface.

The model (Study A: Adv. Mater. 2021, 2104009; README, Model, "Electrochemistry"), SI units throughout:

* In the SSE body, a single-ion conductor with no concentration gradients, the
  current density is Ohmic, ``j = -sigma grad(phi)``, and conserved,
  ``div(j) = 0``; ``sigma`` follows an Arrhenius law in temperature.
* The Li electrode is an electronic conductor at ``phi_s = 0`` (the stripping
  electrode).  Across the Li/SSE interface the normal current density
  ``i_n`` (positive when Li+ leaves the Li into the SSE, i.e. stripping)
  follows Butler–Volmer in the overpotential ``eta = phi_s - phi`` (E_eq = 0).
* Galvanostatic control: a uniform normal current density ``i_app`` leaves
  through the SSE mid-plane; the lateral edges are insulating (mirror planes).

Multiplying ``div(j) = 0`` by a test function ``v`` and integrating by parts
over the SSE, with ``j.n = -i_n`` on the interface (current enters the SSE) and
``j.n = i_app`` on the mid-plane (current leaves), gives the weak form

    (sigma grad(phi), grad(v))  -  <i_n(eta), v>_interface  +  <i_app, v>_midplane  =  0.

Nothing pins ``phi`` but the Butler–Volmer term, which is strictly monotone
in ``phi``, so the problem is well posed without a Dirichlet condition.

By the mid-plane symmetry of the symmetric Li | SSE | Li cell, the cell voltage
is twice the half-cell drop, ``2 * (phi_s - mean(phi on the mid-plane))``.
"""

from lisse.cell.electrochemistry.parameters import (
    ElectrochemistryConvergenceError,
    ElectrochemistryParameters,
    butler_volmer_current,
    charge_transfer_conductance,
    conductivity,
    planar_cell_voltage,
    planar_overpotential,
)
from lisse.cell.electrochemistry.sampling import INTERFACE_COLUMNS, INTERFACE_COLUMNS_3D
from lisse.cell.electrochemistry.solve import ElectrochemistryResult, run_electrochemistry, solve_electrochemistry
from lisse.cell.electrochemistry.solvers import (
    DIRECT_SOLVER_MAX_DOFS,
    GAMG_SOLVER,
    ITERATIVE_SOLVER,
    default_petsc_options,
)

__all__ = [
    "DIRECT_SOLVER_MAX_DOFS", "GAMG_SOLVER", "INTERFACE_COLUMNS", "INTERFACE_COLUMNS_3D", "ITERATIVE_SOLVER",
    "ElectrochemistryConvergenceError", "ElectrochemistryParameters", "ElectrochemistryResult", "butler_volmer_current",
    "charge_transfer_conductance", "conductivity", "default_petsc_options", "planar_cell_voltage", "planar_overpotential",
    "run_electrochemistry", "solve_electrochemistry",
]
