"""Sequential: one chunk at a time in this process, reading each file in one streaming pass.

Memory is bounded by the batch size: files are read with Polars' streaming engine and only the
current chunk is held, so a file larger than memory works.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby

import polars as pl

from courtside.batch.chunks import ChunkSpec, ChunkTask
from courtside.batch.executors.base import RunControl, chunk_error
from courtside.batch.inputs import stream


class SequentialExecutor:
    """Runs chunks one after another in the calling thread."""

    name = "sequential"

    def run(self, task: ChunkTask, chunks: Sequence[ChunkSpec], batch_size: int,
            control: RunControl) -> None:
        """Run the pending chunks in order; stop before a chunk when the control says so."""
        for _, group in groupby(chunks, key=lambda c: c.partition):
            specs = list(group)
            for spec, frame in _frames(task, specs, batch_size):
                if control.stop_reason() is not None:
                    return
                try:
                    result = task.read_and_run(spec) if frame is None else task.run(spec, frame)
                except Exception as exc:
                    raise chunk_error(task, spec, exc) from exc
                control.chunk_done(result)


def _frames(task: ChunkTask, specs: list[ChunkSpec], batch_size: int
            ) -> Iterator[tuple[ChunkSpec, pl.DataFrame | None]]:
    """Each pending chunk with its rows from one streaming pass over the partition.

    The streaming reader reads ahead, so a bad value may surface while an earlier chunk is
    being handed out. From the first read error on, chunks are read one by one (frame None)
    so that the error is reported for the chunk that holds the bad row.
    """
    part = task.partitions[specs[0].partition]
    pending = {s.offset: s for s in specs}
    first, last = min(pending), max(pending)
    frames = stream(part, first, batch_size)
    offset = first
    while offset <= last:
        spec = pending.get(offset)
        try:
            frame = next(frames)
        except StopIteration:
            return
        except Exception:
            yield from ((s, None) for s in specs if s.offset >= offset)
            return
        if spec is not None:
            yield spec, frame
        offset += batch_size
