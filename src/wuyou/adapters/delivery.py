"""The outbox delivery loop: renders each notification for its recipient and sends it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from wuyou.adapters import counters, http_mailbox
from wuyou.desk import conversations, outbox
from wuyou.desk.incidents.models import Incident
from wuyou.desk.models import OutboxMessage, Person, Ticket, TicketEvent
from wuyou.desk.org import identities_of, person_by_identity
from wuyou.i18n import Catalog
from wuyou.store import StoreError

log = logging.getLogger(__name__)
_DESK_TZ = ZoneInfo("Asia/Shanghai")
LEASE_SECONDS = 15.0  # far longer than one send may take (platform clients time out after 5 s)
STORE_RETRY_SECONDS = 5.0
LEASE_BATCH = 20
ACCOUNT_LOCALE = "zh-CN"  # (an account the directory does not know has no language of its own yet)
# Platforms whose bot can post to the group chat a ticket was reported in (WeCom app chats, WeChat OA and the HTTP
# channel's mailboxes reach people one by one).
GROUP_PLATFORMS = frozenset({"telegram"})


class DeliveryFailed(Exception):
    """A platform refused or could not take a message; the outbox will retry (not before `retry_after`
    seconds when the platform said so, as Telegram's 429 does)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelSender(Protocol):
    """Sends rendered text to one platform address."""

    platform: str

    def send(
        self, *, session: Session, address: str, text: str, buttons: list[dict[str, str]], key: str, now: datetime
    ) -> None: ...


class HttpMailboxSender:
    """The HTTP channel: the message lands in the mailbox, in the same transaction as `sent`."""

    platform = "http"

    def send(
        self, *, session: Session, address: str, text: str, buttons: list[dict[str, str]], key: str, now: datetime
    ) -> None:
        http_mailbox.put(session=session, user=address, text=text, buttons=buttons, key=key, at=now)


class Deliverer:
    """Delivers due outbox rows; safe to run in several processes at once."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        catalog: Catalog,
        senders: list[ChannelSender],
        clock: Callable[[], datetime],
        tz: ZoneInfo = _DESK_TZ,
        link_base: str = "",
    ) -> None:
        self._tz = tz
        self._link_base = link_base.rstrip("/")
        self._sessions = session_factory
        self._catalog = catalog
        self._senders = {s.platform: s for s in senders}
        self._order = [s.platform for s in senders]
        self._clock = clock

    def platform_of(self, *, session: Session, person_id: str) -> str | None:
        """The platform a notification to this person goes through (the first of theirs the desk can send on)."""
        return self._first_platform(identities_of(session=session, person_id=person_id))

    def _first_platform(self, identities: dict[str, str]) -> str | None:
        return next((p for p in self._order if p in identities), None)

    def queue_texts(self, *, platform: str, address: str, texts: Sequence[str], key: str,
                    receipt: str | None = None) -> bool:
        """Answers a platform would not take now (or came too late for a passive reply) go to the person through
        the outbox as plain text, so they are not lost; False when nobody of the directory has that address. With
        the message's `receipt`, only if nobody else has delivered its answer (a redelivery may have carried it).
        Texts already queued under their keys (the same message delivered again) are not queued twice."""
        with self._sessions() as session:
            person = person_by_identity(session=session, platform=platform, external_id=address)
            if person is None:
                return False
            if receipt is not None and not conversations.claim_answer(session=session, key=receipt):
                return True
            keys = [f"{key}:{i}" for i in range(len(texts))]
            known = outbox.known_keys(session=session, keys=keys)
            for text, text_key in zip(texts, keys, strict=True):
                if text_key not in known:
                    outbox.enqueue(session=session, person_id=person.id, template="raw_text", params={"text": text},
                                   key=text_key, now=self._clock())
            try:
                session.commit()
            except IntegrityError:  # another process queued the same texts meanwhile
                session.rollback()
        return True

    def run_once(self, *, limit: int = 100) -> int:
        """Deliver what is due now; returns how many messages were handled. Each delivery commits on its own, so
        a worker killed mid-round re-sends at most the one message it was sending (platforms take no idempotency
        key); the rest of its lease falls due again after LEASE_SECONDS."""
        handled = 0
        while handled < limit:
            with self._sessions() as session:
                ids = outbox.lease(session=session, now=self._clock(), seconds=LEASE_SECONDS,
                                   limit=min(LEASE_BATCH, limit - handled))
                session.commit()
            if not ids:
                break
            started = time.monotonic()
            for message_id in ids:
                if time.monotonic() - started > LEASE_SECONDS / 2:
                    break  # slow platforms: leave the rest of the lease to fall due again rather than race it
                with self._sessions() as session:
                    message = session.get(OutboxMessage, message_id)
                    if message is not None and message.status == "pending":
                        self._deliver(session, message)
                        session.commit()
                handled += 1
        return handled

    def _deliver(self, session: Session, message: OutboxMessage) -> None:
        now = self._clock()
        if message.person_id is None:  # an account nobody of the directory has (yet): in the desk's first language
            if message.platform not in self._senders or not message.address:
                outbox.mark_failed(message=message, now=now, error=f"no channel {message.platform!r} to reach it")
                return
            self._send(session, message, message.platform, message.address, "", ACCOUNT_LOCALE, now)
            return
        person = session.get(Person, message.person_id)
        if person is None:
            outbox.mark_failed(message=message, now=now, error="recipient no longer exists")
            return
        identities = identities_of(session=session, person_id=person.id)
        platform = self._first_platform(identities)
        if platform is None:
            outbox.mark_failed(message=message, now=now, error="recipient has no reachable channel")
            return
        if _in_war_room(session, message.params.get("room"), platform, identities[platform]):
            outbox.mark_sent(message=message, now=now)  # the incident's group or topic carries it
            return
        address, prefix, owner = identities[platform], "", None
        group = _group_of(session, message, person, identities) if platform in GROUP_PLATFORMS else None
        if group is not None:
            if not group.reporter:
                outbox.mark_sent(message=message, now=now)  # reported in the group: the reporter's news is there
                return
            address, prefix = group.address, self._catalog.t("group_addressed", person.locale, name=person.name)
            owner = identities[platform]  # (the buttons, which the whole group sees, are the reporter's)
        self._send(session, message, platform, address, prefix, person.locale, now, owner=owner)

    def _send(self, session: Session, message: OutboxMessage, platform: str, address: str, prefix: str, locale: str,
              now: datetime, *, owner: str | None = None) -> None:
        """Render the message in `locale` and hand it to the platform's sender; mark it sent, or failed. `owner`:
        the account the buttons are for, when they go to a group (the sender's `for`)."""
        # A parameter named `x_key` holds a catalogue key: it is rendered in the recipient's language as `x`.
        # One named `x_due` or `x_at` holds an ISO moment: it is shown as local time ("17:14", or "03-11 09:02"), and
        # `x_path` a path of the desk's web pages, shown as the full link `x_url`.
        params = dict(message.params)
        for name, value in message.params.items():
            if name.endswith(("_due", "_at")):
                params[name] = self._local(value, now)
            elif name.endswith("_path"):  # a page of the desk: shown as a full link
                params[name[:-5] + "_url"] = f"{self._link_base}{value}" if value else ""
        keys = [(name[:-4], value) for name, value in message.params.items() if name.endswith("_key")
                and isinstance(value, str)]
        for _ in range(2 if len(keys) > 1 else 1):  # (twice: one key's message may use another's — {left}'s {basis})
            for name, value in keys:
                params[name] = self._catalog.t(value, locale, **params) if value else ""
        text = prefix + self._catalog.t(message.template, locale, **params)
        buttons = [  # (a button's own `label_<param>` over the message's: 接单 1013 beside 接单 1014)
            {"label": b["label"] if "label" in b else self._catalog.t(b["label_key"], locale, **{
                **params, **{k[6:]: v for k, v in b.items() if k.startswith("label_") and k != "label_key"}}),
             "action": b["action"], **({"for": owner} if owner else {})}
            for b in message.buttons
        ]
        try:
            self._senders[platform].send(
                session=session,
                address=address,
                text=text,
                buttons=buttons,
                key=message.idempotency_key,
                now=now,
            )
        except StoreError as exc:  # a sender's rate limits, tokens or held texts live in the store: try again soon
            log.warning("delivery of outbox %s via %s deferred (state store unavailable): %s", message.id, platform,
                        exc, extra={"outbox": message.id, "ticket": message.ticket_id, "platform": platform})
            outbox.mark_failed(message=message, now=now, error=f"state store unavailable: {exc}",
                               retry_after=STORE_RETRY_SECONDS)
            return
        except DeliveryFailed as exc:
            log.warning("delivery of outbox %s via %s failed: %s", message.id, platform, exc,
                        extra={"outbox": message.id, "ticket": message.ticket_id, "platform": platform})
            outbox.mark_failed(message=message, now=now, error=str(exc), retry_after=exc.retry_after)
            if exc.retry_after is None:  # a platform's "not yet" is not a failure
                counters.DELIVERY_FAILURES.labels(platform).inc()
            return
        outbox.mark_sent(message=message, now=now)
        counters.DELIVERED.labels(platform).inc()

    def _local(self, value: object, now: datetime) -> str:
        if not isinstance(value, str) or not value:
            return "—"
        moment = datetime.fromisoformat(value).astimezone(self._tz)
        return moment.strftime("%H:%M") if moment.date() == now.astimezone(self._tz).date() \
            else moment.strftime("%m-%d %H:%M")


@dataclass(frozen=True)
class _Group:
    chat: str
    reporter: bool  # the ticket's reporter (else someone who reported it again in the group, and follows it)
    topic: str | None = None  # the forum topic it was reported in

    @property
    def address(self) -> str:
        """Where the sender posts: the group, or its topic (`chat#topic`, read by `telegram_sending.TelegramSender`)."""
        return f"{self.chat}#{self.topic}" if self.topic else self.chat


def _group_of(session: Session, message: OutboxMessage, person: Person, identities: dict[str, str]) -> _Group | None:
    """The group chat a reporter-side notification goes to: a ticket reported in a group keeps the group as the
    place to answer (a Telegram bot cannot even write first to someone who never opened a chat with it). None
    for anything else: tickets reported 1:1, and staff (an engineer reporting in a group still gets their cards,
    and their news of it, 1:1)."""
    if message.ticket_id is None or person.role != "reporter":
        return None
    ticket = session.get(Ticket, message.ticket_id)
    if ticket is None or ticket.chat_id is None or ticket.channel not in GROUP_PLATFORMS \
            or identities.get(ticket.channel) in (None, ticket.chat_id):
        return None
    if person.id == ticket.reporter_id:
        return _Group(ticket.chat_id, reporter=True, topic=ticket.chat_thread)
    joined = session.scalars(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "also_reported",
        TicketEvent.actor_id == person.id)).first()
    return _Group(ticket.chat_id, reporter=False) if joined is not None else None


def _in_war_room(session: Session, incident_id: object, platform: str, address: str) -> bool:
    """Whether the incident's group on this platform already shows a war-room message to this person."""
    if not isinstance(incident_id, int):
        return False
    incident = session.get(Incident, incident_id)
    room = (incident.war_room or {}).get(platform) if incident is not None else None
    if not isinstance(room, dict):
        return False
    if platform == "wecom":
        return address in room.get("members", [])
    return platform == "telegram"  # the topic is in the desk's supergroup, which the engineers read


class DeliveryLoop:
    """Runs a Deliverer in a background thread, woken early when new notifications are written, together
    with the desk's other periodic jobs (SLA clocks); each job returns how much it did."""

    def __init__(self, deliverer: Deliverer, *, poll_seconds: float, jobs: Sequence[Callable[[], int]] = ()) -> None:
        self._deliverer = deliverer
        self._jobs = jobs  # the caller may add jobs after building the loop
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="wuyou-delivery", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Deliver until stopped; errors are logged and retried on the next round. A wake-up (a commit that
        queued notifications) runs a delivery round; the other jobs run every `poll_seconds`, or again at once
        while they find work — not at every commit, which under a storm is hundreds of times a second."""
        jobs_due = 0.0
        while not self._stop.is_set():
            busy = jobs_busy = 0
            if time.monotonic() >= jobs_due:
                for job in self._jobs:
                    try:
                        jobs_busy += job()
                    except Exception:
                        log.exception("periodic job %s failed", getattr(job, "__name__", job))
                jobs_due = time.monotonic() + (0 if jobs_busy else self._poll)
            try:
                busy = self._deliverer.run_once()
            except Exception:
                log.exception("delivery round failed")
            if not busy and not jobs_busy:
                self._wake.wait(max(0.0, min(self._poll, jobs_due - time.monotonic())))
                self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
