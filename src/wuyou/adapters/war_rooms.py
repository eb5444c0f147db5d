"""War-rooms on the chat platforms: a WeCom app group chat (`appchat`, push-only) and a Telegram forum topic in
the account's `war_room_chat`, created for each open incident and kept in step with its timeline.

A worker job: each round takes the open incidents `FOR UPDATE SKIP LOCKED`, creates the rooms still missing,
adds members who joined since, and sends every timeline entry not yet mirrored (several in one message, so
a busy incident stays within the platforms' group quotas). The last mirrored entry is kept on the incident
in the same transaction; a platform error leaves it where it was, so the next round tries again."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from wuyou.adapters.channels import Channels
from wuyou.adapters.telegram_sending import TelegramSender
from wuyou.adapters.wecom import AppChat
from wuyou.desk.incidents import report, service
from wuyou.desk.incidents.models import OPEN_STATUSES, Incident, IncidentEvent
from wuyou.desk.org import identities_of
from wuyou.i18n import Catalog
from wuyou.store import StateStore

log = logging.getLogger(__name__)
MAX_LINES = 20  # timeline entries per room message
AFTER_RESOLVED = timedelta(hours=1)  # rooms still get the last entries for this long after resolution


class WarRooms:
    def __init__(self, *, sessions: sessionmaker[Session], channels: Channels, store: StateStore, catalog: Catalog,
                 tz: ZoneInfo, link_base: str, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._tz = tz
        self._link_base = link_base
        self._clock = clock
        self._wecom = next(iter(channels.wecom.values()), None)
        self._wecom_chats = AppChat(self._wecom, store) if self._wecom else None
        tg = next((a for a in channels.telegram.values() if a.war_room_chat), None)
        self._telegram = tg
        self._tg_sender = TelegramSender(tg, store) if tg else None

    @property
    def enabled(self) -> bool:
        return self._wecom_chats is not None or self._tg_sender is not None

    def run_once(self) -> int:
        """One round over the open incidents; returns how many room messages were sent."""
        if not self.enabled:
            return 0
        sent = 0
        now = self._clock()
        with self._sessions() as session:
            rows = list(session.scalars(
                select(Incident).where(or_(Incident.status.in_(OPEN_STATUSES),
                                           Incident.resolved_at >= now - AFTER_RESOLVED))
                .order_by(Incident.id).limit(50).with_for_update(skip_locked=True, of=Incident)))
            for incident in rows:
                rooms = copy.deepcopy(incident.war_room or {})  # a new value, or the JSON change goes unseen
                sent += self._wecom_room(session, incident, rooms)
                sent += self._telegram_room(session, incident, rooms)
                incident.war_room = rooms
            session.commit()  # the locks are held to the end: another worker skips these incidents
        return sent

    # --- WeCom ------------------------------------------------------------------------------------------------

    def _wecom_room(self, session: Session, incident: Incident, rooms: dict[str, Any]) -> int:
        if self._wecom_chats is None or self._wecom is None:
            return 0
        ids = self._wecom_ids(session, incident)
        room = rooms.get("wecom")
        try:
            if room is None:
                if len(ids) < 2 or incident.status not in OPEN_STATUSES:
                    return 0  # a group takes 2 members at least
                owner = ids.get(incident.commander_id or "") or next(iter(ids.values()))
                chat = self._wecom_chats.create(chat_id=f"inc{incident.id}", owner=owner, members=list(ids.values()),
                                                name=f"{incident.ref} {incident.title}"[:50])
                room = {"account": self._wecom.name, "chat": chat, "members": sorted(ids.values()), "last_event": 0}
                rooms["wecom"] = room
                self._wecom_chats.send(chat_id=chat, text=self._catalog.t(
                    "war_room_wecom_intro", incident=incident.ref, title=incident.title,
                    url=f"{self._link_base}/incidents/{incident.ref}"))
            new = sorted(set(ids.values()) - set(room.get("members", [])))
            if new:
                self._wecom_chats.add_members(chat_id=room["chat"], members=new)
                room["members"] = sorted({*room.get("members", []), *new})
            chats = self._wecom_chats
            return self._mirror(session, incident, room, lambda text, first: chats.send(chat_id=room["chat"],
                                                                                       text=text))
        except Exception as exc:
            log.warning("WeCom war-room of %s: %s", incident.ref, exc)
            return 0

    def _wecom_ids(self, session: Session, incident: Incident) -> dict[str, str]:
        out: dict[str, str] = {}
        for person in service.room(session=session, incident=incident):
            wecom = identities_of(session=session, person_id=person.id).get("wecom")
            if wecom:
                out[person.id] = wecom
        return out

    # --- Telegram ---------------------------------------------------------------------------------------------

    def _telegram_room(self, session: Session, incident: Incident, rooms: dict[str, Any]) -> int:
        if self._tg_sender is None or self._telegram is None:
            return 0
        room = rooms.get("telegram")
        try:
            if room is None:
                if incident.status not in OPEN_STATUSES:
                    return 0
                chat = str(self._telegram.war_room_chat)
                topic = self._tg_sender.create_topic(chat_id=chat, name=f"{incident.ref} {incident.title}")
                room = {"account": self._telegram.name, "chat": chat, "topic": topic, "last_event": 0}
                rooms["telegram"] = room
            sender = self._tg_sender
            return self._mirror(session, incident, room, lambda text, first: sender.post(
                chat_id=room["chat"], text=text, thread_id=room["topic"], key=f"room:{incident.id}:tg:{first}"))
        except Exception as exc:
            log.warning("Telegram war-room of %s: %s", incident.ref, exc)
            return 0

    # --- mirroring --------------------------------------------------------------------------------------------

    def _mirror(self, session: Session, incident: Incident, room: dict[str, Any],
                send: Callable[[str, int], None]) -> int:
        """Send the timeline entries after `last_event`, a batch per message; advance after each send."""
        events = list(session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                                  IncidentEvent.id > int(room.get("last_event", 0)))
                                      .order_by(IncidentEvent.id)))
        sent = 0
        for start in range(0, len(events), MAX_LINES):
            batch = events[start:start + MAX_LINES]
            lines = [f"{e.at.astimezone(self._tz):%H:%M} 【{incident.ref}】"
                     f"{self._catalog.t(report.event_key(e), **report.event_params(e))}" for e in batch]
            send("\n".join(lines), batch[0].id)
            room["last_event"] = batch[-1].id
            sent += 1
        return sent
