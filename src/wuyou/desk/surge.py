"""Surge detection: many similar fault reports from several branches in a short time.

Every new fault report (also one that never becomes a ticket) is compared with the recent ones. Reports are
compared as weighted feature sets (the bot cuts the text into words, synonym concepts and character /
pinyin bigrams; this module never sees text) by weighted Dice similarity, and a report joins the group of
the recent reports it resembles — groups that one report bridges are merged. When a group holds
`min_reports` reports from `min_branches` distinct branches inside `window`, it is offered to the duty lead
once; at `auto_reports` / `auto_branches` it is declared automatically.

Only recent reports are kept (a sliding window), and each new report is compared only with the recent
reports that share one of its rarest features (an inverted index whose lists are cut to the newest
entries), so the cost per report stays flat at storm rates.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, compress, islice, repeat
from operator import attrgetter, eq

_ID = attrgetter("id")


@dataclass(frozen=True)
class Rules:
    """Thresholds, configurable per desk. A lead tunes them on history with `wuyou replay`."""

    min_reports: int = 5
    min_branches: int = 3
    window: timedelta = timedelta(minutes=30)
    auto_reports: int = 10
    auto_branches: int = 6
    similarity: float = 0.2  # weighted Dice at or above which two reports are about the same fault
    repeat_within: timedelta = timedelta(minutes=10)  # a person's reports of one fault this close count once
    follow_up: timedelta = timedelta(minutes=20)  # "还是不行" from a reporter of a surging group joins it (their
    # next report in other words, like nothing of the group, is another fault: 扫码枪扫不出来了 after 医保刷不了)
    probe_features: int = 6  # how many of a report's rarest features find its candidates
    burst_features: int = 2  # … and how many of its words that are far commoner in the window than before it
    burst_ratio: float = 3.0  # a word is that when the window holds it this many times as often as its history says
    probe_depth: int = 60  # newest reports per feature looked at
    cohesion: float = 0.34  # share of a group's recent reports a new report must resemble to join it
    rare_floor: float = 100.0  # a feature in 1/100 of the background reports or fewer weighs fully; commoner ones less
    prior: int = 200  # as if this many reports without a feature had been seen: rarity needs some history
    forget_after: int = 100_000  # the feature counts are halved after this many reports
    background: int = 2_000  # reports from before the window a starting process counts (rarity survives restarts)

    def offers(self, reports: int, branches: int) -> bool:
        """Whether this many counted reports from this many branches are offered to the duty lead."""
        return reports >= self.min_reports and branches >= self.min_branches

    def declares(self, reports: int, branches: int) -> bool:
        """Whether they are declared without waiting."""
        return reports >= self.auto_reports and branches >= self.auto_branches


_AGAIN = re.compile(r"还是|仍然|依然|又|再次|一直|还没|(什么|啥)时候能?(恢复|好|修好)|多久能?(恢复|好|修好)|"
                    r"(分钟|小时|半天)了|still|again|yet", re.I)


def says_again(text: str) -> bool:
    """Whether a report says the fault is still there, or back ("还是不行", "又不行了", "断了十来分钟了 啥时候能恢复",
    "still down")."""
    return _AGAIN.search(text) is not None


@dataclass(frozen=True, eq=False)
class Report:
    """A fault report as the detector sees it: who, where, when, and its text as weighted features. Each is
    itself only (compared and hashed by identity: a set of candidates is built per report)."""

    id: int
    at: datetime
    person: str
    branch: str | None
    features: Mapping[int, float]
    weight: float = 0.0  # the sum of the feature weights, once weighed by rarity
    again: bool = False  # it says the fault is still there, or back ("还是不行", "又不行了")


@dataclass
class Group:
    """Reports about the same fault."""

    id: int
    reports: list[Report] = field(default_factory=list)
    offered_at: datetime | None = None
    declared_at: datetime | None = None
    incident_id: int | None = None  # the incident declared for it: its new reports are known issues
    # branch → its latest report's time, oldest first; a branch whose latest report has left the window is
    # dropped from the front, so that counting the recent branches is not a look at every branch per report
    branch_last: dict[str, datetime] = field(default_factory=dict)
    # The reports that count towards the thresholds: a person's report within `repeat` of their previous one in the
    # group is the same report again (said another way, started over after a cancel), not one more.
    counted: list[Report] = field(default_factory=list)
    person_last: dict[str, datetime] = field(default_factory=dict)
    repeat: timedelta = timedelta(minutes=10)

    def add(self, report: Report) -> None:
        """Add the newest report (reports come in time order)."""
        self.reports.append(report)
        self._count(report)
        if report.branch:
            self.branch_last.pop(report.branch, None)
            self.branch_last[report.branch] = report.at

    def _count(self, report: Report) -> None:
        last = self.person_last.get(report.person)
        if last is None or report.at - last > self.repeat:
            self.counted.append(report)
        self.person_last[report.person] = report.at

    def absorb(self, other: Group) -> None:
        """Take in the reports of a group this one's newest report bridged to."""
        self.reports = sorted([*self.reports, *other.reports], key=lambda r: (r.at, r.id))
        self.counted, self.person_last = [], {}
        for report in self.reports:
            self._count(report)
        merged = dict(self.branch_last)
        for branch, at in other.branch_last.items():
            if branch not in merged or merged[branch] < at:
                merged[branch] = at
        self.branch_last = dict(sorted(merged.items(), key=lambda item: item[1]))
        self.offered_at = self.offered_at or other.offered_at
        self.declared_at = self.declared_at or other.declared_at

    def recent_branches(self, now: datetime, window: timedelta) -> int:
        """How many branches reported inside the window (the window only moves forward)."""
        horizon = now - window
        last = self.branch_last
        while last:
            first = next(iter(last))
            if last[first] >= horizon:
                break
            del last[first]
        return len(last)

    def recent_count(self, now: datetime, window: timedelta) -> int:
        """How many reports inside the window count (a person's repeats within `repeat` do not)."""
        return len(self.counted) - bisect.bisect_left(self.counted, now - window, key=lambda r: r.at)


@dataclass(frozen=True)
class Observation:
    """What one report did: the group it joined, and whether that group is now offered or declared."""

    group: Group
    offer: bool  # the group just reached the offer threshold
    declare: bool  # the group just reached the automatic threshold


def similarity(a: Mapping[int, float], b: Mapping[int, float], total: float | None = None) -> float:
    """Weighted Dice: twice the weight of the shared features over the weight of both (`total`, when the caller
    knows it)."""
    common = a.keys() & b.keys()
    if not common:
        return 0.0
    shared = sum(map(a.__getitem__, common)) + sum(map(b.__getitem__, common))
    if total is None:
        total = sum(a.values()) + sum(b.values())
    return shared / total if total else 0.0


class Detector:
    """The sliding window of recent reports and their groups (one per desk process, fed in time order)."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self._recent: deque[Report] = deque()
        self._postings: dict[int, deque[Report]] = {}
        self._group_of: dict[int, Group] = {}  # report id → its group
        self._last_by_person: dict[str, Report] = {}
        # How many reports ever seen hold each feature: a feature every everyday report has (打印机,
        # 系统) says less about "the same fault" than a rare one. Halved now and then, so it follows change.
        self._seen: dict[int, float] = {}
        self._seen_total = 0.0

    def __len__(self) -> int:
        return len(self._recent)

    def group(self, report_id: int) -> Group | None:
        return self._group_of.get(report_id)

    def _weigh(self, report: Report) -> Report:
        """The report with each weight scaled by the feature's rarity."""
        features = self.weigh(report.features)
        return Report(report.id, report.at, report.person, report.branch, features, sum(features.values()),
                      report.again)

    def count_past(self, features: Mapping[int, float]) -> None:
        """Add a report of the past (one that has left the window, or one recorded before this process started)
        to the background counts. A burst never makes its own features common: rarity comes from the ordinary
        traffic before it."""
        self._seen_total += 1
        for f in features:
            self._seen[f] = self._seen.get(f, 0.0) + 1
        if self._seen_total >= self.rules.forget_after:
            self._seen = {f: n / 2 for f, n in self._seen.items() if n >= 1}
            self._seen_total /= 2

    def weigh(self, features: Mapping[int, float]) -> dict[int, float]:
        """Feature weights scaled by how rare each feature is in the reports seen (nothing counted)."""
        # As if `prior` reports without the feature had been seen: a short history says nothing yet.
        total = self._seen_total + self.rules.prior
        floor = math.log(1 + self.rules.rare_floor)
        plenty = total / self.rules.rare_floor  # a feature seen at most this often weighs fully (most of them)
        seen = self._seen
        if not features or max(1.0, *map(seen.get, features, repeat(0.0))) <= plenty:  # (max(1.0) alone: an error)
            return dict(features)  # (a storm's reports: every feature rare, nothing to scale)
        out: dict[int, float] = {}
        for f, w in features.items():
            n = max(seen.get(f, 0.0), 1.0)
            out[f] = w if n <= plenty else w * min(1.0, math.log(1 + total / n) / floor)
        return out

    def observe(self, report: Report) -> Observation:
        """Add a report (reports must come in time order) and say what it did."""
        self._expire(report.at)
        report = self._weigh(report)
        groups = self._resembled(report)
        if not groups and report.again:  # "还是不行" after one's report of a surge: that fault (not a new one)
            previous = self._last_by_person.get(report.person)
            if previous is not None and report.at - previous.at <= self.rules.follow_up:
                group = self._group_of.get(previous.id)
                if group is not None and group.offered_at is not None:
                    groups = {group.id: group}
        group = self._join(report, list(groups.values()))
        self._index(report)
        return self._judge(group, report)

    def _resembled(self, report: Report) -> dict[int, Group]:
        """The groups the report may join: those of whose recent reports it resembles a good share, not just one
        of them (groups of everyday faults would otherwise chain through one common word). Of a big group, a
        share of as many reports as it takes to offer one: a large incident's group keeps taking new reports in
        new wordings. A group is compared only until its share is reached, or cannot be any more."""
        rules = self.rules
        # (in C as far as it goes: under a storm a report has some fifty candidates, nearly all of one group)
        postings = list(filter(None, map(self._postings.get, report.features)))
        probes = sorted(postings, key=len)[:rules.probe_features]
        probes += self._bursting(report)
        depth = rules.probe_depth
        found = list(dict.fromkeys(chain.from_iterable(islice(reversed(posting), depth) for posting in probes)))
        of = list(map(self._group_of.__getitem__, map(_ID, found)))
        ids = list(map(_ID, of))
        by_group = dict(zip(ids, of, strict=True))  # the candidates' groups, in the order found
        mine, weight = report.features, report.weight
        groups: dict[int, Group] = {}
        for group_id, group in by_group.items():
            others = found if len(by_group) == 1 else list(compress(found, map(eq, ids, repeat(group_id))))
            still = rules.cohesion * min(group.recent_count(report.at, rules.window), rules.min_reports)
            left = len(others)
            for other in others:
                if left < still:
                    break  # too few candidates left to reach its share
                left -= 1
                if similarity(mine, other.features, weight + other.weight) >= rules.similarity:
                    still -= 1
                    if still <= 0:
                        groups[group_id] = group
                        break
        return groups

    def _bursting(self, report: Report) -> list[deque[Report]]:
        """The postings of the report's words (whole words and concepts, rare before the window: full weight) that
        the window holds far more often than their history says — what a burst shares. The rarest features alone
        miss it: 医保 is in every report of a 医保 outage, so within the window it is the commonest word there is,
        and six reports of it in different words (医保刷不了了 / 医保结算报错 -1) made two groups of three."""
        rules = self.rules
        if rules.burst_features <= 0:
            return []
        window = len(self._recent)
        history = self._seen_total + rules.prior
        seen, postings = self._seen, self._postings
        bursting: list[tuple[float, deque[Report]]] = []
        for f, weight in report.features.items():
            if weight >= 1.0 and (posting := postings.get(f)) is not None:
                ratio = len(posting) / (1.0 + window * seen.get(f, 0.0) / history)
                if ratio >= rules.burst_ratio:
                    bursting.append((ratio, posting))
        bursting.sort(key=lambda item: -item[0])
        return [posting for _, posting in bursting[:rules.burst_features]]

    def _join(self, report: Report, groups: list[Group]) -> Group:
        if not groups:
            group = Group(id=report.id, repeat=self.rules.repeat_within)
        else:
            # The group that has gone furthest (offered, declared, biggest) absorbs the others.
            groups.sort(key=lambda g: (g.declared_at is None, g.offered_at is None, -len(g.reports), g.id))
            group = groups[0]
            for other in groups[1:]:
                group.absorb(other)
                for r in other.reports:
                    self._group_of[r.id] = group
        group.add(report)
        self._group_of[report.id] = group
        self._last_by_person[report.person] = report
        return group

    def _judge(self, group: Group, report: Report) -> Observation:
        rules, now = self.rules, report.at
        offer = declare = False
        recent = group.recent_count(now, rules.window)
        if group.declared_at is not None or recent < rules.min_reports or \
                (group.offered_at is not None and recent < rules.auto_reports):
            return Observation(group, offer, declare)  # (nothing left to decide: no need to count branches)
        branches = group.recent_branches(now, rules.window)
        if group.offered_at is None and rules.offers(recent, branches):
            group.offered_at = now
            offer = True
        if rules.declares(recent, branches):
            group.declared_at = now
            declare = True
        return Observation(group, offer, declare)

    def still_reaches(self, group: Group, now: datetime, leave_out: Collection[int]) -> tuple[bool, bool]:
        """Whether the group, without the reports `leave_out` (ids), still reaches the offer threshold and the
        automatic one."""
        since = now - self.rules.window
        kept = [r for r in group.reports if r.at >= since and r.id not in leave_out]
        counted = sum(r.at >= since and r.id not in leave_out for r in group.counted)
        branches = len({r.branch for r in kept if r.branch})
        return self.rules.offers(counted, branches), self.rules.declares(counted, branches)

    def withdraw(self, observation: Observation, *, offer: bool, declare: bool) -> Observation:
        """Take back what the observation decided (the caller knows better: the reports it counted were solved)."""
        group = observation.group
        if offer and observation.offer:
            group.offered_at = None
        if declare and observation.declare:
            group.declared_at = None
        return Observation(group, observation.offer and not offer, observation.declare and not declare)

    def mark_declared(self, group: Group, at: datetime) -> None:
        """A person declared the group an incident (no automatic declaration afterwards)."""
        group.declared_at = group.declared_at or at

    def _index(self, report: Report) -> None:
        self._recent.append(report)
        for f in report.features:
            posting = self._postings.get(f)
            if posting is None:
                posting = self._postings[f] = deque()
            posting.append(report)

    def _expire(self, now: datetime) -> None:
        """Forget reports older than the window (their groups stay known while any report is kept)."""
        horizon = now - self.rules.window
        while self._recent and self._recent[0].at < horizon:
            old = self._recent.popleft()
            self.count_past(old.features)
            for f in old.features:
                posting = self._postings.get(f)
                if posting is not None:
                    while posting and posting[0].at < horizon:
                        posting.popleft()
                    if not posting:
                        del self._postings[f]
            self._group_of.pop(old.id, None)
            if self._last_by_person.get(old.person) is old:
                del self._last_by_person[old.person]
