"""Off-screen mesh previews (pyvista): the whole slice and a zoom on the first channel."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")  # off-screen without X

import meshio  # noqa: E402
import numpy as np  # noqa: E402
import pyvista as pv  # noqa: E402

pv.OFF_SCREEN = True

BODY_COLOURS = {1: "#c9d6e8", 2: "#f2c480"}  # SSE (LLZO) bluish grey, Li metal amber


UNITS = {"µm": 1e6, "nm": 1e9}  # plot units -> factor from metres


def read_triangles(msh_path: str | Path, unit: str = "µm") -> pv.UnstructuredGrid:
    """The 2D cells of a workflow mesh as a pyvista grid, coordinates in ``unit``, with a ``body`` array."""
    mesh = meshio.read(msh_path)
    blocks = [(k, block) for k, block in enumerate(mesh.cells) if block.type == "triangle"]
    cells = np.concatenate([block.data for _, block in blocks])
    body = np.concatenate([mesh.cell_data["gmsh:physical"][k] for k, _ in blocks])
    grid = pv.UnstructuredGrid({pv.CellType.TRIANGLE: cells}, mesh.points * UNITS[unit])
    grid.cell_data["body"] = body
    return grid


def mesh_preview(msh_path: str | Path, png_path: str | Path, zoom_box_um: tuple[float, float, float, float],
                 title: str = "", unit: str = "µm") -> None:
    """Two panels: the whole slice and the window ``(x0, x1, y0, y1)`` in ``unit`` (around one feature)."""
    grid = read_triangles(msh_path, unit)
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
    tmp = Path(png_path).with_name(Path(png_path).stem + ".tmp.png")  # no partial preview on failure
    plotter.screenshot(str(tmp))
    plotter.close()
    os.replace(tmp, png_path)
