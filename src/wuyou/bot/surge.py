"""Every new fault report goes past the surge watch: recorded, compared with the recent ones, and either
recognised as part of an open incident (a known issue), or counted towards a surge that is offered to the
duty lead or declared automatically.

The detector's window lives in this process and is rebuilt from the recorded reports when the process
starts; offers are unique per group in the database, so two processes never offer the same group twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from wuyou.db import bulk
from wuyou.desk.incidents import service as incidents
from wuyou.desk.incidents.models import OPEN_STATUSES, FaultReport, Incident, SurgeOffer
from wuyou.desk.models import Branch, Category, Person, SuggestionSession, Ticket
from wuyou.desk.org import region_chain
from wuyou.desk.surge import Detector, Group, Observation, Report, Rules, says_again, similarity
from wuyou.kb.signature import signature
from wuyou.kb.text import tidy, to_simplified

PROFILE_SIZE = 50  # reports remembered per open incident, to recognise its later reports
PROFILE_SHARE = 0.25  # share of them a later report must resemble
FOLLOW_UP_WITHIN = timedelta(hours=2)
# A report and the suggestions that answered it start together (one turn); a report another process recorded is
# counted here a little later.
ANSWERED_WITHIN = timedelta(minutes=2)
SYNC_BATCH = 500  # reports read per statement when catching up with the other processes
_COLUMNS = (FaultReport.id, FaultReport.at, FaultReport.person_id, FaultReport.branch_code, FaultReport.text)
# (built once: every batch runs them)
_NEWER = select(*_COLUMNS).where(FaultReport.id > bindparam("after")).order_by(FaultReport.id).limit(SYNC_BATCH)
# The open incidents; of those a monitoring alert declared, what they may affect (a region and specialities: they
# have no reports to compare with). One statement per look, whatever the storm.
_OPEN = select(Incident.id, Incident.source, Incident.region_code, Incident.specialities).where(
    Incident.status.in_(OPEN_STATUSES)).order_by(Incident.id)


@dataclass(frozen=True)
class Outcome:
    """What a report led to: the recorded report, and the open incident it belongs to, if any."""

    report: FaultReport
    known: Incident | None


class SurgeWatch:
    """The detector of one desk process, with the open incidents' report profiles."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.detector = Detector(rules)
        self._profiles: dict[int, list[dict[int, float]]] = {}
        self._lock = threading.Lock()
        self._loaded = False
        self._watermark = 0  # the highest report id read from the database
        self._own: set[int] = set()  # reports this process recorded above the watermark
        self._last_at: datetime | None = None
        self._alerted: list[tuple[int, str | None, list[str]]] = []  # (id, region, specialities), as of the last look

    def _observe(self, report: Report) -> Observation:
        # Reports of other processes arrive a little late: they count as of now, keeping the window in order.
        if self._last_at is not None and report.at < self._last_at:
            report = replace(report, at=self._last_at)
        self._last_at = report.at
        return self.detector.observe(report)

    def _sync(self, session: Session, now: datetime) -> None:
        """Feed in the reports other server processes recorded since the last look, and learn of incidents
        they declared, so that every process sees the whole stream (the first call rebuilds the window)."""
        if not self._loaded:  # the window's reports, by time (the index on `at`), after the ordinary traffic
            self._count_background(session, now)  # before them
            fresh = list(session.execute(select(*_COLUMNS).where(FaultReport.at >= now - self.detector.rules.window)
                                         .order_by(FaultReport.at, FaultReport.id)))
        else:  # the few recorded since the last look: a range of the primary key, whatever the table's size
            fresh = []
            while True:
                after = fresh[-1].id if fresh else self._watermark
                batch = list(session.execute(_NEWER, {"after": after}))
                fresh += batch
                if len(batch) < SYNC_BATCH:
                    break
            fresh.sort(key=lambda r: (r.at, r.id))
        for row in fresh:
            self._watermark = max(self._watermark, row.id)
            if row.id in self._own:
                continue
            self._observe(Report(row.id, row.at, row.person_id, row.branch_code, signature(row.text),
                                 again=says_again(row.text)))
        self._own = {i for i in self._own if i > self._watermark}
        if not self._loaded:
            self._watermark = max(self._watermark, session.scalar(select(func.max(FaultReport.id))) or 0)
        self._loaded = True
        open_rows = session.execute(_OPEN).all()
        open_ids = {row.id for row in open_rows}
        self._alerted = _alert_areas(open_rows)
        for incident_id in open_ids - set(self._profiles):
            texts = session.scalars(select(FaultReport.text).where(FaultReport.incident_id == incident_id)
                                    .order_by(FaultReport.id.desc()).limit(PROFILE_SIZE)).all()
            self._profiles[incident_id] = [self.detector.weigh(signature(t)) for t in texts]

    def _count_background(self, session: Session, now: datetime) -> None:
        """Count the reports recorded before the window (the newest `background` of them), as if this process had
        seen them leave it: which words every everyday report has is known at once. Without them a process started
        in the middle of the day took the everyday faults of the next half hour for a surge."""
        texts = session.scalars(select(FaultReport.text).where(FaultReport.at < now - self.detector.rules.window)
                                .order_by(FaultReport.at.desc()).limit(self.detector.rules.background)).all()
        for text in reversed(texts):
            self.detector.count_past(signature(text))

    def load(self, *, session: Session, now: datetime) -> None:
        """Read in what the other processes recorded since the last look (the first look rebuilds the window).
        Called in a transaction that only reads, before the one recording new reports: that one then has little
        left to catch up on while it holds the database's write lock (SQLite)."""
        with self._lock:
            self._sync(session, now)

    def report(self, *, session: Session, person: Person, text: str, channel: str, now: datetime,
               category: int | None = None) -> Outcome:
        """Record a new fault report (with the catalog leaf it is likely about, when known) and act on what it means
        for surges and open incidents."""
        return self.report_many(session=session, reports=[(person, text, channel)], now=now, categories=[category])[0]

    def report_many(self, *, session: Session, reports: Sequence[tuple[Person, str, str]],
                    now: datetime, categories: Sequence[int | None] | None = None,
                    signatures: Sequence[dict[int, float]] | None = None, loaded: bool = False) -> list[Outcome]:
        """`report` for several reports (person, text, channel) at once, in order: one look at what the other
        processes recorded, one statement recording them all (with the catalog leaf each is likely about, when
        the caller knows it: kept unless the report turns out to be a known issue). The texts' `signature`s may
        come computed (before the write lock is taken). `loaded`: the caller has just called `load`, so no second
        look now — what other processes record in between is read at the next `load`, a batch later, outside the
        write lock (they count as of then: the window stays in time order)."""
        with self._lock:
            if not loaded:
                self._sync(session, now)
            rows = [FaultReport(at=now, person_id=person.id, branch_code=person.branch_code, text=text[:2000],
                                channel=channel, category_id=category)
                    for (person, text, channel), category in zip(reports, categories or [None] * len(reports),
                                                                 strict=True)]
            written = bulk.inserted(session, rows)  # (one statement for them all, outside the ORM)
            ids = sorted(row.id for row in rows)
            if ids and ids[0] == self._watermark + 1 and ids[-1] - ids[0] == len(ids) - 1:
                self._watermark = ids[-1]  # nobody else's in between: nothing to read back next time
            else:
                self._own.update(ids)
            features = signatures or [signature(text) for _, text, _ in reports]
            outcomes = [self._act(session, row, person, text, sig, now)
                        for row, (person, text, _), sig in zip(rows, reports, features, strict=True)]
            for at, outcome in enumerate(outcomes):
                known = outcome.known
                if known is not None:
                    if written:  # its ticket is linked to it next: the row itself, in the session
                        report = session.get(FaultReport, outcome.report.id)
                        assert report is not None
                        report.incident_id = known.id
                        outcomes[at] = outcome = Outcome(report, known)
                    if known.category_id is not None:
                        # no articles are offered for a known issue: its ticket has the incident's category (one
                        # that has none, an alert's, takes the category the report was guessed to be about)
                        outcome.report.category_id = None
            return outcomes

    def _act(self, session: Session, row: FaultReport, person: Person, text: str, features: dict[int, float],
             now: datetime) -> Outcome:
        """What one recorded report means: part of an open incident, a surge declared or offered, or nothing."""
        observation = self._observe(Report(row.id, now, person.id, person.branch_code, features,
                                           again=says_again(text)))
        if observation.offer or observation.declare:
            observation = self._without_solved(session, observation, now)
        group = observation.group
        weighted = dict(group.reports[-1].features)
        known, alike = self._known(session, group, weighted)
        if known is None:
            known = self._follow_up(session, person, group, text, weighted, now)
        if known is None:
            known = self.alert_covers(session, person, row.category_id)
            alike = known is not None  # (its reports so far are this one: they make it recognisable by words)
        if known is not None:
            row.incident_id = known.id
            if alike:
                profile = self._profiles.setdefault(known.id, [])
                profile.append(dict(weighted))
                del profile[:-PROFILE_SIZE]
            return Outcome(row, known)
        if observation.declare:
            incident = self._declare_group(session, group, now)
            return Outcome(row, incident)
        if observation.offer:
            self._offer(session, group, now)  # the whole group: its offer is made (or brought up to date)
        elif group.offered_at is not None:
            offered = incidents.add_to_offer(session=session, group_key=group.id, report=row)
            if offered is None:
                self._offer(session, group, now)  # (another process offered it: made here too, or brought up to date)
            elif offered.status == "withdrawn":
                self._offer_again(session, offered, now)
        return Outcome(row, None)

    def _without_solved(self, session: Session, observation: Observation, now: datetime) -> Observation:
        """The observation, less the offer or the declaration that the group reaches only with reports the knowledge
        base solved: faults the reporters fixed themselves with an article (五个网点一分钟内都卡纸，四个按文章处理好了)
        are everyday faults, not a major incident. One look at the database, at a threshold only."""
        group, rules = observation.group, self.detector.rules
        recent = [(r.id, r.person, r.at) for r in group.reports if r.at >= now - rules.window]
        solved = _solved(session, recent, since=now - rules.window)
        if not solved:
            return observation
        offer, declare = self.detector.still_reaches(group, now, solved)
        return self.detector.withdraw(observation, offer=not offer, declare=not declare)

    def solved(self, *, session: Session, person: Person, now: datetime) -> None:
        """A reporter fixed their fault with an article the bot offered: an open offer of a major incident that
        counted their report is withdrawn when, without the reports the knowledge base solved, it no longer
        reaches the offer's threshold (the duty lead is told). It is offered again if more reports make it reach
        the threshold once more; its group can still reach the automatic declaration."""
        rules = self.detector.rules
        since = now - rules.window
        mine = set(session.scalars(select(FaultReport.id).where(FaultReport.person_id == person.id,
                                                                FaultReport.at >= since)))
        if not mine:
            return
        for offer in incidents.open_offers(session=session, since=since):
            if mine.isdisjoint(offer.report_ids):
                continue
            reaches, solved = self._reaches(session, offer, since)
            if not reaches:
                incidents.withdraw(session=session, offer=offer, solved=solved, now=now)

    def _reaches(self, session: Session, offer: SurgeOffer, since: datetime) -> tuple[bool, int]:
        """Whether the offer's reports reach its threshold without those the knowledge base solved (said since
        then), and how many it solved."""
        rows = session.execute(select(FaultReport.id, FaultReport.person_id, FaultReport.at, FaultReport.branch_code)
                               .where(FaultReport.id.in_(offer.report_ids))).all()
        solved = _solved(session, [(r.id, r.person_id, r.at) for r in rows], since=since)
        kept = [r for r in rows if r.id not in solved]
        people, branches = {r.person_id for r in kept}, {r.branch_code for r in kept if r.branch_code}
        return self.detector.rules.offers(len(people), len(branches)), len(solved)

    def _offer_again(self, session: Session, offer: SurgeOffer, now: datetime) -> None:
        """A withdrawn offer's group has one more report: offered again when it reaches the threshold without the
        reports the knowledge base solved (more branches said it, and did not fix it themselves)."""
        reaches, _ = self._reaches(session, offer, now - self.detector.rules.window)
        if reaches:
            rows = list(session.scalars(select(FaultReport).where(FaultReport.id.in_(offer.report_ids))
                                        .order_by(FaultReport.id)))
            incidents.offer_again(session=session, offer=offer, reports=rows, now=now)

    def _known(self, session: Session, group: Group, weighted: dict[int, float]) -> tuple[Incident | None, bool]:
        """The open incident whose reports this one resembles: it joined the incident's group, or it is
        like a good share of the incident's reports (the group itself is forgotten after the window)."""
        candidates: list[int] = []
        if group.incident_id is not None:
            candidates.append(group.incident_id)
        rules = self.detector.rules
        for incident_id, profile in self._profiles.items():
            if incident_id in candidates or not profile:
                continue
            hits = sum(similarity(weighted, p) >= rules.similarity for p in profile)
            if hits >= max(2.0, PROFILE_SHARE * len(profile)):
                candidates.append(incident_id)
        for incident_id in candidates:
            incident = session.get(Incident, incident_id)
            if incident is not None and incident.status in OPEN_STATUSES:
                return incident, True
            self._profiles.pop(incident_id, None)
        return None, False

    def alert_covers(self, session: Session, person: Person, category_id: int | None, *,
                     look: bool = False) -> Incident | None:
        """The open incident a monitoring alert declared for the reporter's region (or everywhere) and the speciality
        of the catalog leaf the report is likely about (conversations/08: the Jinan router is down and a Jinan
        branch says 网断了): part of it, though no report is like it yet — no reports made the incident. `look`:
        read the open alert incidents now (outside a report, whose look at the database reads them)."""
        if category_id is None or person.branch_code is None:  # (not `person.branch`: a batch loads it lazily)
            return None
        if look:
            self._alerted = _alert_areas(session.execute(_OPEN).all())
        if not self._alerted:
            return None
        category = session.get(Category, category_id)
        branch = session.get(Branch, person.branch_code)
        if category is None or not category.speciality or branch is None:
            return None
        regions = set(region_chain(session=session, region_code=branch.region_code))
        for incident_id, region, specialities in self._alerted:
            if category.speciality in specialities and (region is None or region in regions):
                incident = session.get(Incident, incident_id)
                if incident is not None and incident.status in OPEN_STATUSES:
                    return incident
        return None

    def _follow_up(self, session: Session, person: Person, group: Group, text: str, weighted: dict[int, float],
                   now: datetime) -> Incident | None:
        """"还是不行" from someone whose earlier report belongs to an open incident, that is like no other recent
        report and not unlike the incident's reports: the same fault again (not their next, different one)."""
        if len(group.reports) > 1 or not says_again(text):
            return None
        earlier = session.scalars(select(FaultReport).where(
            FaultReport.person_id == person.id, FaultReport.incident_id.is_not(None),
            FaultReport.at >= now - FOLLOW_UP_WITHIN).order_by(FaultReport.id.desc())).first()
        if earlier is None or earlier.incident_id is None:
            return None
        incident = session.get(Incident, earlier.incident_id)
        if incident is None or incident.status not in OPEN_STATUSES:
            return None
        profile = self._profiles.get(incident.id, [])
        near = max((similarity(weighted, p) for p in profile), default=0.0)
        return incident if near >= self.detector.rules.similarity else None

    def _rows(self, session: Session, group: Group) -> list[FaultReport]:
        ids = [r.id for r in group.reports]
        return list(session.scalars(select(FaultReport).where(FaultReport.id.in_(ids)).order_by(FaultReport.id)))

    def _offer(self, session: Session, group: Group, now: datetime, *, ask: bool = True) -> None:
        rows = self._rows(session, group)
        if rows:
            incidents.offer(session=session, group_key=group.id, reports=rows, title=_central(group, rows), now=now,
                            category=_category(session, rows), ask=ask)

    def _declare_group(self, session: Session, group: Group, now: datetime) -> Incident:
        rows = self._rows(session, group)
        self._offer(session, group, now, ask=False)  # (its row, for the record: nobody is asked, it is declared)
        offer_row = incidents.offer_for_group(session=session, group_key=group.id, lock=True)
        if offer_row is not None and offer_row.incident_id is not None:
            declared = session.get(Incident, offer_row.incident_id)  # another process was first
            if declared is not None:
                self.adopt(group=group, incident=declared)
                return declared
        branches = {r.branch_code for r in rows if r.branch_code}
        incident = incidents.declare(
            session=session, title=offer_row.title if offer_row else _central(group, rows),
            severity=incidents.suggested_severity(len(branches)), source="auto", now=now,
            category=_category(session, rows), reports=rows, offer_row=offer_row,
            answered=[group.reports[-1].person])  # (whose report declared it hears so in the reply)
        self.adopt(group=group, incident=incident)
        return incident

    def adopt(self, *, group: Group | None, incident: Incident, texts: Sequence[str] = ()) -> None:
        """Remember an incident's reports, so that its later reports are recognised as known."""
        with_reports = [dict(r.features) for r in group.reports] if group is not None else []
        with_reports += [self.detector.weigh(signature(t)) for t in texts]
        self._profiles[incident.id] = with_reports[-PROFILE_SIZE:]
        if group is not None:
            group.incident_id = incident.id
            self.detector.mark_declared(group, incident.declared_at)

    def group_of(self, report_ids: list[int]) -> Group | None:
        with self._lock:
            return next((g for g in (self.detector.group(i) for i in report_ids) if g is not None), None)


def _solved(session: Session, reports: Sequence[tuple[int, str, datetime]], *, since: datetime) -> set[int]:
    """Of reports (id, person, time), those whose reporter said an article the bot offered for them solved it: the
    suggestions that answered a report started with it (one turn; a report another process recorded is counted a
    little later). One statement."""
    if not reports:
        return set()
    rows = session.execute(select(SuggestionSession.person_id, SuggestionSession.started_at).where(
        SuggestionSession.person_id.in_({person for _, person, _ in reports}), SuggestionSession.outcome == "solved",
        SuggestionSession.started_at >= since - ANSWERED_WITHIN)).all()
    return {report for report, person, at in reports for who, started in rows
            if who == person and abs(started - at) <= ANSWERED_WITHIN}


def _alert_areas(rows: Sequence[Row[int, str, str | None, list[str]]]) -> list[tuple[int, str | None, list[str]]]:
    """(id, region, specialities) of the open incidents a monitoring alert declared, of `_OPEN`'s rows."""
    return [(row.id, row.region_code, list(row.specialities or [])) for row in rows if row.source == "alert"]


def _central(group: Group, rows: list[FaultReport]) -> str:
    """The title of a group: the text of the report most like the others (not a stray that came first), in
    Simplified characters — everyone involved reads it, and the duty lead's card, the war room and the
    post-incident report should not read 醫保結算失敗 because one reporter types Traditional."""
    texts = {r.id: r.text for r in rows}
    reports = [r for r in group.reports if r.id in texts]
    if not reports:
        return to_simplified(tidy(rows[0].text))
    best = max(reports, key=lambda r: (sum(similarity(r.features, o.features) for o in reports if o is not r), -r.id))
    return to_simplified(tidy(texts[best.id]))


def _category(session: Session, rows: list[FaultReport]) -> Category | None:
    """The category most of the group's tickets have, else the one most of its reports were guessed to be."""
    ids = [r.ticket_id for r in rows if r.ticket_id]
    counts = Counter(session.scalars(select(Ticket.category_id).where(Ticket.id.in_(ids),
                                                                      Ticket.category_id.is_not(None)))) if ids \
        else Counter[int]()
    if not counts:
        counts = Counter(r.category_id for r in rows if r.category_id)
    return session.get(Category, counts.most_common(1)[0][0]) if counts else None
