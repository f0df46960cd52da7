"""Creep of the Li foil pressed onto a rigid, micropatterned SSE: stresses along the interface.

Two methods share the contact, the edges and the interface tables: the steady creep flow
(:mod:`lisse.cell.mechanics.steady`, the default: one solve gives sigma / P for every pressure,
temperature and creep prefactor) and the transient below, from the elastic loading to t_eval.

The model (Study A: Adv. Mater. 2021, 2104009; README, Model, "Mechanics"), small strain, plane strain, SI units:

* Only the Li body is modelled; the SSE is rigid.  Li is linear elastic with
  Norton power-law creep and J2 flow (:mod:`lisse.core.creep`), integrated by backward
  Euler with a return mapping at the quadrature points.
* Stack pressure ``P`` on ``li_top``: traction ``-P nu`` (``nu`` the outward normal
  of the Li), switched on at t = 0 and held.
* Li/SSE interface (all ``interface_*`` facets): frictionless, bilateral contact
  with the rigid SSE.  With ``n`` the SSE's outward normal (pointing into the Li,
  ``n = -nu``) the constraint is ``u.n = g``, ``g(t) = -delta(t)``: the Li follows
  the interface as stripping removes a layer of thickness ``delta`` (on the planar
  cell ``u_y = -delta``).  ``delta`` ramps linearly from 0 to ``recession`` over
  ``recession_ramp_time``.  The tangential traction is zero.
* ``li_left`` (x = 0) is a mirror plane: ``u_x = 0``.  ``li_right`` is either
  ``"uniform_edge"`` — the edge of a unit cell cut out of a wide foil with a free
  rim: ``u_x = U`` uniform along it, ``U`` a single extra unknown, with zero net
  lateral force — or ``"free"`` (traction-free, for meshes reaching the pellet rim).

Weak form.  With ``sigma`` the Li stress, ``t_n(sigma) = nu.sigma.nu`` and
``c(u) = u.nu + g`` the constraint residual (``u.n - g = -c``), Nitsche's method
imposes only the normal constraint, so the Li slides freely along any interface
shape:

    (sigma, eps(v))  +  <P nu, v>_top
      - <t_n(sigma), v.nu>_I  -  theta <t_n(C:eps(v)), c(u)>_I  +  <gamma E / h  c(u), v.nu>_I  =  0

for all ``v`` vanishing where ``u_x`` is prescribed.  On the interface ``nu`` is the facet
normal averaged at the vertices (:func:`lisse.core.mesh.averaged_boundary_normal`), normalised
between them: continuous, so the Li can slide past the facet kinks of a meshed fillet.
With the facets' own normals each kink node must satisfy ``u.nu = 0`` for two normals,
which pins it (in 2D) or lets it move only along the kink line (in 3D); the Li flows
millimetres past the fillets in an hour, so the pinning dominated the 3D grid's stresses.
``theta = 0`` (incomplete,
default), ``1`` (symmetric) or ``-1`` (skew); the penalty ``gamma E / h`` uses the cell
diameter ``h``.  The consistency term uses the actual (creeping) stress, so its Jacobian
carries the algorithmic tangent C_alg, like the bulk term; the theta term (which
multiplies ``c(u)``, zero for the exact solution, so every theta is consistent) uses the
elastic operator.  That mismatch decides stability.  Once the Li creeps, C_alg loses its
shear stiffness, and the bulk term no longer controls the elastic traction
``t_n(C:eps(v))`` of the theta term: the Jacobian becomes indefinite at the fast-creeping
points (the Newton correction is then no descent direction, and Newton stalls).  This
stalled the 3D unit cell at the pillar foot, whatever the mesh, step or recession.  With
theta = 0 the only boundary term beside the penalty is the consistency term, which is
bounded by the bulk term with the same tangent, so gamma = 100 keeps the Jacobian
positive definite however far the Li relaxes.  On the 2D grid the three variants agree to
0.3 % (segment means; 4 % on the small-stress lower corner, where the variants differ by
discretisation error of the same size on the paper and the production mesh).

Where the stress lives.  With P2 displacements the strain is linear in each
triangle; the stress is computed at the 3 points of the degree-2 Gauss rule and
stored as the one DG1 field taking those values there (3 points <-> 3 DG1
coefficients).  The cell integrals see exactly the quadrature-point stresses,
and the Nitsche traction on a facet is the DG1 trace — exact in the elastic case
(linear stress).  The Jacobian of that trace is assembled exactly as well (see
:meth:`LiCreepProblem.stress_derivative`), so Newton converges quadratically.

Locking.  Creep is isochoric, so once it has relaxed the deviatoric stress the
Li behaves as a nearly incompressible fluid (the algorithmic tangent keeps the
bulk modulus K and loses its shear stiffness).  The pressure is therefore taken
constant per cell, ``p = -K mean_T(div u)`` (selective reduced integration /
B-bar, i.e. the inf-sup stable P2-P0 pair), while the deviatoric stress keeps
its 3 quadrature points.  The volumetric response is elastic whatever the creep,
so this changes nothing else; the elastic planar solution is reproduced exactly.

Uniform edge.  Write ``u = w + U psi`` with ``psi = (x / x_R, 0)`` and ``w_x = 0``
on ``li_right``.  The extra equation is the residual tested with ``psi`` (no net
lateral force on the edge).  Each Newton step solves the bordered system

    [K   k_U] [dw]     [R_w]
    [r^T k  ] [dU] = - [R_U]

by two back-substitutions with one factorisation of ``K``: ``K a = R_w``,
``K b = k_U``, ``dU = (r.a - R_U) / (k - r.b)``, ``dw = -a - b dU``.  In 3D ``li_back``
is a second uniform edge (``psi = (0, 0, z / z_B)``): one more back-substitution and a 2x2
Schur complement instead of the scalar ``k - r.b``.
"""

from lisse.cell.mechanics.parameters import (
    BACK_CONDITIONS,
    INTERFACE_NORMALS,
    LATERAL_CONDITIONS,
    METHODS,
    NITSCHE_VARIANTS,
    MechanicsConvergenceError,
    MechanicsParameters,
    planar_von_mises,
)
from lisse.cell.mechanics.run import run_mechanics
from lisse.cell.mechanics.sampling import INTERFACE_COLUMNS, INTERFACE_COLUMNS_3D
from lisse.cell.mechanics.solve import MechanicsResult, solve_mechanics
from lisse.cell.mechanics.steady import SteadyCreepConvergenceError, SteadyMechanicsResult, solve_steady_creep

__all__ = [
    "BACK_CONDITIONS", "INTERFACE_COLUMNS", "INTERFACE_COLUMNS_3D", "INTERFACE_NORMALS", "LATERAL_CONDITIONS",
    "METHODS", "NITSCHE_VARIANTS", "MechanicsConvergenceError", "MechanicsParameters", "MechanicsResult",
    "SteadyCreepConvergenceError", "SteadyMechanicsResult", "planar_von_mises", "run_mechanics", "solve_mechanics",
    "solve_steady_creep",
]
