"""The composition root: the one place that builds concrete objects from settings."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine as DbEngine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wuyou.adapters.channels import Channels, load_channels
from wuyou.adapters.delivery import ChannelSender, Deliverer, DeliveryLoop, HttpMailboxSender
from wuyou.adapters.settings import Settings
from wuyou.adapters.store_trips import StoreTrips
from wuyou.bot.engine import Engine, InboundLimits
from wuyou.bot.intake import Intake
from wuyou.bot.surge import SurgeWatch
from wuyou.db import make_engine, make_session_factory, reading, utcnow
from wuyou.desk import conversations, housekeeping, passwords, sla, surge, ticket_pages
from wuyou.desk.incidents import oncall
from wuyou.desk.incidents import service as incidents
from wuyou.desk.media import FolderMedia, MediaStore
from wuyou.desk.models import Person
from wuyou.desk.notices import service as notice_service
from wuyou.desk.org import import_org, load_org_file
from wuyou.i18n import Catalog
from wuyou.kb import articles, documents
from wuyou.kb.index import LiveIndex
from wuyou.store import MemoryStore, RedisStore, StateStore

if TYPE_CHECKING:
    from wuyou.adapters.war_rooms import WarRooms
    from wuyou.adapters.webhook_sender import WebhookSender

log = logging.getLogger(__name__)


GC_THRESHOLDS = (50_000, 20, 20)  # young objects per collection (default 700), then collections per older one


@dataclass
class Desk:
    """Everything a server, worker or CLI command needs, wired together."""

    settings: Settings
    db: DbEngine
    sessions: sessionmaker[Session]
    store: StateStore
    catalog: Catalog
    bot: Engine
    deliverer: Deliverer
    loop: DeliveryLoop
    clock: Callable[[], datetime]
    channels: Channels
    queue_rules: housekeeping.Rules
    intake: Intake  # where the platform adapters hand their messages (batched for the engine)
    trips: StoreTrips  # the webhooks' state-store look-ups, batched off the event loop
    war_rooms: WarRooms | None = None  # groups and topics on the chat platforms, when configured
    webhooks: WebhookSender | None = None  # outgoing webhook deliveries
    digest_week: date | None = None  # the last week whose digests this process saw delivered

    def warm_up(self) -> None:
        """Before the first message: build the knowledge-base index and the surge window it would otherwise wait
        for. A database still unreachable at start-up leaves that to the first message (which is told to come
        again until the database is back)."""
        try:
            with self.sessions() as session:
                reading(session)  # (on SQLite, other processes keep writing meanwhile)
                self.bot.index.matcher(session)
                self.bot.surge.load(session=session, now=self.clock())
                session.commit()
        except Exception as exc:
            log.warning("warm-up skipped, the first messages will build the KB index: %s", exc)

    def sla_round(self) -> int:
        """Fire the SLA warnings, breaches and escalations that are due (one worker at a time per clock)."""
        with self.sessions() as session:
            handled = sla.check_due(session=session, now=self.clock())
            session.commit()
        return handled

    def housekeeping_round(self) -> int:
        """Unclaimed reminders, auto-release of idle claims, unanswered questions reminded and then resolved,
        auto-close of unanswered resolutions; old message receipts forgotten."""
        with self.sessions() as session:
            handled = housekeeping.run(session=session, now=self.clock(), rules=self.queue_rules)
            handled += conversations.purge(session=session, now=self.clock())
            session.commit()
        return handled

    def incidents_round(self) -> int:
        """Escalate on-call pages nobody acknowledged in time (incidents' and P1 tickets'); remind incidents overdue
        for a status update."""
        with self.sessions() as session:
            now = self.clock()
            handled = oncall.escalate_due(session=session, now=now) + incidents.remind_updates(session=session, now=now)
            handled += ticket_pages.escalate_due(session=session, now=now)
            handled += ticket_pages.sweep(session=session, now=now, tz=self.bot.tz.key)
            handled += incidents.link_stragglers(session=session, now=now)
            session.commit()
        return handled

    def notices_round(self) -> int:
        """Send the scheduled notices that are due; chase branches silent on an important notice."""
        with self.sessions() as session:
            now = self.clock()
            handled = notice_service.send_due(session=session, now=now) + notice_service.remind(session=session,
                                                                                               now=now)
            session.commit()
        return handled

    def digests_round(self) -> int:
        """From Monday 08:00, last week's digest to each lead and admin, once (checked again only when the week
        this process last saw done has passed)."""
        from wuyou.adapters import digests

        now = self.clock()
        week = digests.last_full_week(now, self.bot.tz)
        if self.digest_week == week:
            return 0
        sent = digests.deliver_due(sessions=self.sessions, index=self.bot.index, tz=self.bot.tz, now=now,
                                   link_base=self.settings.link_base)
        if now >= digests.starts_at(week + timedelta(days=7), self.bot.tz):
            self.digest_week = week
        return sent

    def close(self) -> None:
        self.intake.close()
        self.trips.close()
        self.loop.stop()
        self.db.dispose()


def build_store(settings: Settings) -> StateStore:
    if settings.redis_url:
        return RedisStore(settings.redis_url, prefix=settings.redis_prefix, sentinels=settings.redis_sentinels,
                          master=settings.redis_sentinel_master)
    return MemoryStore()


def queue_rules(s: Settings) -> housekeeping.Rules:
    """The queue-care rules the settings ask for."""
    return housekeeping.Rules(
        remind_unclaimed_after=timedelta(minutes=s.remind_unclaimed_minutes),
        remind_unclaimed_times=s.remind_unclaimed_times,
        release_idle_claims_after=timedelta(minutes=s.auto_release_minutes) if s.auto_release_minutes else None,
        close_unconfirmed_after=timedelta(days=s.auto_close_days),
        remind_waiting_after=timedelta(hours=s.remind_waiting_hours),
        resolve_waiting_after=timedelta(days=s.resolve_waiting_days) if s.resolve_waiting_days else None,
    )


def surge_rules(s: Settings) -> surge.Rules:
    """The surge thresholds the settings ask for."""
    return surge.Rules(min_reports=s.surge_min_reports, min_branches=s.surge_min_branches,
                       window=timedelta(minutes=s.surge_window_minutes), auto_reports=s.surge_auto_reports,
                       auto_branches=s.surge_auto_branches)


def platform_senders(channels: Channels, store: StateStore) -> list[ChannelSender]:
    """One sender per platform with a configured account (the first account of each), in the order a
    person's identities are tried: the engineers' work apps first, WeChat, then the HTTP mailbox."""
    senders: list[ChannelSender] = []
    if channels.telegram:
        from wuyou.adapters.telegram_sending import TelegramSender

        senders.append(TelegramSender(next(iter(channels.telegram.values())), store))
    if channels.wecom:
        from wuyou.adapters.wecom import WeComSender

        senders.append(WeComSender(next(iter(channels.wecom.values())), store))
    if channels.wechat:
        from wuyou.adapters.wechat import WeChatSender

        senders.append(WeChatSender(next(iter(channels.wechat.values())), store))
    senders.append(HttpMailboxSender())
    return senders


def build_media(settings: Settings) -> MediaStore:
    """The media folder, or the S3 bucket when one is configured."""
    if settings.media_s3_bucket:
        from wuyou.adapters.s3_media import S3Media

        return S3Media(bucket=settings.media_s3_bucket, endpoint_url=settings.media_s3_endpoint_url,
                       region=settings.media_s3_region, access_key=settings.media_s3_access_key,
                       secret_key=settings.media_s3_secret_key)
    return FolderMedia(settings.media_dir)


def settle_heap() -> None:
    """For a server or worker process, once warmed up: take everything built so far out of the garbage
    collector's sight (`gc.freeze`) and collect the young generations less often. The knowledge-base index, the
    directory and the libraries are a million objects that never become garbage; under a storm a full collection
    looked at each of them again every few seconds, a pause of 100-200 ms (the storm's p99 latency)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def build(settings: Settings, *, clock: Callable[[], datetime] = utcnow, store: StateStore | None = None) -> Desk:
    """Wire a desk from settings (the database schema must already be migrated)."""
    db = make_engine(settings.database_url, **settings.engine_options)
    sessions = make_session_factory(db)
    catalog = Catalog(settings.locale)
    tz = ZoneInfo(settings.timezone)
    store = store if store is not None else build_store(settings)
    channels = load_channels(settings.channels_file)
    deliverer = Deliverer(session_factory=sessions, catalog=catalog, senders=platform_senders(channels, store),
                          clock=clock, tz=tz, link_base=settings.link_base)
    jobs: list[Callable[[], int]] = []
    loop = DeliveryLoop(deliverer, poll_seconds=settings.worker_poll_seconds, jobs=jobs)
    bot = Engine(
        session_factory=sessions,
        store=store,
        index=LiveIndex(),
        catalog=catalog,
        clock=clock,
        tz=tz,
        public_url=settings.link_base,
        media=build_media(settings),
        on_commit=loop.wake,
        surge=SurgeWatch(surge_rules(settings)),
        group_for=timedelta(minutes=settings.group_tickets_minutes),
        limits=InboundLimits(person_per_window=settings.rate_person_per_minute,
                             staff_per_window=settings.rate_staff_per_minute,
                             branch_per_window=settings.rate_branch_per_minute),
    )
    desk = Desk(settings, db, sessions, bot.store, catalog, bot, deliverer, loop, clock, channels,
                queue_rules(settings), Intake(bot), StoreTrips(bot.store))
    jobs.extend((desk.sla_round, desk.housekeeping_round, desk.incidents_round, desk.notices_round,
                 desk.digests_round))
    from wuyou.adapters.webhook_sender import WebhookSender

    desk.webhooks = WebhookSender(sessions=sessions, clock=clock)
    jobs.append(desk.webhooks.run_once)
    if channels.wechat:
        from wuyou.adapters.wechat import take_kept

        jobs.append(lambda: take_kept(desk))
    if channels.wecom or any(a.war_room_chat for a in channels.telegram.values()):
        from wuyou.adapters.war_rooms import WarRooms

        rooms = WarRooms(sessions=sessions, channels=channels, store=store, catalog=catalog, tz=tz,
                         link_base=settings.link_base, clock=clock)
        desk.war_rooms = rooms
        jobs.append(rooms.run_once)
    return desk


DEMO_PASSWORD = "wuyou-demo"


def load_demo(desk: Desk, directory: Path) -> bool:
    """Load the demo org and KB from `directory` into an empty database; False if not empty."""
    with desk.sessions() as session:
        if session.scalar(select(Person.id).limit(1)) is not None:
            return False
        import_org(session=session, doc=load_org_file((directory / "org.yaml").read_text(encoding="utf-8")))
        articles.upsert(session=session, docs=documents.read_dir(directory / "kb"), now=utcnow())
        # Demo people sign in to the console with a known password — reporters too, to open their tickets' pages
        # (a real org signs in by chat code or sets passwords with `wuyou passwd`).
        demo_hash = passwords.hash_password(DEMO_PASSWORD)
        for person in session.scalars(select(Person)):
            person.password_hash = demo_hash
        session.commit()
    log.info("loaded the demo org and knowledge base from %s", directory)
    return True
