"""The interface table of the electrochemistry: current density, overpotential and potential per point."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import pandas as pd
from dolfinx import fem
from mpi4py import MPI

from lisse.cell.electrochemistry.parameters import ElectrochemistryParameters, butler_volmer_current
from lisse.cell.interface import InterfaceProfile
from lisse.core.mesh import Body, facet_samples

INTERFACE_COLUMNS = (
    "s_m",  # 2D: arc length along the interface profile; 3D: absent
    "x_m",
    "y_m",
    "segment",
    "current_density_A_m2",
    "current_density_normalised",
    "overpotential_V",
    "electrolyte_potential_V",
)
# 3D: no interface coordinate; the rows are the points of a Gauss rule on every interface
# facet, each carrying its share of the interface area, so area integrals are weighted sums.
INTERFACE_COLUMNS_3D = ("x_m", "y_m", "z_m", "area_m2") + INTERFACE_COLUMNS[3:]
INTERFACE_RULE_DEGREE_3D = 2  # 3 points per triangle
MEASURE_NAMES_3D = {
    "segment_length_m": "segment_area_m2",
    "interface_length_m": "interface_area_m2",
    "nominal_width_m": "nominal_area_m2",
    "interface_length_per_nominal_width": "interface_area_per_nominal_area",
    "interface_current_per_nominal_width_A_m2": "interface_current_per_nominal_area_A_m2",
}



def interface_table(body: Body, phi: fem.Function, profile: InterfaceProfile | None,
                     params: ElectrochemistryParameters) -> pd.DataFrame:
    """Potential, overpotential and Butler–Volmer current at every interface node (2D) or facet
    Gauss point (3D), gathered on all ranks."""
    V = phi.function_space
    mesh = V.mesh
    if mesh.topology.dim == 3:
        return interface_table_3d(body, phi, params)
    fdim = mesh.topology.dim - 1
    mesh.topology.create_connectivity(fdim, mesh.topology.dim)
    interface_facets = body.facets(*body.interface_segments)
    dofs = fem.locate_dofs_topological(V, fdim, interface_facets)
    dofs = dofs[dofs < V.dofmap.index_map.size_local]  # owned only: each node once across ranks
    xy = V.tabulate_dof_coordinates()[dofs, :2]
    # Vertices lie on the exact curve; higher-order nodes lie on straight facets, off a
    # fillet arc by at most the sagitta h²/(8 r) < h/2.
    tolerance = 1e-9
    if V.ufl_element().degree > 1 and len(interface_facets):
        tolerance = max(tolerance, 0.5 * float(mesh.h(fdim, interface_facets).max()))
    tolerance = mesh.comm.allreduce(tolerance, op=MPI.MAX)
    potential = phi.x.array[dofs].real
    overpotential = 0.0 - potential
    current = butler_volmer_current(overpotential, params.exchange_current_density, params.alpha_anodic,
                                    params.alpha_cathodic, params.temperature)
    s, names = profile.locate(xy, tolerance=tolerance)
    i_app = params.applied_current_density
    local = pd.DataFrame({
        "s_m": s,
        "x_m": xy[:, 0],
        "y_m": xy[:, 1],
        "segment": names.astype(str),
        "current_density_A_m2": current,
        "current_density_normalised": current / i_app if i_app else np.full_like(current, np.nan),
        "overpotential_V": overpotential,
        "electrolyte_potential_V": potential,
    }, columns=list(INTERFACE_COLUMNS))
    table = pd.concat(mesh.comm.allgather(local), ignore_index=True)
    return table.sort_values("s_m", kind="stable").reset_index(drop=True)


def interface_table_3d(body: Body, phi: fem.Function, params: ElectrochemistryParameters) -> pd.DataFrame:
    samples = facet_samples(body, body.interface_segments, INTERFACE_RULE_DEGREE_3D)
    potential = phi.eval(samples.points, samples.cells).ravel().real if len(samples.cells) else np.zeros(0)
    overpotential = 0.0 - potential
    current = butler_volmer_current(overpotential, params.exchange_current_density, params.alpha_anodic,
                                    params.alpha_cathodic, params.temperature)
    i_app = params.applied_current_density
    local = pd.DataFrame({
        "x_m": samples.points[:, 0],
        "y_m": samples.points[:, 1],
        "z_m": samples.points[:, 2],
        "area_m2": samples.weights,
        "segment": samples.groups,
        "current_density_A_m2": current,
        "current_density_normalised": current / i_app if i_app else np.full_like(current, np.nan),
        "overpotential_V": overpotential,
        "electrolyte_potential_V": potential,
    }, columns=list(INTERFACE_COLUMNS_3D))
    table = pd.concat(phi.function_space.mesh.comm.allgather(local), ignore_index=True)
    return table.sort_values(["segment", "x_m", "z_m", "y_m"], kind="stable").reset_index(drop=True)


