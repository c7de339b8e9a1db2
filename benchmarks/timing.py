"""Shared by both sides of `benchmarks.speed` (official_speed.py imports it from its own folder)."""
from __future__ import annotations

import time
from typing import Callable


def best_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's smallest value over repeated runs of the same measurement (token counts are equal in all)."""
    return {key: min(run[key] for run in runs) for key in runs[0]}


def fastest_seconds(work: Callable[[], object], rounds: int) -> float:
    """The shortest wall time of `rounds` calls of `work`."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best
