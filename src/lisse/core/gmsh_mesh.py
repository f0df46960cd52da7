"""Gmsh meshes of the workflow: one session, the mesh written in metres beside its facts, statistics.

Both studies build their models in a unit where gmsh's tolerances work (micrometres for the
cell, nanometres for the plating pit) and write metres.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import gmsh
import numpy as np

from lisse.core.atomic import temporary_sibling, write_json_atomically


def mesh_statistics(interface: dict[str, list[int]], tdim: int, length_unit: float) -> dict:
    """Cell/vertex counts, element sizes and worst quality of the current gmsh mesh, and the edge
    lengths on the ``interface`` entities (name -> tags of dimension tdim - 1); gmsh coordinates
    in units of ``length_unit`` metres, results in SI."""
    node_tags, coords, _ = gmsh.model.mesh.getNodes()
    xyz = np.zeros((int(node_tags.max()) + 1, 3))
    xyz[node_tags.astype(int)] = coords.reshape(-1, 3)
    element_types, element_tags, element_nodes = gmsh.model.mesh.getElements(dim=tdim)
    simplices = np.concatenate([n.reshape(-1, tdim + 1) for n in element_nodes]).astype(int)
    pairs = [(i, j) for i in range(tdim + 1) for j in range(i + 1, tdim + 1)]
    edges = np.stack([xyz[simplices[:, j]] - xyz[simplices[:, i]] for i, j in pairs])
    longest_edge = np.linalg.norm(edges, axis=2).max(axis=0) * length_unit
    quality = gmsh.model.mesh.getElementQualities(np.concatenate(element_tags), "minSICN")

    edge_lengths = []
    for tags in interface.values():
        for tag in tags:
            _, _, nodes = gmsh.model.mesh.getElements(dim=tdim - 1, tag=tag)
            facets = np.concatenate(nodes).astype(int).reshape(-1, tdim)
            for a, b in [(i, j) for i in range(tdim) for j in range(i + 1, tdim)]:
                edge_lengths.append(np.linalg.norm(xyz[facets[:, b]] - xyz[facets[:, a]], axis=1) * length_unit)
    interface_edges = np.concatenate(edge_lengths)
    return {
        "cells": int(len(simplices)),
        "vertices": int(len(node_tags)),
        "min_element_size_m": float(longest_edge.min()),
        "max_element_size_m": float(longest_edge.max()),
        "max_interface_edge_m": float(interface_edges.max()),
        "min_interface_edge_m": float(interface_edges.min()),
        "interface_edges": int(len(interface_edges)),
        "worst_quality_min_sicn": float(quality.min()),
        "mean_quality_min_sicn": float(quality.mean()),
    }


def write_gmsh_mesh(mesh_model: Callable[[], dict], length_unit: float, msh_path: str | Path,
                    json_path: str | Path | None, facts: dict, provenance: dict | None = None) -> dict:
    """Run ``mesh_model`` in a gmsh session and write its mesh and facts; returns all facts.

    ``mesh_model()`` builds and meshes the model (in units of ``length_unit`` metres) and
    returns the facts it learnt.  The mesh is written in metres to a temporary name, then the
    facts JSON, then the mesh is renamed into place: a ``.msh`` never exists without its facts,
    and a failure leaves nothing that looks like a result.
    """
    msh_path = Path(msh_path)
    tmp_msh = temporary_sibling(msh_path)
    initialised_here = not gmsh.isInitialized()
    if initialised_here:
        gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add(msh_path.stem)
        facts = {**facts, **mesh_model()}
        gmsh.option.setNumber("Mesh.ScalingFactor", length_unit)
        gmsh.option.setNumber("Mesh.Binary", 1)
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        msh_path.parent.mkdir(parents=True, exist_ok=True)
        gmsh.write(str(tmp_msh))
        gmsh.option.setNumber("Mesh.ScalingFactor", 1.0)
        gmsh.model.remove()
    finally:
        if initialised_here:
            gmsh.finalize()
    if provenance is not None:
        facts["provenance"] = provenance
    if json_path is not None:
        write_json_atomically(json_path, facts)
    os.replace(tmp_msh, msh_path)
    return facts
