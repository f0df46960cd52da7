"""Study B: plating-induced stress in Li under a rigid current collector, and LLZO fracture.

``geometry`` (the LLZO plate with a surface pit, the Li layer and the CC tip), ``mechanics``
(finite-strain growth of the plated Li with Hencky-Norton creep), ``fracture`` (Griffith,
cleavage and whisker closed forms), ``sweep`` (the config's sweep: ids, paths, SI parameters)
and ``plots`` (tables and figures).
"""
