"""The platform webhooks under hypothesis: garbage, forged requests and validly encrypted envelopes around any
XML or JSON are answered with a 2xx or 4xx, never a 5xx (a short run; bench/fuzz_webhooks.py runs it for
as long as asked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.webhook_fuzz import fakes, run
from tests.dialog import Dialog


@pytest.fixture
def channels_file(tmp_path: Path) -> Iterator[Path]:
    with fakes(tmp_path) as path:
        yield path


def test_no_webhook_input_makes_a_server_error(dialog: Dialog) -> None:
    run(dialog.client, examples=60)
