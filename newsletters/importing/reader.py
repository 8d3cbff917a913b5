"""Streaming a CSV file in chunks of rows, with the byte offset where each chunk ends.

The file is read line by line in binary and decoded per line, so the offset after any row is
known exactly: an interrupted import resumes at the row after the last chunk it committed.
csv.reader pulls lines only as a record needs them, so quoted fields that span lines still
end on a line boundary. Memory stays bounded by the chunk size and one set of address hashes.
"""

import csv
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.exceptions import ValidationError

from newsletters.addresses import MAX_LENGTH, normalise_email
from newsletters.importing.formats import Layout, SourceRow, detect

NO_EMAIL = "no_email"
INVALID_EMAIL = "invalid_email"
UNREADABLE = "unreadable"
DUPLICATE = "duplicate"

# Far larger than any real cell; a runaway quoted field fails one row, not the whole file.
csv.field_size_limit(1_000_000)
# Addresses of this shape pass Django's EmailValidator too; anything else is checked by it.
_COMMON_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# A cell an export neutralised against spreadsheet formulas starts with an apostrophe.
_NEUTRALISED = ("'=", "'+", "'-", "'@")


@dataclass(slots=True)
class Row:
    number: int
    email: str
    key: str
    source: SourceRow
    subscriber_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    number: int
    email: str
    reason: str


@dataclass
class Chunk:
    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    end_offset: int = 0
    last_row: int = 0
    index: int = 0  # the chunk's place in the run, from 0: chunks commit in this order

    def __len__(self) -> int:
        return len(self.rows) + len(self.rejected)


class _Lines:
    """Decoded lines of a binary file, counting the bytes handed out."""

    def __init__(self, handle: BinaryIO, offset: int) -> None:
        self.handle = handle
        self.offset = offset

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            start = self.offset
            self.offset += len(raw)
            line = raw.decode("utf-8", "replace").replace("\x00", "")
            # A byte-order mark before a quoted header cell would hide the quote from csv.
            yield line.lstrip("\ufeff") if start == 0 else line


def read_layout(handle: BinaryIO) -> tuple[Layout, list[str], int]:
    """Detect the format from the first record.

    Return the layout, the first row as read, and the byte offset of the first data row.
    """
    handle.seek(0)
    lines = _Lines(handle, 0)
    reader = csv.reader(lines)
    try:
        first = next(reader)
    except StopIteration:
        first = []
    except csv.Error:
        first = []
    layout = detect(first)
    return layout, first, lines.offset if layout.has_header else 0


def normalise(raw: str) -> str:
    """The address as stored, or ValidationError; fast for the common shape of address."""
    address = raw.strip()
    if address.startswith(_NEUTRALISED):
        address = address[1:]
    if len(address) <= MAX_LENGTH and _COMMON_ADDRESS.fullmatch(address):
        local, _at, domain = address.rpartition("@")
        return f"{local}@{domain.lower()}"
    return normalise_email(address)


def chunks(
    handle: BinaryIO,
    layout: Layout,
    *,
    offset: int,
    first_row: int,
    size: int,
    seen: set[int],
) -> Iterator[Chunk]:
    """Yield chunks of up to `size` rows from `offset`, rows numbered from `first_row`.

    `seen` holds hashes of the addresses already met in the file; a repeat is rejected.
    """
    handle.seek(offset)
    lines = _Lines(handle, offset)
    reader = csv.reader(lines)
    read = layout.read
    number = first_row - 1
    chunk = Chunk()
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            chunk.rejected.append(Rejected(number, "", UNREADABLE))
            cells = None
        if cells is not None:
            _take(chunk, number, cells, read, seen)
        if len(chunk) >= size:
            chunk.end_offset, chunk.last_row = lines.offset, number
            yield chunk
            chunk = Chunk()
    if len(chunk):
        chunk.end_offset, chunk.last_row = lines.offset, number - 1
        yield chunk


def _take(
    chunk: Chunk,
    number: int,
    cells: list[str],
    read: Callable[[Sequence[str]], SourceRow],
    seen: set[int],
) -> None:
    if not cells or not any(cells):
        chunk.rejected.append(Rejected(number, "", NO_EMAIL))
        return
    source = read(cells)
    raw = source.email.strip()
    if not raw:
        chunk.rejected.append(Rejected(number, "", NO_EMAIL))
        return
    try:
        email = normalise(raw)
    except ValidationError:
        chunk.rejected.append(Rejected(number, raw[:MAX_LENGTH], INVALID_EMAIL))
        return
    key = email.lower()
    fingerprint = hash(key)
    if fingerprint in seen:
        chunk.rejected.append(Rejected(number, email, DUPLICATE))
        return
    seen.add(fingerprint)
    chunk.rows.append(Row(number, email, key, source))


def addresses_before(handle: BinaryIO, layout: Layout, start: int, end: int) -> set[int]:
    """Rebuild the set of address hashes met between two offsets, to resume a run."""
    seen: set[int] = set()
    if end <= start:
        return seen
    handle.seek(start)
    lines = _Lines(handle, start)
    reader = csv.reader(lines)
    column = layout.email
    while lines.offset < end:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            continue
        if len(cells) > column:
            try:
                seen.add(hash(normalise(cells[column]).lower()))
            except ValidationError:
                continue
    return seen


def read_ahead(chunks: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """Parse the next chunks in a thread while the caller writes this one to the database.

    The database work mostly waits on the server, which releases the GIL, so parsing and
    writing overlap. At most `depth` parsed chunks wait, which keeps memory bounded.
    """
    ready: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            ready.put(exc)

    worker = threading.Thread(target=produce, name="import-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
