"""A bounded history of training losses for the live charts: long runs keep their shape in a fixed memory."""
from __future__ import annotations

import math


class LossHistory:
    """Losses per step, averaged over buckets of steps that double in size whenever the history reaches
    2 * max_points, so a long run keeps at most that many points and the curves keep their shape."""

    def __init__(self, max_points: int = 1000):
        self.max_points = max_points
        self.bucket = 1  # steps averaged into one point
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self._sums: dict[str, float] = {}
        self._count = 0
        self.latest: dict[str, float] = {}  # the last step's values, not averaged

    def add(self, step: int, losses: dict[str, float]) -> None:
        self.latest = dict(losses)
        for key, value in losses.items():
            self._sums[key] = self._sums.get(key, 0.0) + value
        self._count += 1
        if self._count < self.bucket:
            return
        self.steps.append(step)
        for key in list(self.values) + [k for k in self._sums if k not in self.values]:  # keep the model's order
            column = self.values.setdefault(key, [math.nan] * (len(self.steps) - 1))
            column.append(self._sums.get(key, math.nan) / self._count)
        self._sums, self._count = {}, 0
        if len(self.steps) >= 2 * self.max_points:
            self._halve()

    def _halve(self) -> None:
        """Merge neighbouring points: each new point is the mean of two and sits at the later step."""
        self.steps = self.steps[1::2]
        for key, column in self.values.items():
            self.values[key] = [(a + b) / 2 for a, b in zip(column[0::2], column[1::2])]
        self.bucket *= 2

    def snapshot(self) -> tuple[list[int], dict[str, list[float]]]:
        return list(self.steps), {key: list(column) for key, column in self.values.items()}
