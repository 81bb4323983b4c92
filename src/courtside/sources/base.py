"""The interface every source adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from courtside.sources.records import Batch
from courtside.sources.validation import Issue

__all__ = ["Source"]


class Source(ABC):
    """Fetches one batch of normalised records per call of :meth:`fetch`.

    ``fetch`` raises a :class:`~courtside.sources.errors.SourceError` when nothing usable
    came back; parts that failed while others worked go into ``Batch.errors``. Row-level
    problems found while normalising go into :attr:`issues` of the last fetch.
    """

    #: the kind of source, as in :class:`~courtside.model.DataSourceType` values.
    kind: str = ""

    def __init__(self, name: str) -> None:
        self.name = name
        self.issues: list[Issue] = []

    @abstractmethod
    async def fetch(self) -> Batch:
        """Fetch what is new or changed since the last call."""

    def state(self) -> dict[str, Any]:
        """Resumable state to persist (a database cursor); empty by default."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Resume from :meth:`state` output."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""

    async def __aenter__(self) -> Source:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
