"""The process's own Prometheus counters (what only this process sees); `/metrics` serves them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

PROCESS = CollectorRegistry(auto_describe=True)
MESSAGES = Counter("wuyou_messages", "messages received, by platform (webhook deliveries answered 2xx)",
                   ["platform"], registry=PROCESS)
DELIVERED = Counter("wuyou_deliveries", "outbox messages delivered, by platform", ["platform"], registry=PROCESS)
DELIVERY_FAILURES = Counter("wuyou_delivery_failures", "outbox deliveries a platform refused or missed",
                            ["platform"], registry=PROCESS)
