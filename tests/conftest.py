"""Shared fixtures: a wired desk on the embedded default (SQLite + in-process store) and, when
the servers are reachable, on PostgreSQL + Redis. In CI (`CI=true`) an unreachable server fails
the run instead of skipping."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.adapters import migrate
from wuyou.adapters.bootstrap import Desk, build
from wuyou.adapters.settings import Settings
from wuyou.db import Base, utcnow
from wuyou.desk.org import import_org, load_org_file
from wuyou.kb import articles, documents
from wuyou.store import MemoryStore, RedisStore, StateStore

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PG_SERVER = os.environ.get("WUYOU_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("WUYOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: CI promises PostgreSQL and Redis."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the server must be running)")
    pytest.skip(reason)


def shared(path: str) -> Path:
    found = SHARED / path
    if not found.exists():
        pytest.skip(f"../shared/{path} is not beside the checkout")
    return found


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "wuyou.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database of this test run's own (so parallel runs on one server never collide)."""
    name = f"wuyou_test_{os.getpid()}"
    try:
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable(f"PostgreSQL is not reachable at {PG_SERVER}: {exc.__class__.__name__}")
    url = f"{PG_SERVER}/{name}"
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def redis_store(prefix: str | None = None) -> RedisStore:
    """A Redis store under a fresh key prefix (or the given one, to share it)."""
    store = RedisStore(REDIS_URL, prefix=prefix or f"wuyou-test-{uuid.uuid4().hex[:8]}:")
    if not store.ping():
        unavailable(f"Redis is not reachable at {REDIS_URL}")
    return store


@pytest.fixture
def channels_file() -> Path | None:
    """The desk's channels file; a test module overrides this to connect fake platform APIs."""
    return None


@pytest.fixture
def clock() -> TestClock:
    """The desk's clock: real time until a test sets it."""
    return TestClock()


@pytest.fixture(params=["embedded", "servers"])
def desk(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, clock: TestClock, channels_file: Path | None
) -> Iterator[Desk]:
    """A wired desk with an empty, migrated database: SQLite + memory, or PostgreSQL + Redis."""
    store: StateStore
    if request.param == "embedded":
        db_path = tmp_path / "wuyou.db"
        shutil.copy(sqlite_template, db_path)
        url = f"sqlite:///{db_path}"
        store = MemoryStore()
    else:
        url = request.getfixturevalue("pg_url")
        _truncate_pg(url)
        store = redis_store()
    settings = Settings(database_url=url, inprocess_worker=False, channels_file=channels_file,
                        media_dir=tmp_path / "media")
    wired = build(settings, store=store, clock=clock)
    yield wired
    wired.close()


@pytest.fixture
def sample_desk(desk: Desk) -> Desk:
    """The desk with ../shared/org-sample.yaml and the kb-sample articles imported."""
    return with_sample(desk)


def with_sample(desk: Desk, *people: dict[str, Any]) -> Desk:
    """Import ../shared/org-sample.yaml (with these people besides) and the kb-sample articles."""
    doc = load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8"))
    doc["people"] = [*doc["people"], *people]
    with desk.sessions() as session:
        import_org(session=session, doc=doc)
        articles.upsert(session=session, docs=documents.read_dir(shared("kb-sample/kb")), now=utcnow())
        session.commit()
    return desk


@pytest.fixture
def dialog(sample_desk: Desk) -> Iterator[Dialog]:
    with Dialog(sample_desk) as d:
        yield d

