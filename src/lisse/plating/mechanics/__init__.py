"""Plating-induced stress in Li under a rigid current collector, and the LLZO stress at a pit tip.

The model (Study B: Nat. Commun. 2022; README, "Study B"), 2D plane strain, SI units, on the meshes of
:mod:`lisse.plating.geometry` (LLZO plate with a Li-filled surface pit, a Li interphase
layer, a rigid CC tip as the Li's top boundary; mirror symmetry about x = 0).

Growth (plating).  Li is plated at the Li/LLZO interface at the local current density i
(uniform, choice) and thickens the layer normal to the LLZO surface, d(thickness)/dt =
v = i V_m / F.  It is represented as a growth deformation of the layer above the LLZO
surface plane (y > 0), F_g = I + g(t) n (x) n with n = e_y and

    g(t) = v t / h0 = i V_m t / (F h0),

h0 the layer thickness under the CC apex (``li_thickness``): a free layer of thickness
h0 thickens by exactly v t, stress free when nothing constrains its top (growth normal to a
flat bonded base is compatible).  The Li in the pit does not grow by default; with
``pit_growth`` it grows with the same g along e_y (Li plated on the pit walls too, one
fibre-growth eigenstrain for all plated Li): bonded to the pit walls it cannot grow
compatibly and must flow out of the pit, which loads the Li even without a top constraint.
Loading runs for a deposition time ``duration`` (the same at every current, so g grows with i,
as in a fixed-duration step), or, without it, to a plated thickness ``plated_thickness``
(default 4 nm = 20 % of h0 = 20 nm) at every current density, over t_end = plated_thickness / v:
faster plating then only leaves less time for creep.

Kinematics (``kinematics = "finite"``, default).  Multiplicative split
F = F_e F_v F_g: growth acts first, in the reference frame (its direction is the
reference LLZO normal), and the viscous flow F_v acts on the grown, stress-free
configuration (choice: with this order the state of an isotropic law is C_v^-1 alone;
the order F_e F_g F_v of the brief would need the full, rotating F_v; the two agree
when F_g and F_v are coaxial).  With Fg_bar = F F_g^-1 the elastic left Cauchy-Green
trial tensor of a step is b_tr = Fg_bar C_v,n^-1 Fg_bar^T, and the exponential-map
return mapping (Weber-Anand 1990, Eterovic-Bathe 1990, Simo 1992) works on the
logarithmic elastic strain eps_tr = 1/2 ln b_tr with Study A's small-strain Norton
return mapping (:func:`lisse.core.creep.norton_creep_update`) unchanged: the Hencky energy
psi = K/2 (ln J_e)^2 + G |dev eps_e|^2 (per unit grown volume) gives the Kirchhoff
stress tau_e = K ln J_e I + 2 G dev eps_e, the radial return keeps eps_e coaxial with
eps_tr, and after the step b_e = exp(2 eps_e), C_v^-1 = Fg_bar^-1 b_e Fg_bar^-T.
Viscous flow is isochoric (det C_v = 1).  The first Piola-Kirchhoff stress is
P = J_g tau_e F^-T (J_g = 1 + g: the grown volume carries the energy).
``kinematics = "small"`` is the linearised model (eps = sym grad u = eps_e + g n (x) n
+ eps_v, sigma = C : eps_e); the tests show where it departs.

Constitutive laws.  Li: Hencky elasticity (E = 7.8 GPa, nu = 0.38) with Study A's
Norton creep, optionally with a yield strength sigma_y as a Perzyna-type threshold,
eps_dot_v = eps_dot_0 <(sigma_e - sigma_y) / sigma_ref>^n (sigma_y = 0: pure Norton).
LLZO: the same Hencky law without flow (E = 150 GPa, nu = 0.26): hyperelastic and
consistent with the Li law; its strains stay below a few per cent.

Discretisation.  P2 displacements; the deviatoric stress lives at the 3 points of
the degree-2 rule (quadrature spaces), updated in numpy (vectorised return mapping)
with the exact algorithmic tangent d tau / d b_tr, chained in UFL through d b_tr / du.
Volumetric locking (viscous flow is isochoric, the relaxed Li is a nearly
incompressible fluid): the volumetric energy J_g K/2 ln(theta / J_g)^2 uses the cell
mean theta of J (mean dilatation, Nagtegaal / Simo-Taylor-Pister; the finite-strain
form of Study A's P2-P0 pressure, which the small-strain option reuses as is).  On an
affine P2 triangle J is quadratic, so its mean is exact in closed form
(:func:`_cell_mean_jacobian`), and UFL differentiates it exactly.

Boundary conditions (``constraint``):
* ``top``: the CC is rigid and fixed, the Li bonded to it (u = 0 on ``li_cc``); the Li
  may spread laterally through its free edge ``li_free``.  Choice of bonded over
  frictionless: plated Li adheres to Cu/W current collectors and to LLZO, the no-slip
  squeeze film is what makes the top constraint "strong", and it is imposed exactly.
* ``top_lateral``: also u_x = 0 on ``li_free`` (no time to spread).
* ``none``: ``li_cc`` and ``li_free`` traction free (free, whisker-like growth).
Always: Li bonded to LLZO (one displacement field), u_x = 0 on the symmetry edges,
u_y = 0 on ``llzo_bottom`` (frictionless support), ``llzo_sides`` and ``llzo_free``
traction free.  A mesh without LLZO cells (verification strips) sits on a rigid
substrate: u = 0 on ``li_llzo``.

Outputs.  p = -tr(sigma)/3 (Cauchy, positive in compression), per cell (the
mean-dilatation pressure); its maximum over the Li.  sigma_1 = the largest principal
Cauchy stress (in-plane pair and sigma_zz); at the pit tip it is sampled on the LLZO
side of the ``pit_tip`` facets (the notch cap within rho/2 of the axis) from the
stress interpolated linearly through the 3 quadrature points of the LLZO cell, at the
facet ends and 2 Gauss points each: ``sigma1_tip`` is the maximum (the notch-root
stress), ``sigma1_tip_mean`` the length average.

Time integration: backward Euler with :mod:`lisse.core.stepping`'s adaptive steps (grow after
fast Newton convergence, halve on failure), Newton by PETSc SNES with the return mapping in
its residual callback (:class:`~lisse.plating.mechanics.problem.PlatingProblem`).  A step that
keeps failing raises :class:`PlatingConvergenceError` naming step, time, dt, reason and residual.
"""

from lisse.plating.mechanics.constitutive import (
    PointUpdate,
    finite_strain_update,
    log_strain_2d,
    overstress_update,
    principal_max,
    small_strain_update,
)
from lisse.plating.mechanics.parameters import (
    CONSTRAINTS,
    KINEMATICS,
    PlatingConvergenceError,
    PlatingParameters,
    bulk_modulus,
    confined_pressure,
)
from lisse.plating.mechanics.solve import (
    HISTORY_COLUMNS,
    PlatingResult,
    run_plating,
    solve_plating,
)

__all__ = [
    "CONSTRAINTS", "HISTORY_COLUMNS", "KINEMATICS", "PlatingConvergenceError", "PlatingParameters", "PlatingResult",
    "PointUpdate", "bulk_modulus", "confined_pressure", "finite_strain_update", "log_strain_2d", "overstress_update",
    "principal_max", "run_plating", "small_strain_update", "solve_plating",
]
