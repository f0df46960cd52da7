"""Study A: the stability of a Li | LLZO | Li cell with a planar or micropatterned interface.

Pipeline stages, in order: ``geometry`` (the cell's Gmsh model; ``interface`` its exact
interface profile), ``electrochemistry`` (Ohmic SSE + Butler-Volmer), ``mechanics`` (Li
elasticity + Norton creep under stack pressure), ``stability`` (the strain-rate criterion,
phase diagrams, calibration), ``analysis`` (the workflow's tables from solved files,
``experiments`` the measured points) and ``plots`` (the figures).
"""
