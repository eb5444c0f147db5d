"""schemathesis against the served OpenAPI spec: generated requests to every operation, as an admin, must
never meet a 500 and every response must match the spec (status codes, content types, headers, bodies).

Not checked: that every request the schema allows is accepted. Documents such as routing rules or the org
are validated by the desk's own rules (a rule's team must exist …), which JSON Schema cannot state, so a
well-formed but meaningless document is rightly refused with a 422 the spec describes."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import shared
from wuyou.adapters.app import create_app
from wuyou.adapters.bootstrap import Desk, build
from wuyou.adapters.settings import Settings
from wuyou.db import utcnow
from wuyou.desk import tokens
from wuyou.desk.org import import_org, load_org_file
from wuyou.kb import articles, documents
from wuyou.store import MemoryStore

schemathesis = pytest.importorskip("schemathesis", reason="the dev extras install schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (only with schemathesis)
from hypothesis.errors import FlakyFailure  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

EXAMPLES = 15  # generated requests per operation

# Streams that stay open until the client leaves: exercised by their own tests.
STREAMING = ("/api/v1/tickets/events",)


@pytest.fixture(scope="module")
def fuzz_desk(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Desk]:
    home = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, home / "wuyou.db")
    desk = build(Settings(database_url=f"sqlite:///{home / 'wuyou.db'}", inprocess_worker=False,
                          media_dir=home / "media", alerts_secret="fuzz-alerts"), store=MemoryStore())
    with desk.sessions() as session:
        import_org(session=session, doc=load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8")))
        articles.upsert(session=session, docs=documents.read_dir(shared("kb-sample/kb")), now=utcnow())
        session.commit()
    yield desk
    desk.close()


@pytest.fixture(scope="module")
def admin_token(fuzz_desk: Desk) -> str:
    with fuzz_desk.sessions() as session:
        token = tokens.create(session=session, person_id="admin", name="fuzz", now=utcnow())
        session.commit()
    return token


@pytest.fixture(scope="module")
def api_schema(fuzz_desk: Desk) -> Any:
    app = create_app(fuzz_desk, run_worker=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for path in STREAMING:
        schema = schema.exclude(path=path)
    return schema


def test_no_server_errors_and_responses_match_the_spec(api_schema: Any, admin_token: str) -> None:
    """Every operation in turn (schemathesis' own pytest plugin does not run on pytest 9, so the operations
    are walked here with its Hypothesis strategies); all failures are collected, then reported together."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        for attempt in (1, 2):
            try:
                check()
            except FlakyFailure as exc:  # failed once, passed when Hypothesis tried the same request again
                inner = "".join(f"\n  {e!r}"[:800] for e in exc.exceptions)
                if attempt == 1:  # (once seen in CI on GET /oncall/roster, under load: its causes are printed,
                    warnings.warn(f"{operation.label}: {exc}{inner}", stacklevel=1)  # and the operation run again)
                    continue
                failures.append(f"{operation.label}: {str(exc)[:1500]}{inner}")
            except (Exception, BaseExceptionGroup) as exc:  # every operation's failure is collected, then reported
                failures.append(f"{operation.label}: {str(exc)[:1500]}")
            break
    assert not failures, "\n\n".join(failures)


def test_numbers_too_large_for_the_database_are_refused_not_a_crash(fuzz_desk: Desk, admin_token: str) -> None:
    client = TestClient(create_app(fuzz_desk, run_worker=False), raise_server_exceptions=False)
    huge = "9" * 20
    headers = {"Authorization": f"Bearer {admin_token}"}
    for path in (f"/api/v1/tickets?offset={huge}", f"/api/v1/incidents?offset={huge}", f"/api/v1/tickets/{huge}",
                 f"/api/v1/tickets/events?once=1&after={huge}", f"/api/v1/incidents/INC-{huge}"):
        assert client.get(path, headers=headers).status_code in (404, 422), path
    assert client.post(f"/api/v1/tickets/{huge}/claim", headers=headers).status_code == 422
