"""Off-screen mesh previews (pyvista): the whole slice and a zoom on the first channel."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")  # off-screen without X

import meshio  # noqa: E402
import numpy as np  # noqa: E402
import pyvista as pv  # noqa: E402

from lisse.core.atomic import write_atomically  # noqa: E402

pv.OFF_SCREEN = True

BODY_COLOURS = {1: "#c9d6e8", 2: "#f2c480"}  # SSE (LLZO) bluish grey, Li metal amber


UNITS = {"µm": 1e6, "nm": 1e9}  # plot units -> factor from metres


def read_cells(msh_path: str | Path, cell_type: str = "triangle", unit: str = "µm") -> pv.UnstructuredGrid:
    """The cells of one type (``triangle`` for 2D, ``tetra`` for 3D) of a workflow mesh as a pyvista
    grid, coordinates in ``unit``, with a ``body`` array."""
    mesh = meshio.read(msh_path)
    blocks = [(k, block) for k, block in enumerate(mesh.cells) if block.type == cell_type]
    cells = np.concatenate([block.data for _, block in blocks])
    body = np.concatenate([mesh.cell_data["gmsh:physical"][k] for k, _ in blocks])
    vtk_type = {"triangle": pv.CellType.TRIANGLE, "tetra": pv.CellType.TETRA}[cell_type]
    grid = pv.UnstructuredGrid({vtk_type: cells}, mesh.points * UNITS[unit])
    grid.cell_data["body"] = body
    return grid


def _view_from_channels(plotter: pv.Plotter, surface: pv.DataSet) -> None:
    """Oblique camera from the channels' side (x, z < 0, above): the mirror planes x = z = 0 cut the channels."""
    centre = np.array(surface.center)
    distance = 3.0 * max(surface.bounds[1] - surface.bounds[0], surface.bounds[3] - surface.bounds[2])
    plotter.camera_position = [tuple(centre + distance * np.array([-0.55, 0.45, -0.7])), tuple(centre), (0, 1, 0)]


def mesh_preview_3d(msh_path: str | Path, png_path: str | Path, title: str = "", unit: str = "µm") -> None:
    """Two oblique views of a 3D unit cell: the whole cell, and the LLZO alone near its patterned
    surface (the Li lifted off), both with the surface mesh drawn."""
    grid = read_cells(msh_path, "tetra", unit)
    sse = grid.extract_cells(grid.cell_data["body"] == 1).extract_surface(algorithm="dataset_surface")
    top = sse.bounds[3]
    near_surface = sse.clip(normal="y", origin=(0.0, top - 0.6 * (top - sse.bounds[2]), 0.0), invert=False)
    plotter = pv.Plotter(shape=(1, 2), off_screen=True, window_size=(1500, 800), border=False)
    panels = [(grid.extract_surface(algorithm="dataset_surface"), "whole cell"),
              (near_surface, "LLZO under the Li: pillar, channels, fillets")]
    for column, (surface, label) in enumerate(panels):
        plotter.subplot(0, column)
        for tag, colour in BODY_COLOURS.items():
            part = surface.extract_cells(surface.cell_data["body"] == tag) if "body" in surface.cell_data else surface
            if part.n_cells:
                plotter.add_mesh(part, color=colour, show_edges=True, edge_color="#3a3a3a", line_width=0.4)
        _view_from_channels(plotter, surface)
        plotter.add_text(f"{title if column == 0 else ''}\n{label}", font_size=10, position="upper_left", color="black")
        plotter.add_axes(color="black")
        plotter.reset_camera()
    _screenshot(plotter, png_path)


def _screenshot(plotter: pv.Plotter, png_path: str | Path) -> None:
    write_atomically(png_path, lambda tmp: plotter.screenshot(str(tmp)))
    plotter.close()


def mesh_preview(msh_path: str | Path, png_path: str | Path, zoom_box_um: tuple[float, float, float, float],
                 title: str = "", unit: str = "µm") -> None:
    """Two panels: the whole slice and the window ``(x0, x1, y0, y1)`` in ``unit`` (around one feature)."""
    grid = read_cells(msh_path, "triangle", unit)
    plotter = pv.Plotter(shape=(1, 2), col_weights=[1, 2], off_screen=True, window_size=(1500, 800), border=False)
    x0, x1, y0, y1 = zoom_box_um
    for column, box in enumerate([None, (x0, x1, y0, y1)]):
        plotter.subplot(0, column)
        shown = grid if box is None else grid.clip_box((x0, x1, y0, y1, -1, 1), invert=False)
        for tag, colour in BODY_COLOURS.items():
            part = shown.extract_cells(shown.cell_data["body"] == tag)
            if part.n_cells:
                plotter.add_mesh(part, color=colour, show_edges=True, edge_color="#3a3a3a", lighting=False,
                                 line_width=0.5 if box is None else 1.0)
        plotter.view_xy()
        plotter.enable_parallel_projection()
        label = title if box is None else f"zoom: x {x0:.0f} to {x1:.0f} {unit}, y {y0:.0f} to {y1:.0f} {unit}"
        plotter.add_text(f"{label}\nLi: amber, LLZO: blue-grey", font_size=10, position="upper_left", color="black")
        plotter.reset_camera()
    _screenshot(plotter, png_path)


def current_density_render_3d(vtu_path: str | Path, png_path: str | Path, applied_current_density: float,
                              unit: str = "µm") -> None:
    """The magnitude of the current density on the surface of the 3D SSE unit cell (its top part),
    normalised by i_app, seen from the channels' side."""
    grid = pv.read(vtu_path)
    grid.points *= UNITS[unit]
    grid.point_data["|j| / i_app"] = np.linalg.norm(grid.point_data["current_density"], axis=1) / applied_current_density
    surface = grid.extract_surface(algorithm="dataset_surface")
    top = surface.bounds[3]
    surface = surface.clip(normal="y", origin=(0.0, top - 0.55 * (top - surface.bounds[2]), 0.0), invert=False)
    plotter = pv.Plotter(off_screen=True, window_size=(900, 900), border=False)
    # the L2-projected flux overshoots at the re-entrant corners: clip the colour scale there
    limit = float(np.percentile(surface.point_data["|j| / i_app"], 99))
    plotter.add_mesh(surface, scalars="|j| / i_app", cmap="viridis", clim=(0.0, limit), show_scalar_bar=True,
                     scalar_bar_args={"title": "|j| / i_app", "vertical": True, "color": "black"})
    _view_from_channels(plotter, surface)
    plotter.add_axes(color="black")
    plotter.reset_camera()
    _screenshot(plotter, png_path)
