"""The KB-suggest path for many messages in one transaction.

Under a storm (every branch of a region reporting the same outage at once) nearly every message is a new fault
report from someone with nothing under way, and the knowledge base has something to offer. Such messages are taken
together: their senders looked up, their rate limits counted, their conversations locked and their receipts read
in a handful of statements for the whole batch; the reports recorded for surge detection and the offers written
with one statement per table; one commit. The effects, the answers and the receipts are exactly those of
`Engine.receive`, which this module calls into for every step it shares.

Every other message — a command, a number answering the bot, a button, a photo, a stranger, a staff member, a
second message of the same sender, a report about a system under maintenance or one the knowledge base has nothing
for, a report of what a colleague at the branch has a ticket open for — is left for `Engine.receive` (`None` in the
answers), to be taken after this batch's commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wuyou.bot import dialogue as dialogues
from wuyou.bot import filing, groups, incidents, notices, reporting
from wuyou.bot.commands import parse
from wuyou.bot.dialogue import Dialogue
from wuyou.bot.engine import Answer, Engine, Turn, problem_with, receipt_key, replies_from
from wuyou.bot.messages import Inbound
from wuyou.db import bulk, reading
from wuyou.desk import conversations, working
from wuyou.desk import suggestions as suggestions_log
from wuyou.desk.models import Person, SuggestionSession
from wuyou.desk.notices import service as notice_service
from wuyou.desk.org import leaf_names, persons_by_identity
from wuyou.desk.surge import says_again
from wuyou.kb.signature import signature
from wuyou.kb.text import cut


@dataclass
class _Taking:
    """One message of the batch on its way through."""

    at: int  # its place in the batch
    inbound: Inbound
    person: Person
    text: str
    key: str | None
    offer: SuggestionSession | None = None
    turn: Turn | None = None


def take(engine: Engine, inbounds: Sequence[Inbound]) -> list[Answer | None]:
    """Answer the messages of the batch that are plain new reports (in one transaction); None for the others,
    which the caller hands to `Engine.receive` after this returns. Raises whatever the database raises (nothing
    was taken then: the caller hands every message on)."""
    answers: list[Answer | None] = [None] * len(inbounds)
    first = _firsts(inbounds)
    if not first:
        return answers
    now = engine.clock()
    with engine.session_factory() as session:
        # First what only needs reading (on SQLite: without holding up other processes' writes): the senders,
        # their rate limits, maintenance windows, what the knowledge base offers, the reports' signatures and the
        # other processes' latest reports for the surge detector.
        reading(session)
        people: dict[tuple[str, str], Person] = {}
        for platform in {inbounds[i].platform for i in first}:
            found = persons_by_identity(session=session, platform=platform, external_ids=[
                inbounds[i].sender.platform_user_id for i in first if inbounds[i].platform == platform])
            people.update({(platform, external): person for external, person in found.items()})
        taking, persons = [], set()  # one message per person (who may write on two platforms at once)
        for i in first:
            person = people.get((inbounds[i].platform, inbounds[i].sender.platform_user_id))
            if person is not None and person.role == "reporter" and person.id not in persons:
                persons.add(person.id)
                taking.append(_Taking(i, inbounds[i], person, reporting.norm(inbounds[i].text),
                                      receipt_key(inbounds[i])))
        # A platform's retry of a message already answered is no second message against the rate limit (its answer
        # is given under the lock below).
        answered = conversations.receipts(session=session, keys=[t.key for t in taking if t.key is not None])
        counted = [t for t in taking if t.key not in answered]
        refused = dict(zip((t.at for t in counted),
                           engine.over_limits([(t.person, t.inbound) for t in counted]), strict=True))
        refusals = [refused.get(t.at) for t in taking]
        for t, refusal in zip(taking, refusals, strict=True):
            if refusal is not None:
                answers[t.at] = Answer(refusal)
        taking = [t for t, refusal in zip(taking, refusals, strict=True) if refusal is None]
        # A report naming a system under maintenance may be answered with the window: the classic way decides.
        windows = notice_service.windows_in_force(session=session, now=now)
        taking = [t for t in taking if notices.window_named(windows, t.text) is None]
        if not taking:
            return answers
        matcher = engine.index.matcher(session)
        cuts = {t.at: cut(t.text) for t in taking}  # normalised and segmented once, for the matcher and the surge
        offered = {t.at: articles for t in taking if (articles := matcher.suggest(t.text, cut=cuts[t.at]))}
        taking = [t for t in taking if t.at in offered]  # nothing to offer: the ticket dialogue, the classic way
        if not taking:
            return answers
        leaves = leaf_names(session=session)
        categories = {t.at: filing.best_leaf(offered[t.at], leaves=leaves, matcher=matcher) for t in taking}
        signatures = {t.at: signature(t.text, cuts[t.at]) for t in taking}
        engine.surge.load(session=session, now=now)  # the other processes' reports, compared outside the lock
        session.commit()

        # Then, writing: the conversations locked, and what a write depends on read under the lock (receipts,
        # dialogues, tickets waiting for an answer).
        rows = conversations.hold_many(session=session, person_ids=[t.person.id for t in taking], now=now)
        seen = conversations.receipts(session=session, keys=[t.key for t in taking if t.key is not None])
        for t in taking:
            if t.key in seen:
                answers[t.at] = Answer(replies_from(seen[t.key].replies, t.inbound.chat), duplicate=True,
                                       receipt=t.key)
        # Someone in a dialogue, or asked a question on a ticket, is answering it; someone reporting what a ticket of
        # theirs resolved in the last weeks (or still open) is about is asked whether it is that problem: the classic
        # way.
        reporter_ids = [t.person.id for t in taking]
        waiting = working.waiting_among(session=session, reporter_ids=reporter_ids)
        said = [(t.person.id, signatures[t.at]) for t in taking]
        back, again = reporting.alike_earlier(session=session, reports=said, now=now,
                                              again=[says_again(t.text) for t in taking])
        waiting |= {taking[at].person.id for at in (*back, *again)}
        waiting |= reporting.may_follow_up(session=session, reports=[(t.person.id, t.text) for t in taking], now=now)
        waiting |= reporting.still_broken_after(session=session, reports=[(t.person.id, t.text) for t in taking],
                                                now=now)  # ("还没好 又卡了": about the ticket resolved last)
        waiting |= groups.colleagues_reported(session=session, now=now, reports=[
            (t.person, signatures[t.at], categories[t.at]) for t in taking])  # (a colleague's ticket: followed)
        taking = [t for t in taking if t.key not in seen and t.person.id not in waiting
                  and dialogues.idle(rows[t.person.id], now=now)]
        if not taking:
            session.commit()
            return answers
        outcomes = engine.surge.report_many(
            session=session, now=now, reports=[(t.person, t.text, t.inbound.platform) for t in taking],
            categories=[categories[t.at] for t in taking], signatures=[signatures[t.at] for t in taking], loaded=True)
        helped = suggestions_log.self_helped(session=session, person_ids=[t.person.id for t in taking], now=now)
        with bulk.collected(session):  # feedback and receipts: one statement per table for the batch
            for t, outcome in zip(taking, outcomes, strict=True):
                t.turn = Turn(session=session, person=t.person, inbound=t.inbound, text=t.inbound.text,
                              dialogue=Dialogue(), now=now, engine=engine)
                if outcome.known is not None:
                    incidents.known_issue(t.turn, outcome.known, outcome.report, t.text)
                else:
                    t.offer = reporting.offer(t.turn, t.text, offered[t.at], report=outcome.report, leaves=leaves,
                                              matcher=matcher, helped=helped.get(t.person.id, []))
            bulk.inserted(session, [t.offer for t in taking if t.offer is not None])  # one statement for them all
            pushed = {}
            for t in taking:
                assert t.turn is not None
                if t.offer is not None:
                    t.turn.dialogue.suggestion = t.offer.id
                t.turn.replies = dialogues.stamp(t.turn.replies, t.turn.dialogue)
                dialogues.note_chat(t.turn.dialogue, t.turn.inbound.chat)
                dialogues.save(rows[t.person.id], t.turn.dialogue, now=now)
                pushed[t.at] = engine.settle(t.turn, t.key)
            conversations.put_back(session=session, rows=rows.values())
        session.commit()
    engine.committed(session)
    for t in taking:
        assert t.turn is not None
        answers[t.at] = Answer(t.turn.replies, receipt=t.key, pushed=pushed[t.at])
    return answers


def _firsts(inbounds: Sequence[Inbound]) -> list[int]:
    """The messages that may be plain new reports: each sender's first of the batch (a later one may answer what
    the first one gets), typed text that is not a command and reads as a report."""
    senders: set[tuple[str, str, str]] = set()
    found = []
    for i, inbound in enumerate(inbounds):
        sender = (inbound.platform, inbound.account, inbound.sender.platform_user_id)
        if sender in senders:
            continue
        senders.add(sender)
        # (In a group chat a report may be one someone else of the group made already: bot.groups.)
        if inbound.action is None and not inbound.attachments and inbound.chat.kind == "direct" \
                and problem_with(inbound.text) is None \
                and parse(inbound.text) is None and reporting.plainly_a_report(inbound.text):
            found.append(i)
    return found
