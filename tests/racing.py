"""Racing requests in tests: threads released at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def race(
    count: int, request: Callable[[Any], Any], prepare: Callable[[int], Any] = lambda i: i
) -> list[Any]:
    """Call `request(prepare(i))` for each i below `count`, each in a thread of its own, all
    released together once prepared; return the results in that order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        argument = prepare(index)
        barrier.wait()
        results[index] = request(argument)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
