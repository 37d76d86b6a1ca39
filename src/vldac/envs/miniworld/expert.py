"""A scripted expert for MiniWorld "go to the object" tasks: shortest path on a grid, then
steer toward the farthest point of that path it can see.

The planner reads only the true world state (wall segments, agent pose, goal position), so
it never touches the simulator or its RNG: calling it does not change an episode (its only
memory is a one-step escape manoeuvre after a blocked move).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

__all__ = ["GoToPlanner", "TURN_LEFT", "TURN_RIGHT", "MOVE_FORWARD"]

TURN_LEFT, TURN_RIGHT, MOVE_FORWARD = 0, 1, 2
# Extra clearance (m) kept from walls when planning, on top of the agent's radius, so that
# forward moves with a slightly-off heading do not scrape a corner and stall.
_PLAN_MARGIN = 0.12
# Clearance (m) beyond the agent's radius that a straight line to a waypoint must keep.
_SIGHT_MARGIN = 0.15
# Paths pay extra for passing closer than this (m) to a wall, so they run through the middle
# of doorways and gaps instead of grazing their edges.
_COMFORT = 0.5
_LOOKAHEAD_CELLS = 60
# Heading error (in turn steps) accepted when moving forward. Above half a step, so that a
# target lying between two reachable headings does not make the expert turn back and forth.
_FORWARD_TOLERANCE = 0.75
_NEIGHBOURS = [(di, dj, math.hypot(di, dj)) for di in (-1, 0, 1) for dj in (-1, 0, 1)
               if di or dj]


def wall_distance(points: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """Distance from each point (P, 2) to the nearest segment (S, 2, 2) in the floor plane."""
    if len(segs) == 0:
        return np.full(len(points), np.inf)
    a, b = segs[:, 0], segs[:, 1]
    ab = b - a
    ap = points[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(points[:, None, :] - nearest, axis=-1).min(axis=1)


class GoToPlanner:
    """Shortest paths to a goal disc, over a grid of cells the agent fits in.

    segs: (S, 2, 2) wall segments as (x, z) pairs; bounds: (min_x, max_x, min_z, max_z);
    goal: the goal's (x, z); reach: the episode ends within this distance of the goal;
    radius: the agent's collision radius. The grid and its distance field are built once.
    """

    def __init__(self, segs, bounds, goal, reach: float, radius: float, cell: float = 0.2):
        self.segs = np.asarray(segs, dtype=float)
        self.goal = np.asarray(goal, dtype=float)
        self.radius = radius
        self.cell = cell
        min_x, max_x, min_z, max_z = bounds
        self.origin = np.array([min_x, min_z], dtype=float)
        self.shape = (max(1, math.ceil((max_x - min_x) / cell)),
                      max(1, math.ceil((max_z - min_z) / cell)))
        ii, jj = np.meshgrid(*(np.arange(n) for n in self.shape), indexing="ij")
        self.centres = self.origin + (np.stack([ii, jj], -1) + 0.5) * cell
        flat = self.centres.reshape(-1, 2)
        clearance = wall_distance(flat, self.segs).reshape(self.shape)
        self.free = clearance >= radius + _PLAN_MARGIN
        self.toll = 1.0 + 2.0 * np.clip((radius + _COMFORT - clearance) / _COMFORT, 0.0, 1.0)
        # Aim a little inside the reach disc so that rounding never leaves us just outside.
        near_goal = np.linalg.norm(self.centres - self.goal, axis=-1) <= max(reach - 0.1, cell)
        self.dist = self._distance_field(self.free & near_goal)
        self._escaping = False

    def _distance_field(self, sources: np.ndarray) -> np.ndarray:
        """Dijkstra over free cells (8-connected) from every source cell."""
        dist = np.full(self.shape, np.inf)
        heap = [(0.0, int(i), int(j)) for i, j in zip(*np.nonzero(sources), strict=True)]
        for _, i, j in heap:
            dist[i, j] = 0.0
        heapq.heapify(heap)
        n_i, n_j = self.shape
        while heap:
            d, i, j = heapq.heappop(heap)
            if d > dist[i, j]:
                continue
            for di, dj, step in _NEIGHBOURS:
                a, b = i + di, j + dj
                # A diagonal move must not cut the corner between two blocked cells.
                if not (0 <= a < n_i and 0 <= b < n_j and self.free[a, b]
                        and (self.free[a, j] or self.free[i, b])):
                    continue
                cost = d + step * self.toll[a, b]
                if cost < dist[a, b]:
                    dist[a, b] = cost
                    heapq.heappush(heap, (cost, a, b))
        return dist

    def _start_cell(self, pos: np.ndarray) -> tuple[int, int] | None:
        """The cell to plan from: among reachable cells near the agent, the one that makes
        the most progress (distance to it plus its distance to the goal); the nearest
        reachable cell if none is near (e.g. the agent squeezed against a wall)."""
        reachable = np.argwhere(np.isfinite(self.dist))
        if len(reachable) == 0:
            return None
        gaps = np.linalg.norm(self.centres[tuple(reachable.T)] - pos, axis=-1)
        near = gaps <= 2.5 * self.cell
        if near.any():
            score = gaps[near] / self.cell + self.dist[tuple(reachable[near].T)]
            return tuple(int(v) for v in reachable[near][int(np.argmin(score))])
        return tuple(int(v) for v in reachable[int(np.argmin(gaps))])

    def path(self, pos) -> list[np.ndarray]:
        """Cell centres downhill from the agent toward the goal (at most a lookahead's worth)."""
        cell = self._start_cell(np.asarray(pos, dtype=float))
        if cell is None:
            return []
        points = [self.centres[cell]]
        while self.dist[cell] > 0 and len(points) < _LOOKAHEAD_CELLS:
            i, j = cell
            options = [(self.dist[i + di, j + dj], (i + di, j + dj)) for di, dj, _ in _NEIGHBOURS
                       if 0 <= i + di < self.shape[0] and 0 <= j + dj < self.shape[1]]
            best, nxt = min(options)
            if not best < self.dist[cell]:
                break
            cell = nxt
            points.append(self.centres[cell])
        if self.dist[cell] == 0:
            points.append(self.goal)
        return points

    def _clearance(self, points: np.ndarray) -> np.ndarray:
        return wall_distance(np.atleast_2d(points), self.segs)

    def _visible(self, start: np.ndarray, end: np.ndarray, required: float) -> bool:
        """Whether the agent can go straight from start to end keeping ``required`` clearance."""
        steps = max(2, int(np.linalg.norm(end - start) / 0.05) + 1)
        line = start + np.linspace(0.0, 1.0, steps)[:, None] * (end - start)
        return bool(self._clearance(line).min() >= required)

    def waypoint(self, pos) -> np.ndarray:
        """The farthest point along the planned path the agent can reach in a straight line.

        The line must keep a safety margin from walls, or, for an agent already closer than
        that, must not get any closer than it is: a taut line that grazes a corner would
        stall the agent there, since its headings only come in whole turn steps.
        """
        pos = np.asarray(pos, dtype=float)
        points = self.path(pos)
        if not points:
            return self.goal
        here = float(self._clearance(pos)[0])
        required = max(min(self.radius + _SIGHT_MARGIN, here - 0.005), self.radius + 0.005)
        for point in reversed(points):
            if self._visible(pos, point, required):
                return point
        return points[min(1, len(points) - 1)]

    def action(self, pos, heading: float, turn_step: float, forward_step: float) -> int:
        """The move for an agent at ``pos`` (x, z) facing ``heading`` (MiniWorld's radians).

        Turns toward the waypoint until it lies within ``_FORWARD_TOLERANCE`` turn steps of
        the heading, then moves forward. If that step would hit a wall, it turns away from
        the wall and takes the next free step forward whatever the heading (an escape).
        """
        pos = np.asarray(pos, dtype=float)
        ahead = pos + forward_step * np.array([math.cos(heading), -math.sin(heading)])
        free_ahead = self._clearance(ahead)[0] >= self.radius + 0.005
        if self._escaping and free_ahead:
            self._escaping = False
            return MOVE_FORWARD
        target = self.waypoint(pos)
        dx, dz = target[0] - pos[0], target[1] - pos[1]
        # MiniWorld's forward vector is (cos dir, -sin dir) in (x, z).
        error = _wrap(math.atan2(-dz, dx) - heading)
        if abs(error) > _FORWARD_TOLERANCE * turn_step:
            return TURN_LEFT if error > 0 else TURN_RIGHT
        if free_ahead:
            return MOVE_FORWARD
        self._escaping = True
        wall = self._nearest_wall_point(pos)
        away = _wrap(heading - math.atan2(-(wall[1] - pos[1]), wall[0] - pos[0]))
        return TURN_LEFT if away > 0 else TURN_RIGHT

    def _nearest_wall_point(self, pos: np.ndarray) -> np.ndarray:
        a, b = self.segs[:, 0], self.segs[:, 1]
        t = np.clip(((pos - a) * (b - a)).sum(-1) / np.maximum(((b - a) ** 2).sum(-1), 1e-12),
                    0.0, 1.0)
        nearest = a + t[:, None] * (b - a)
        return nearest[int(np.argmin(np.linalg.norm(nearest - pos, axis=-1)))]


def _wrap(angle: float) -> float:
    """``angle`` in [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi
