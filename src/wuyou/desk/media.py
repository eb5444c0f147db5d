"""Where attachment contents live: a folder by default (shared by the processes of one host, or a shared
volume), named by content hash so the same photo sent twice is stored once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class MediaMissing(LookupError):
    """The content is no longer stored (a folder cleaned by hand, a bucket's lifecycle rule)."""


class MediaStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...  # MediaMissing when it is not there


class FolderMedia:
    """Files under a directory, `ab/abcdef…` by SHA-256; written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) < 8 or not key.isalnum():
            raise ValueError(f"bad media key {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise MediaMissing(key) from exc
