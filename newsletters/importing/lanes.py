"""Chunks in flight side by side: while one is written, the next is looked up and written too.

Each lane is a thread with its own database connection and its own transaction per chunk.
Lanes take chunks in file order and commit them in file order: a chunk's report lines and the
run's progress are written in its turn, just before its commit, so the saved offset and the
report only ever grow by whole chunks in order, and a resumed run starts after the last chunk
committed, exactly as with one lane.

A chunk may write its rows before its turn, while the chunks before it are still open,
because they touch different readers: the file's addresses are told apart by their
lower-cased form, which PostgreSQL computes as Python does for ASCII. An address outside
ASCII might be lower-cased differently by the two and so meet another chunk's row in the
unique index: had the later chunk written it first, the earlier one would wait on that row's
lock while the later one waits for the earlier one's commit, a deadlock PostgreSQL cannot
see. So while a chunk with such an address is open, it and every chunk after it write only
in their turn. (A database that lower-cases even ASCII its own way gets one lane.)
"""

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator

from django.db import connection

from newsletters.importing.reader import Chunk


class Aborted(Exception):
    """Another lane failed: this one stops without committing."""


class Turns:
    """Which chunk commits next, and which may write before their turn."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next = 0
        self._failed = False
        self._plain: dict[int, bool] = {}

    def add(self, chunk: Chunk, plain: bool) -> None:
        """Say whether a chunk may write early (every address in it ASCII)."""
        with self._changed:
            self._plain[chunk.index] = plain

    def may_write(self, index: int) -> None:
        """Wait until the chunk may write its rows: in its turn, or early if it and every
        chunk before it still open may."""
        with self._changed:
            self._changed.wait_for(
                lambda: (
                    self._failed
                    or all(self._plain.get(i, False) for i in range(self._next, index + 1))
                    or self._next == index
                )
            )
            if self._failed:
                raise Aborted

    def wait_for(self, index: int) -> None:
        """Wait for the chunk's turn to commit."""
        with self._changed:
            self._changed.wait_for(lambda: self._next == index or self._failed)
            if self._failed:
                raise Aborted

    def done(self, index: int) -> None:
        with self._changed:
            self._plain.pop(index, None)
            self._next = index + 1
            self._changed.notify_all()

    def fail(self) -> None:
        with self._changed:
            self._failed = True
            self._changed.notify_all()


def run(chunks: Iterable[Chunk], work: Callable[[Chunk], None], lanes: int, turns: Turns) -> None:
    """Call work(chunk) for every chunk, numbered in file order, on `lanes` threads.

    With one lane the chunks are worked on here, in this thread and its connection (which is
    what a run inside a caller's transaction needs). The first failure in a lane stops the
    others before their commit, and is raised here once every lane has stopped.
    """
    numbered = _numbered(chunks, turns)
    try:
        if lanes <= 1:
            for chunk in numbered:
                work(chunk)
        else:
            _in_lanes(numbered, work, lanes, turns)
    finally:
        # Stop whatever reads ahead (a thread parsing the next chunks) as soon as this stops.
        numbered.close()
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _in_lanes(
    numbered: Iterator[Chunk], work: Callable[[Chunk], None], lanes: int, turns: Turns
) -> None:
    todo: queue.Queue[Chunk | None] = queue.Queue(maxsize=1)
    failures: list[BaseException] = []

    def lane() -> None:
        try:
            while (chunk := todo.get()) is not None:
                if failures:
                    continue  # take what is queued, so that the feeder never blocks
                try:
                    work(chunk)
                except Aborted:
                    continue
                except BaseException as exc:
                    failures.append(exc)
                    turns.fail()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=lane, name=f"import-lane-{n}", daemon=True) for n in range(lanes)
    ]
    for thread in threads:
        thread.start()
    try:
        for chunk in numbered:
            if failures:
                break
            todo.put(chunk)
    finally:
        for _ in threads:
            todo.put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]


def _numbered(chunks: Iterable[Chunk], turns: Turns) -> Generator[Chunk]:
    for index, chunk in enumerate(chunks):
        chunk.index = index
        turns.add(chunk, plain=all(row.key.isascii() for row in chunk.rows))
        yield chunk
