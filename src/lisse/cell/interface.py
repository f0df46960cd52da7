"""The Li/SSE interface as an exact curve: named straight segments and fillet arcs.

The geometry module writes this profile into each geometry's JSON; solvers use
:meth:`InterfaceProfile.locate` to turn the coordinates of interface nodes into
the interface coordinate ``s`` (arc length from the mirror plane, metres) and the
segment name, without any mesh-topology walking (so it is parallel-safe: each
rank locates its own points).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Segment:
    """A straight line (``radius == 0``) or a circular arc of the interface.

    Arcs run counter-clockwise from ``start_angle`` to ``end_angle`` when
    ``end_angle > start_angle``, clockwise otherwise.  Lengths in metres.
    """

    name: str
    start: tuple[float, float]
    end: tuple[float, float]
    s_start: float
    length: float
    centre: tuple[float, float] = (0.0, 0.0)
    radius: float = 0.0
    start_angle: float = 0.0
    end_angle: float = 0.0

    @property
    def is_arc(self) -> bool:
        return self.radius > 0.0

    def project(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance of each point to the segment and the arc length of its foot point."""
        if self.is_arc:
            rel = xy - np.asarray(self.centre)
            angle = np.arctan2(rel[:, 1], rel[:, 0])
            sweep = self.end_angle - self.start_angle
            # angle travelled from the start, in the sweep direction, wrapped to (-pi, pi]
            travelled = np.angle(np.exp(1j * (angle - self.start_angle) * np.sign(sweep)))
            fraction = np.clip(travelled / abs(sweep), 0.0, 1.0)
            foot_angle = self.start_angle + fraction * sweep
            foot = np.asarray(self.centre) + self.radius * np.column_stack([np.cos(foot_angle), np.sin(foot_angle)])
        else:
            a, b = np.asarray(self.start), np.asarray(self.end)
            fraction = np.clip((xy - a) @ (b - a) / self.length**2, 0.0, 1.0)
            foot = a + fraction[:, None] * (b - a)
        return np.linalg.norm(xy - foot, axis=1), self.s_start + fraction * self.length


@dataclass(frozen=True)
class InterfaceProfile:
    segments: tuple[Segment, ...]

    @property
    def length(self) -> float:
        return sum(seg.length for seg in self.segments)

    def segment_lengths(self) -> dict[str, float]:
        lengths: dict[str, float] = {}
        for seg in self.segments:
            lengths[seg.name] = lengths.get(seg.name, 0.0) + seg.length
        return lengths

    def locate(self, xy: np.ndarray, tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
        """Interface coordinate ``s`` and segment name of points on the interface.

        Raises if a point lies farther than ``tolerance`` (m) from the curve,
        which would mean the caller passed non-interface points.
        """
        xy = np.atleast_2d(np.asarray(xy, dtype=float))[:, :2]
        best_distance = np.full(len(xy), np.inf)
        s = np.zeros(len(xy))
        index = np.zeros(len(xy), dtype=int)
        for k, seg in enumerate(self.segments):
            distance, s_k = seg.project(xy)
            closer = distance < best_distance - 1e-15
            best_distance[closer], s[closer], index[closer] = distance[closer], s_k[closer], k
        if len(xy) and best_distance.max() > tolerance:
            worst = int(best_distance.argmax())
            raise ValueError(f"point {xy[worst]} is {best_distance[worst]:.3e} m off the interface")
        names = np.array([seg.name for seg in self.segments], dtype=object)[index]
        return s, names

    def to_json(self) -> list[dict]:
        return [asdict(seg) for seg in self.segments]

    @classmethod
    def from_json(cls, segments: list[dict]) -> InterfaceProfile:
        return cls(tuple(Segment(**{k: tuple(v) if isinstance(v, list) else v for k, v in seg.items()}) for seg in segments))
