"""Meshes in DOLFINx: reading the workflow's meshes, cutting out one body, sampling its facets.

Every solver works on one body of the two-body cell mesh (the SSE for the
electrochemistry, the Li for the mechanics).  The mesh file carries named Gmsh
physical groups; :func:`load_body` returns the body's mesh with the facet tags
transferred and the group names resolved, so solver code only ever says
``body.ds("interface_side_wall")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py: sets up PETSc)

import numpy as np
import ufl
from dolfinx import jit
from dolfinx import mesh as dmesh
from dolfinx.io import gmsh as gmshio
from mpi4py import MPI

# Parallel jobs of a cold workflow (or the tests beside it) compile the same forms; the process
# that finds another's lock on the JIT cache waits for it only `timeout` seconds, 10 by default,
# less than the 3D mechanics forms take to compile, and then fails.  Wait up to 10 minutes.
jit.DOLFINX_DEFAULT_JIT_OPTIONS["timeout"] = (600, jit.DOLFINX_DEFAULT_JIT_OPTIONS["timeout"][1])


def load_mesh(path: str | Path, comm: MPI.Comm = MPI.COMM_WORLD) -> gmshio.MeshData:
    """Read a workflow ``.msh`` file (coordinates in metres, 2D or 3D); rank 0 reads and distributes.

    Same as ``dolfinx.io.gmsh.read_from_msh`` but with gmsh's terminal output off, so the
    solver logs carry only the solver's own lines.
    """
    import gmsh

    if comm.rank != 0:
        return gmshio.model_to_mesh(None, comm, 0, gdim=comm.bcast(None, root=0))
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("mesh")
        gmsh.merge(str(path))
        gdim = comm.bcast(gmsh.model.getDimension(), root=0)
        return gmshio.model_to_mesh(gmsh.model, comm, 0, gdim=gdim)
    finally:
        gmsh.finalize()


@dataclass
class Body:
    """One body (sub-domain) of the cell with its named boundary pieces."""

    mesh: dmesh.Mesh
    facet_tags: dmesh.MeshTags
    facet_groups: dict[str, int]  # physical-group name -> tag, only groups present on this body

    @property
    def interface_segments(self) -> list[str]:
        """The facet groups named ``interface_*`` on this body, in tag order (a cell mesh numbers
        its interface segments in the order met walking from the mirror plane)."""
        return sorted((name for name in self.facet_groups if name.startswith("interface_")),
                      key=self.facet_groups.__getitem__)

    def ds(self, *names: str) -> ufl.Measure | ufl.form.Form:
        """Boundary measure restricted to the union of the named facet groups."""
        missing = [n for n in names if n not in self.facet_groups]
        if missing:
            raise KeyError(f"facet groups {missing} not on this body; it has {sorted(self.facet_groups)}")
        ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.facet_tags)
        tags = tuple(self.facet_groups[n] for n in names)
        return ds(tags)

    def facets(self, *names: str) -> np.ndarray:
        """Local indices of the facets in the named groups (owned and ghost)."""
        tags = [self.facet_groups[n] for n in names]
        return self.facet_tags.indices[np.isin(self.facet_tags.values, tags)]

    def global_size(self, dim: int | None = None) -> int:
        dim = self.mesh.topology.dim if dim is None else dim
        self.mesh.topology.create_entities(dim)
        return self.mesh.topology.index_map(dim).size_global


def load_body(mesh_data: gmshio.MeshData, cell_group: str) -> Body:
    """Cut the cells of physical group ``cell_group`` out of the cell mesh.

    Facet tags are transferred to the sub-mesh; groups with no facet on the body
    (e.g. ``li_top`` on the SSE) are dropped from :attr:`Body.facet_groups`.
    """
    parent = mesh_data.mesh
    tdim = parent.topology.dim
    groups = mesh_data.physical_groups
    if cell_group not in groups or groups[cell_group].dim != tdim:
        raise KeyError(f"no cell group {cell_group!r} in mesh; groups: {sorted(groups)}")
    cells = mesh_data.cell_tags.find(groups[cell_group].tag)
    submesh, cell_map, vertex_map, _ = dmesh.create_submesh(parent, tdim, cells)
    parent.topology.create_connectivity(tdim - 1, tdim)
    submesh.topology.create_connectivity(tdim - 1, tdim)
    facet_tags = dmesh.transfer_meshtags_to_submesh(mesh_data.facet_tags, submesh, vertex_map, cell_map)
    present = set(np.unique(facet_tags.values).tolist())
    present = _union_over_ranks(submesh.comm, present)
    facet_groups = {
        name: group.tag for name, group in groups.items() if group.dim == tdim - 1 and group.tag in present
    }
    return Body(mesh=submesh, facet_tags=facet_tags, facet_groups=facet_groups)


@dataclass
class FacetSamples:
    """Quadrature points on the owned facets of some facet groups, each with its cell and weight.

    Each facet is counted once across ranks.  ``normals`` point out of the body.  The
    weights sum to the groups' length (2D) or area (3D) over all ranks.
    """

    cells: np.ndarray  # (N,) local cell owning the facet
    points: np.ndarray  # (N, 3) coordinates (z = 0 in 2D)
    weights: np.ndarray  # (N,) quadrature weight times facet measure (m or m²)
    normals: np.ndarray  # (N, gdim) unit outward normal of the body
    groups: np.ndarray  # (N,) group name of the facet


def facet_samples(body: Body, names: list[str], degree: int) -> FacetSamples:
    """Points of the degree-``degree`` Gauss rule on every owned facet of the named groups."""
    import basix

    mesh = body.mesh
    tdim, fdim, gdim = mesh.topology.dim, mesh.topology.dim - 1, mesh.geometry.dim
    mesh.topology.create_connectivity(fdim, tdim)
    owned = mesh.topology.index_map(fdim).size_local
    name_of = {body.facet_groups[n]: n for n in names}
    keep = np.isin(body.facet_tags.values, list(name_of)) & (body.facet_tags.indices < owned)
    facets, tags = body.facet_tags.indices[keep], body.facet_tags.values[keep]
    facet_to_cell = mesh.topology.connectivity(fdim, tdim)
    cells = np.array([facet_to_cell.links(f)[0] for f in facets], dtype=np.int32)
    vertices = mesh.geometry.x[dmesh.entities_to_geometry(mesh, fdim, facets)][:, :fdim + 1, :gdim]  # straight facets
    centroids = mesh.geometry.x[dmesh.entities_to_geometry(mesh, tdim, cells)][:, :, :gdim].mean(axis=1)
    reference = basix.CellType.interval if fdim == 1 else basix.CellType.triangle
    points_ref, weights_ref = basix.make_quadrature(reference, degree)
    edges = vertices[:, 1:] - vertices[:, :1]  # (facet, fdim, gdim)
    if fdim == 1:
        measure = np.linalg.norm(edges[:, 0], axis=1)
        normal = np.column_stack([edges[:, 0, 1], -edges[:, 0, 0]])
    else:
        cross = np.cross(edges[:, 0], edges[:, 1])
        measure = 0.5 * np.linalg.norm(cross, axis=1)
        normal = cross
    normal = normal / np.maximum(np.linalg.norm(normal, axis=1), 1e-300)[:, None]
    flip = np.einsum("fi,fi->f", normal, vertices.mean(axis=1) - centroids) < 0
    normal[flip] *= -1.0
    n_points = len(weights_ref)
    xyz = vertices[:, None, 0, :] + np.einsum("qk,fkd->fqd", points_ref, edges)  # (facet, point, gdim)
    points = np.zeros((len(facets) * n_points, 3))
    points[:, :gdim] = xyz.reshape(-1, gdim)
    reference_measure = weights_ref.sum()  # 1 (interval) or 1/2 (triangle)
    return FacetSamples(
        cells=np.repeat(cells, n_points),
        points=points,
        weights=(measure[:, None] * weights_ref[None, :] / reference_measure).ravel(),
        normals=np.repeat(normal, n_points, axis=0),
        groups=np.repeat(np.array([name_of[t] for t in tags], dtype=object), n_points).astype(str),
    )


def averaged_boundary_normal(body: Body, names: list[str]):
    """The unit outward normal of the named facet groups averaged at their vertices: a P1 vector
    field, continuous along the boundary, zero at vertices off it.

    Each vertex gets the area-weighted mean of the normals of its facets in the groups,
    ``int_G nu phi_i ds``, normalised (the "consistent normal" of Engelman, Sani and Gresho
    1982).  A curved boundary meshed by straight facets has a kink at every facet edge; a
    constraint on u.nu there admits no tangential motion of the kink's nodes (u.nu = 0 for two
    normals), which locks sliding along the discrete boundary.  The averaged normal has a
    tangent plane at every node.  Use it as ``n / sqrt(n.n)`` (its interpolant between
    vertices is not unit length).
    """
    from dolfinx import fem
    from dolfinx.fem import petsc as fem_petsc
    from petsc4py import PETSc

    mesh = body.mesh
    gdim = mesh.geometry.dim
    space = fem.functionspace(mesh, ("Lagrange", 1, (gdim,)))
    weighted = fem_petsc.assemble_vector(fem.form(ufl.inner(ufl.FacetNormal(mesh), ufl.TestFunction(space))
                                                  * body.ds(*names)))
    weighted.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    normal = fem.Function(space, name="averaged_normal")
    owned = space.dofmap.index_map.size_local
    vectors = weighted.array_r.reshape(-1, gdim)[:owned]
    lengths = np.linalg.norm(vectors, axis=1)
    on_boundary = lengths > 0.0
    normal.x.array.reshape(-1, gdim)[:owned][on_boundary] = vectors[on_boundary] / lengths[on_boundary, None]
    normal.x.scatter_forward()
    weighted.destroy()
    return normal


def _union_over_ranks(comm: MPI.Comm, items: set[int]) -> set[int]:
    return set().union(*comm.allgather(items))


def write_vtu(path: str | Path, functions: dict) -> None:
    """Gather (discontinuous) Lagrange functions of one space to rank 0 and write one ``.vtu``.

    VTX (``.bp``) is the ParaView output; this small serial file is what the
    workflow's own figures read with pyvista.  All functions must share a space.
    """
    import pyvista as pv
    from dolfinx import plot

    space = next(iter(functions.values())).function_space
    mesh = space.mesh
    topology, cell_types, points = plot.vtk_mesh(space)
    n_owned = mesh.topology.index_map(mesh.topology.dim).size_local
    nodes_per_cell = topology[0]
    cells = topology.reshape(-1, nodes_per_cell + 1)[:n_owned, 1:]
    values = {name: f.x.array.reshape(len(points), -1) for name, f in functions.items()}
    gathered = mesh.comm.gather((cells, cell_types[:n_owned], points, values), root=0)
    if mesh.comm.rank != 0:
        return
    offset, all_cells, all_types, all_points = 0, [], [], []
    all_values: dict[str, list] = {name: [] for name in functions}
    for cells_r, types_r, points_r, values_r in gathered:
        all_cells.append(cells_r + offset)
        all_types.append(types_r)
        all_points.append(points_r)
        for name in functions:
            all_values[name].append(values_r[name])
        offset += len(points_r)
    cells = np.concatenate(all_cells)
    vtk_cells = np.hstack([np.full((len(cells), 1), cells.shape[1]), cells]).ravel()
    grid = pv.UnstructuredGrid(vtk_cells, np.concatenate(all_types), np.concatenate(all_points))
    for name, parts in all_values.items():
        data = np.concatenate(parts)
        if data.shape[1] == 2 and mesh.geometry.dim == 2:  # pad 2D vectors to 3D for VTK glyphs
            data = np.hstack([data, np.zeros((len(data), 1))])
        grid.point_data[name] = data.squeeze()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    grid.save(str(path))


def assemble_scalar(comm: MPI.Comm, form) -> float:
    """Assemble a scalar form (UFL or compiled) over the owned cells/facets and sum over ranks."""
    from dolfinx import fem

    compiled = form if isinstance(form, fem.Form) else fem.form(form)
    return comm.allreduce(fem.assemble_scalar(compiled), op=MPI.SUM)
