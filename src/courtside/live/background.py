"""The asyncio tasks a service runs in the background (replays, simulations, alert checks).

:class:`BackgroundTasks` keeps each task it starts until the task ends, so that ``stop`` can
cancel every one still running and wait for it: no task outlives its service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundTasks"]


class BackgroundTasks:
    """Tasks started on the running loop, forgotten as they end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of the running loop."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def running(self) -> list[asyncio.Task[Any]]:
        """The tasks not done yet."""
        return [t for t in self._tasks if not t.done()]

    async def cancel_all(self) -> None:
        """Cancel every task and wait for each to end (its error, if any, is dropped: the
        service is stopping)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
