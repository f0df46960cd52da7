"""The shared core: what both studies stand on, and nothing that knows either of them.

Meshes and bodies in DOLFINx (``mesh``), PETSc linear solvers (``solvers``), the adaptive
time step (``stepping``), quadrature-point state (``quadrature``), a system bordered by a few
global unknowns (``bordered``) and its Newton (``newton``), Li's Norton creep law at
quadrature points (``creep``), UFL kinematics (``kinematics``), physical and material
constants (``constants``), Gmsh mesh writing (``gmsh_mesh``), atomic outputs (``atomic``,
``outputs``), strict parameter dataclasses (``parameters``), provenance, logs, mesh previews
and the figures' style.  Modules here import nothing from ``lisse.cell``, ``lisse.plating``
or ``lisse.workflow``.
"""
