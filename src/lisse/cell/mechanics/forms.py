"""Kinematics and stresses of the Li in UFL: Mandel strains, stress tensors, the elastic operator."""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import ufl

from lisse.core.kinematics import cell_mean_divergence

SQRT2 = math.sqrt(2.0)


def strain_mandel(v):
    """The solved strain components as a Mandel vector: [xx, yy, sqrt(2) xy] in plane strain
    (eps_zz = 0), [xx, yy, zz, sqrt(2) xy, sqrt(2) yz, sqrt(2) xz] in 3D."""
    e = ufl.sym(ufl.grad(v))
    if len(v.ufl_shape) and v.ufl_shape[0] == 3:
        return ufl.as_vector([e[0, 0], e[1, 1], e[2, 2], SQRT2 * e[0, 1], SQRT2 * e[1, 2], SQRT2 * e[0, 2]])
    return ufl.as_vector([e[0, 0], e[1, 1], SQRT2 * e[0, 1]])


def mandel_to_tensor(m):
    """The tensor of the space's dimension from a Mandel vector of :func:`strain_mandel`'s layout."""
    if m.ufl_shape[0] == 6:
        return ufl.as_tensor([[m[0], m[3] / SQRT2, m[5] / SQRT2],
                              [m[3] / SQRT2, m[1], m[4] / SQRT2],
                              [m[5] / SQRT2, m[4] / SQRT2, m[2]]])
    return ufl.as_tensor([[m[0], m[2] / SQRT2], [m[2] / SQRT2, m[1]]])


def stress_tensor(stress, tdim: int):
    """Stress of the space's dimension from the stored components: [xx, yy, zz, xy] in plane
    strain (the in-plane part), [xx, yy, zz, xy, yz, xz] in 3D."""
    if tdim == 3:
        return ufl.as_tensor([[stress[0], stress[3], stress[5]],
                              [stress[3], stress[1], stress[4]],
                              [stress[5], stress[4], stress[2]]])
    return ufl.as_tensor([[stress[0], stress[3]], [stress[3], stress[1]]])


def stress_tensor_3d(stress):
    """The full 3x3 stress from the stored components (plane strain: with sigma_zz)."""
    if stress.ufl_shape[0] == 6:
        return stress_tensor(stress, 3)
    return ufl.as_tensor([[stress[0], stress[3], 0], [stress[3], stress[1], 0], [0, 0, stress[2]]])


def elastic_stress(v, bulk_modulus, shear_modulus, centroid=None):
    """C : eps(v) (its in-plane part under plane strain), K tr(eps) I + 2 G dev(eps), with the
    cell-mean volumetric strain if a centroid field is given."""
    e = ufl.sym(ufl.grad(v))
    identity = ufl.Identity(e.ufl_shape[0])
    volumetric = ufl.div(v) if centroid is None else cell_mean_divergence(v, centroid)
    return bulk_modulus * volumetric * identity + 2.0 * shear_modulus * (e - ufl.div(v) / 3.0 * identity)


def normal_component(tensor, normal):
    return ufl.dot(ufl.dot(tensor, normal), normal)


