"""UFL kinematics both studies' mechanics share."""

from __future__ import annotations

import ufl


def cell_mean_divergence(v, centroid):
    """div(v) at the cell centroid = its cell mean (div v is linear on a straight P2/P1 simplex)."""
    x = ufl.SpatialCoordinate(v.ufl_function_space().mesh)
    return ufl.div(v) + ufl.dot(ufl.grad(ufl.div(v)), centroid - x)
