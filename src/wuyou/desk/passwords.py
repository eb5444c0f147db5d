"""Console passwords: scrypt hashes with a per-password salt, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from wuyou.desk.errors import DeskError, NotFound
from wuyou.desk.models import Person

# scrypt parameters (n=2**14, r=8, p=1: ~16 MiB and ~50 ms per check) travel inside the hash string, so
# they can be raised later without invalidating stored hashes.
_N, _R, _P = 2**14, 8, 1
MIN_LENGTH = 8


class WeakPassword(DeskError, ValueError):
    """A password too short to protect a console account."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def matches(stored: str | None, password: str) -> bool:
    """True when `password` is the one `stored` was made from (False for a malformed or absent hash)."""
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


def set_password(*, session: Session, person_id: str, password: str) -> None:
    """Give a person a console password (replacing any earlier one)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} (no one of the org directory has that id)")
    person.password_hash = hash_password(password)
    session.flush()


# Checked against when the person is unknown, so a wrong id costs as long as a wrong password.
_DUMMY = hash_password(secrets.token_hex(8))


def check(*, session: Session, person_id: str, password: str) -> Person | None:
    """The active person with this id and password, else None."""
    person = session.get(Person, person_id)
    ok = matches(person.password_hash if person else _DUMMY, password)
    return person if ok and person is not None and person.active else None
