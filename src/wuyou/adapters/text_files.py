"""The files the command line is given to read (an org file, a replay stream, a channels file): their text, or
one line saying what is wrong with the file instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


class TextFileError(ValueError):
    """A file that cannot be read as UTF-8 text (missing, a directory, unreadable, another encoding)."""


def read_text(path: Path) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TextFileError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except IsADirectoryError as exc:
        raise TextFileError(f"{path}: is a directory, not a file") from exc
    except OSError as exc:
        raise TextFileError(f"{path}: {exc.strerror or exc}") from exc


def lines_of(path: Path) -> Iterator[str]:
    """The lines of a UTF-8 text file one by one (a byte-order mark dropped), so that a long stream is not read
    whole; a line that is not UTF-8 is an error naming its number."""
    try:
        stream = path.open("rb")
    except IsADirectoryError as exc:
        raise TextFileError(f"{path}: is a directory, not a file") from exc
    except OSError as exc:
        raise TextFileError(f"{path}: {exc.strerror or exc}") from exc
    with stream:
        for number, raw in enumerate(stream, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TextFileError(f"{path}: line {number} is not UTF-8 text (byte {exc.start} of the line)") from exc
            yield line.removeprefix("\ufeff") if number == 1 else line
