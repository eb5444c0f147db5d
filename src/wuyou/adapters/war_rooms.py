"""War-rooms on the chat platforms: a WeCom app group chat (`appchat`, push-only) and a Telegram forum topic in
the account's `war_room_chat`, created for each open incident and kept in step with its timeline.

A worker job. Each round takes the open incidents one at a time `FOR UPDATE SKIP LOCKED` (so two workers never
mirror one incident twice, and no incident stays locked while another one's rooms are being written to),
creates the rooms still missing, adds members who joined since, and sends every timeline entry not yet
mirrored, several in one message, so a busy incident stays within the groups' quotas (Telegram: 20 a minute
per group, kept by `TelegramSender`'s limiter). The last mirrored entry is kept on the incident in the same
transaction as the sends; a platform error leaves it where it was, and the next round tries again.

`incident.war_room` = {"wecom": {"account", "chat", "members", "last_event"},
                       "telegram": {"account", "chat", "topic", "last_event"}}.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker
from telegram.error import TelegramError
from wechatpy.exceptions import WeChatClientException  # type: ignore[import-untyped]

from wuyou.adapters.channels import Channels
from wuyou.adapters.delivery import DeliveryFailed
from wuyou.adapters.telegram_sending import TelegramSender
from wuyou.adapters.wecom import AppChat
from wuyou.desk.incidents import oncall, report
from wuyou.desk.incidents.models import OPEN_STATUSES, Incident, IncidentEvent
from wuyou.desk.org import identities_of
from wuyou.i18n import Catalog
from wuyou.store import StateStore

log = logging.getLogger(__name__)

PLATFORM_ERRORS = (DeliveryFailed, TelegramError, WeChatClientException, requests.RequestException)
MAX_LINES = 20  # timeline entries per room message
WECOM_BYTES = 2000  # an appchat text takes 2048 bytes
TELEGRAM_UNITS = 4000  # a Telegram message takes 4096 UTF-16 units
AFTER_RESOLVED = timedelta(hours=1)  # the rooms still get the resolution and what follows for this long
INCIDENTS_PER_ROUND = 50
CREATED_TTL = 7 * 24 * 3600


class WarRooms:
    """Opens and feeds the incidents' groups and topics; `run_once` is the worker's job."""

    def __init__(self, *, sessions: sessionmaker[Session], channels: Channels, store: StateStore, catalog: Catalog,
                 tz: ZoneInfo, link_base: str, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._store = store
        self._catalog = catalog
        self._tz = tz
        self._link_base = link_base.rstrip("/")
        self._clock = clock
        self._wecom = next(iter(channels.wecom.values()), None)
        self._wecom_chats = AppChat(self._wecom, store) if self._wecom else None
        self._telegram = next((a for a in channels.telegram.values() if a.war_room_chat), None)
        self._tg_sender = TelegramSender(self._telegram, store) if self._telegram else None

    def run_once(self) -> int:
        """One round over the open (and just resolved) incidents; returns how many room messages were sent."""
        if self._wecom_chats is None and self._tg_sender is None:
            return 0
        now = self._clock()
        with self._sessions() as session:
            ids = list(session.scalars(
                select(Incident.id).where(or_(Incident.status.in_(OPEN_STATUSES),
                                              Incident.resolved_at >= now - AFTER_RESOLVED))
                .order_by(Incident.id).limit(INCIDENTS_PER_ROUND)))
        sent = 0
        for incident_id in ids:
            try:
                sent += self._round(incident_id)
            except Exception:  # a database fault on one incident must not stop the others, nor the worker
                log.exception("war-rooms of INC-%s", incident_id)
        return sent

    def _round(self, incident_id: int) -> int:
        with self._sessions() as session:
            incident = session.scalars(select(Incident).where(Incident.id == incident_id)
                                       .with_for_update(skip_locked=True, of=Incident)).first()
            if incident is None:
                return 0  # another worker has it this round
            rooms = copy.deepcopy(incident.war_room or {})  # a new value, or the JSON change goes unseen
            sent = self._wecom_room(session, incident, rooms) + self._telegram_room(session, incident, rooms)
            if rooms != incident.war_room:
                incident.war_room = rooms
            session.commit()
        return sent

    # --- WeCom ------------------------------------------------------------------------------------------------

    def _wecom_room(self, session: Session, incident: Incident, rooms: dict[str, Any]) -> int:
        chats, account = self._wecom_chats, self._wecom
        if chats is None or account is None:
            return 0
        try:
            ids = self._wecom_ids(session, incident)
            room = rooms.get("wecom") or self._remembered("wecom", incident)
            if room is None:
                if len(ids) < 2 or incident.status not in OPEN_STATUSES:
                    return 0  # a group takes 2 members at least
                owner = ids.get(incident.commander_id or "") or next(iter(ids.values()))
                chat = chats.create(chat_id=f"inc{incident.id}", owner=owner, members=list(ids.values()),
                                    name=f"{incident.ref} {incident.title}"[:50])
                room = {"account": account.name, "chat": chat, "members": sorted(ids.values()), "last_event": 0}
                self._remember("wecom", incident, room)
            rooms["wecom"] = room
            new = sorted(set(ids.values()) - set(room.get("members", [])))
            if new and incident.status in OPEN_STATUSES:
                chats.add_members(chat_id=room["chat"], members=new)
                room["members"] = sorted({*room.get("members", []), *new})
            # An app group cannot be answered in (its first message says where commands go), unless the corp's AI
            # bot is in it too (adapters.wecom_bot).
            intro = "" if room.get("last_event") else self._catalog.t(
                "war_room_wecom_intro_bot" if account.bot_token else "war_room_wecom_intro", incident=incident.ref,
                title=incident.title, url=f"{self._link_base}/incidents/{incident.ref}")
            return self._mirror(session, incident, room, fits=_fits_bytes(WECOM_BYTES), intro=intro,
                                send=lambda text, first, last: chats.send(chat_id=room["chat"], text=text))
        except PLATFORM_ERRORS as exc:
            log.warning("WeCom war-room of %s: %s", incident.ref, exc)
            return 0

    def _wecom_ids(self, session: Session, incident: Incident) -> dict[str, str]:
        """The war-room's members who are on WeCom: person id → WeCom userid, in the room's order."""
        out: dict[str, str] = {}
        for person in oncall.room(session=session, incident=incident):
            wecom = identities_of(session=session, person_id=person.id).get("wecom")
            if wecom:
                out[person.id] = wecom
        return out

    # --- Telegram ---------------------------------------------------------------------------------------------

    def _telegram_room(self, session: Session, incident: Incident, rooms: dict[str, Any]) -> int:
        sender, account = self._tg_sender, self._telegram
        if sender is None or account is None:
            return 0
        try:
            room = rooms.get("telegram") or self._remembered("telegram", incident)
            if room is None:
                if incident.status not in OPEN_STATUSES:
                    return 0
                chat = str(account.war_room_chat)
                topic = sender.create_topic(chat_id=chat, name=f"{incident.ref} {incident.title}")
                room = {"account": account.name, "chat": chat, "topic": topic, "last_event": 0}
                self._remember("telegram", incident, room)
            rooms["telegram"] = room
            return self._mirror(session, incident, room, fits=_fits_units(TELEGRAM_UNITS), intro="",
                                send=lambda text, first, last: sender.post(
                                    chat_id=room["chat"], text=text, thread_id=room["topic"],
                                    key=f"{_room_key('telegram', incident)}:{first}-{last}"))
        except PLATFORM_ERRORS as exc:
            log.warning("Telegram war-room of %s: %s", incident.ref, exc)
            return 0

    # --- both -------------------------------------------------------------------------------------------------

    def _remembered(self, platform: str, incident: Incident) -> dict[str, Any] | None:
        """A room created in a round whose commit was lost: creating it again would open a second one."""
        raw = self._store.get(_room_key(platform, incident))
        return dict(json.loads(raw)) if raw else None

    def _remember(self, platform: str, incident: Incident, room: dict[str, Any]) -> None:
        self._store.set(_room_key(platform, incident), json.dumps(room), ttl=CREATED_TTL)

    def _mirror(self, session: Session, incident: Incident, room: dict[str, Any], *, fits: Callable[[str], bool],
                intro: str, send: Callable[[str, int, int], None]) -> int:
        """Send the timeline entries after `last_event`, several per message; advance after each send."""
        events = list(session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                                  IncidentEvent.id > int(room.get("last_event") or 0))
                                      .order_by(IncidentEvent.id)))
        lines = [(e.id, self._line(incident, e)) for e in events]
        sent = 0
        for batch in _batches(lines, fits, head=intro):
            text = "\n".join([intro, *(line for _, line in batch)] if intro else [line for _, line in batch])
            send(text, batch[0][0], batch[-1][0])
            room["last_event"] = batch[-1][0]
            intro = ""
            sent += 1
        return sent

    def _line(self, incident: Incident, e: IncidentEvent) -> str:
        text = self._catalog.t(report.event_key(e), **report.event_params(e))
        return f"{e.at.astimezone(self._tz):%H:%M} 【{incident.ref}】{text}"


def _room_key(platform: str, incident: Incident) -> str:
    # The declaration time keeps a reused id (a restored database) from meeting an old incident's room or sends.
    return f"warroom:{platform}:{incident.id}:{incident.declared_at.timestamp():.0f}"


def _fits_bytes(limit: int) -> Callable[[str], bool]:
    return lambda text: len(text.encode("utf-8")) <= limit


def _fits_units(limit: int) -> Callable[[str], bool]:
    return lambda text: len(text.encode("utf-16-le")) // 2 <= limit


def _batches(lines: Sequence[tuple[int, str]], fits: Callable[[str], bool], *,
             head: str = "") -> Iterator[list[tuple[int, str]]]:
    """Consecutive runs of at most MAX_LINES lines whose joined text fits (the first one under `head`); a line
    too long by itself is cut short."""
    batch: list[tuple[int, str]] = []
    for event_id, line in lines:
        while not fits("\n".join(filter(None, [head, line]))) and len(line) > 1:
            line = line[:len(line) * 3 // 4 - 1] + "…"  # a long note: the board has it whole
        joined = "\n".join(filter(None, [head, *(text for _, text in batch), line]))
        if batch and (len(batch) == MAX_LINES or not fits(joined)):
            yield batch
            batch, head = [], ""
        batch.append((event_id, line))
    if batch:
        yield batch
