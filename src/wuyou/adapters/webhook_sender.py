"""Posts outgoing webhook deliveries: claimed in one short transaction, posted with no transaction open,
recorded in another — a slow receiver holds no locks, and a crashed sender's lease simply runs out."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from wuyou import __version__
from wuyou.desk.webhooks import service
from wuyou.desk.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)


class WebhookSender:
    def __init__(self, *, sessions: sessionmaker[Session], clock: Callable[[], datetime],
                 client: httpx.Client | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._client = client or httpx.Client(timeout=10, follow_redirects=False)

    def run_once(self) -> int:
        """Post what is due; returns how many deliveries were attempted."""
        with self._sessions() as session:
            due = service.claim_due(session=session, now=self._clock())
            jobs = []
            for d in due:
                endpoint = session.get(WebhookEndpoint, d.endpoint_id)
                if endpoint is not None:
                    jobs.append((d.id, d.event, endpoint.url, endpoint.secret, d.payload))
            session.commit()
        for delivery_id, event, url, secret, payload in jobs:
            status, error = self._post(delivery_id, event, url, secret, payload)
            with self._sessions() as session:
                found = session.get(WebhookDelivery, delivery_id)
                if found is None:
                    continue
                if error is None:
                    service.delivered(delivery=found, status=status or 200, now=self._clock())
                else:
                    service.failed(delivery=found, error=error, status=status, now=self._clock())
                    log.warning("webhook delivery %s to endpoint %s failed: %s", delivery_id, found.endpoint_id, error)
                session.commit()
        return len(jobs)

    def _post(self, delivery_id: int, event: str, url: str, secret: str,
              payload: dict[str, object]) -> tuple[int | None, str | None]:
        if not url.startswith(("http://", "https://")):
            return None, "not an http(s) URL"
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": f"wuyou-webhooks/{__version__}",
                   "X-Wuyou-Event": event, "X-Wuyou-Delivery": str(delivery_id),
                   "X-Wuyou-Signature": service.sign(secret, int(time.time()), body)}
        try:
            answer = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= answer.status_code < 300:
            return answer.status_code, None
        return answer.status_code, f"HTTP {answer.status_code}"
