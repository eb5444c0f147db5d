"""The ticket dialogue: a report that no article settled becomes a ticket — its category (from the catalog, the best
article's marked), its urgency (the level the words speak of marked), its description — or one in a known
incident, when more words show it belongs there."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from wuyou.bot import incidents
from wuyou.bot.commands import Command
from wuyou.bot.dialogue import Dialogue
from wuyou.bot.messages import Button
from wuyou.desk import sla, ticket_pages, tickets
from wuyou.desk import suggestions as suggestions_log
from wuyou.desk.incidents.models import OPEN_STATUSES, FaultReport, Incident
from wuyou.desk.models import Category, Ticket
from wuyou.desk.org import leaf_categories, leaf_named, leaf_names
from wuyou.kb.articles import get_doc
from wuyou.kb.matching import Matcher, Suggestion
from wuyou.kb.text import tidy

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

_RECATEGORISE = re.compile(r"^(改分类|换分类|换个分类|分类不对|change (the )?category)[!！。.]*$", re.I)


def best_leaf(suggestions: Sequence[Suggestion], *, leaves: dict[str, int], matcher: Matcher) -> int | None:
    """The catalog leaf the best suggestion's category names: what the report is most likely about."""
    best = matcher.doc(suggestions[0].article_id) if suggestions else None
    return leaf_named(leaves, best.category if best is not None else "")


def ask_category(turn: Turn, *, intro: str) -> None:
    leaves = leaf_categories(session=turn.session)
    if not leaves:
        ask_urgency(turn, intro=f"{intro}\n")
        return
    recommended = recommended_leaf(turn, leaves)
    lines = "\n".join(
        [f"{i}. {c.path}{turn.t('recommended_mark') if c.id == recommended else ''}"
         for i, c in enumerate(leaves, 1)] + [turn.t("category_other_line")]
    )
    turn.dialogue.step = "category"
    buttons = (*(Button(c.path, str(i)) for i, c in enumerate(leaves, 1)), Button(turn.t("category_other"), "0"))
    # A major incident is open where the reporter works: maybe that is what they report (Statuspage's banner).
    nearby = incidents.nearby(turn, next((c for c in leaves if c.id == recommended), None)) \
        if turn.dialogue.text and turn.dialogue.incident is None else None
    if nearby is not None:
        turn.dialogue.incident = nearby.id
        intro = (intro if not intro or intro.endswith("\n") else intro + "\n") + turn.t(
            "incident_maybe", incident=nearby.ref, title=nearby.title, since=turn.local(nearby.started_at))
        buttons = (Button(turn.t("btn_incident_yes", incident=nearby.ref), turn.t("incident_yes_word")), *buttons)
    turn.say("ask_category", intro=intro, lines=lines, count=len(leaves), buttons=buttons)


def recommended_leaf(turn: Turn, leaves: list[Category]) -> int | None:
    """The catalog leaf named by the best offered article's category (`终端设备/打印机`)."""
    if not turn.dialogue.offered:
        return None
    article = get_doc(session=turn.session, article_id=turn.dialogue.offered[0])
    return leaf_named(leaf_names(session=turn.session), article.category if article is not None else "")


def _chosen_leaf(leaves: Sequence[Category], text: str) -> Category | None:
    """The leaf an answer to the category menu picks: its number, or the one leaf it names ("打印机", "VPN")."""
    picked = int(text) if text.isdigit() else picked_number(text)
    if picked is not None and 1 <= picked <= len(leaves):
        return leaves[picked - 1]
    named = [c for c in leaves if c.name.lower() in text.lower()]
    return named[0] if len(named) == 1 else None


# "None of these" / "I can't tell" to the category menu: the ticket goes without one, to the team nearest the branch.
_UNSURE = re.compile(r"^(0|其他|其它|别的|都不是|都不对|没有|不知道|不清楚|说不清|说不好|不确定|不好说|不懂|"
                     r"other|others|none|not sure|don'?t know|no idea)"
                     r"(的|啊|呀|吧|了|哦|诶|欸|选哪个|选哪一个|是哪个|是哪类|是哪一类|哪一类|\s*which( one)?)*"
                     r"[\s。.!！?？~～]*$", re.I)


def on_category(turn: Turn, text: str) -> None:
    if turn.dialogue.incident is not None and _IT_IS.match(text) and _into_offered_incident(turn):
        return
    leaves = leaf_categories(session=turn.session)
    chosen = _chosen_leaf(leaves, text)
    if chosen is None:
        if _UNSURE.match(text.strip()):
            turn.dialogue.category_id = None
            ask_urgency(turn, intro=turn.t("category_left_open") + "\n")
            return
        if _more_about_it(turn, text):
            return
        if not more_words(text):
            turn.say("pick_a_category", count=len(leaves))
            return
        # Words, not a number (医保结算失败 报错CA证书无效): kept for the ticket, and said so, with the category they
        # seem to point to as a suggestion (not the bare "请回复 1–9" again and again).
        matcher = turn.engine.index.matcher(turn.session)
        said = turn.dialogue.text or text  # (all they said: the words before, kept with these)
        leaf = best_leaf(matcher.suggest(said), leaves=leaf_names(session=turn.session), matcher=matcher)
        number = next((i for i, c in enumerate(leaves, 1) if c.id == leaf), None)
        if number is not None:
            turn.say("category_words_kept_guess", count=len(leaves), number=number, category=leaves[number - 1].path)
        else:
            turn.say("category_words_kept", count=len(leaves))
        return
    if _alerted(turn, chosen):
        return
    turn.dialogue.category_id = chosen.id
    ask_urgency(turn, intro="")


# What the report says of its urgency (conversations/01: "急" is no help in matching, but a hint for the ticket).
_URGENCY_HINTS = (
    (3, re.compile(r"(没法|无法|不能|办不了|开不了)(办|办理)?业务|全部(停|瘫)|停业|都(用|办)不了|所有(柜台|窗口|电脑)|"
                   r"\b(all down|branch (is )?down|can.?t serve)\b", re.I)),
    (2, re.compile(r"急|尽快|赶紧|马上|客户在等|排(着)?队|等着|\b(urgent|asap)\b", re.I)),
)


def ask_urgency(turn: Turn, *, intro: str) -> None:
    """How big the impact is, the level the report's own words suggest marked (they still choose)."""
    hinted = next((level for level, words in _URGENCY_HINTS if words.search(turn.dialogue.text)), None)
    lines = "\n".join(turn.t(f"urgency_line_{i}") + (turn.t("recommended_mark") if i == hinted else "")
                      for i in (1, 2, 3))
    turn.dialogue.step = "urgency"
    turn.say("ask_urgency", intro=intro, lines=lines,
             buttons=tuple(Button(turn.t(f"urgency_{i}"), str(i)) for i in (1, 2, 3)))


def on_urgency(turn: Turn, text: str) -> None:
    if _RECATEGORISE.match(text):
        turn.dialogue.category_id = None
        ask_category(turn, intro="")
        return
    picked = picked_number(text) or urgency_in_words(text)
    if picked not in (1, 2, 3):
        if not _more_about_it(turn, text):
            turn.say("pick_a_number", count=3)
        return
    turn.dialogue.urgency = picked
    if turn.dialogue.described:  # said already, with the "0": no need to ask
        on_description(turn, turn.dialogue.text)
        return
    turn.dialogue.step = "description"
    category = turn.session.get(Category, turn.dialogue.category_id) if turn.dialogue.category_id else None
    if category is not None and category.ask:
        turn.say("ask_description_for", ask=category.ask)  # the category's own question (终端号…)
    else:
        turn.say("ask_description")


# The urgency options' own words, and the usual others ("3. 紧急，网点没法办业务" answered 紧急 / urgent).
_URGENCY_WORDS = ((3, re.compile(r"^(紧急|很急|非常急|特别急|急急急?|十万火急|critical|very urgent|emergency|high)$",
                                 re.I)),
                  (2, re.compile(r"^(较急|比较急|有点急|挺急的?|urgent|fairly urgent|quite urgent|medium)$", re.I)),
                  (1, re.compile(r"^(一般|不急|不太急|不着急|normal|not urgent|low|today is fine)$", re.I)))


def urgency_in_words(text: str) -> int | None:
    """The urgency an answer names in words (紧急 → 3), if it is only that."""
    said = unicodedata.normalize("NFKC", text).strip().rstrip(".。、!！~～ ")
    return next((level for level, words in _URGENCY_WORDS if words.match(said)), None)


_PICKED = re.compile(r"(?:选|看看?|看一下|打开|点|要)?第?([1-9一二两三四五六七八九])(?:个|项|条|号|篇)?(?:吧|的|啊)?")
_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def picked_number(text: str) -> int | None:
    """A choice's number as people type it: "2", "２", "2.", "二", "第二个吧", "看看第2条"."""
    found = _PICKED.fullmatch(unicodedata.normalize("NFKC", text).strip().rstrip(".。、!！~～ "))
    if found is None:
        return None
    given = found.group(1)
    return int(given) if given.isdigit() else _NUMERALS[given]


def more_words(text: str) -> bool:
    """Words, not an answer to the question asked (a number, 是, a leaf's name is short)."""
    return len(text) >= 4 and any(unicodedata.category(ch)[0] == "L" for ch in text)


def _more_about_it(turn: Turn, text: str) -> bool:
    """Words instead of a number in the middle of the ticket dialogue ("还是不行 扫了上传失败"): more about the
    fault. It counts as a report for surge detection, and when it belongs to an open incident the reporter is
    told so at once (the dialogue ends with a linked ticket); otherwise it joins the description and the
    dialogue goes on. Returns True when the reporter has had an answer."""
    if not more_words(text):
        return False
    outcome = turn.engine.surge.report(session=turn.session, person=turn.person, text=text,
                                       channel=turn.inbound.platform, now=turn.now)
    if outcome.known is not None:
        turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
        incidents.known_issue(turn, outcome.known, outcome.report, text)
        return True
    if text not in turn.dialogue.text:
        turn.dialogue.text = f"{turn.dialogue.text}\n{text}".strip()
    return False


def _alerted(turn: Turn, chosen: Category) -> bool:
    """The category the reporter chose is what an alert's open incident is about, in their region (conversations/08:
    网断了 from a Jinan branch while the Jinan router is down): their ticket goes there, no more questions."""
    incident = turn.engine.surge.alert_covers(turn.session, turn.person, chosen.id, look=True)
    if incident is None:
        return False
    _into_incident(turn, incident, category=chosen)
    return True


# "Yes, that one" to the open incident offered with the categories.
_IT_IS = re.compile(r"^(是|是的|对|对的|就是|就是这个|是这个|应该是|yes|y|yep)[!！。.~～]*$|^INC-?\d+$", re.I)


def _into_offered_incident(turn: Turn) -> bool:
    """The reporter said their report is the open incident offered with the categories: the ticket goes there."""
    incident = turn.session.get(Incident, turn.dialogue.incident)
    if incident is None or incident.status not in OPEN_STATUSES:
        return False
    _into_incident(turn, incident, category=None)
    return True


def _into_incident(turn: Turn, incident: Incident, *, category: Category | None) -> None:
    """The dialogue's report is part of an open incident: its ticket is opened there, no more questions."""
    d = turn.dialogue
    report = turn.session.get(FaultReport, d.report) if d.report is not None else None
    if report is not None:
        report.incident_id = incident.id
    turn.dialogue = Dialogue(attachments=d.attachments)
    ticket = incidents.known_issue(turn, incident, report, d.text or (category.name if category else incident.title),
                                   category=category)
    suggestions_log.end(session=turn.session, session_id=d.suggestion, outcome="ticket", now=turn.now,
                        ticket_id=ticket.id)


def joined_incident(turn: Turn, answer: str = "") -> bool:
    """No more questions for a report that became part of a major incident while the reporter was answering them
    (conversations/07: the duty lead declared the surge it is in): its ticket is opened in the incident at once,
    as for a report that comes after the declaration — in the category the reporter chose, when the incident has
    none. `answer`: the reporter's answer to the question they were at."""
    d = turn.dialogue
    found = incidents.declared_meanwhile(turn, d.report)
    if found is None:
        return False
    incident, report = found
    category = turn.session.get(Category, d.category_id) if d.category_id else None
    more = ""
    if d.step == "category":
        category = _chosen_leaf(leaf_categories(session=turn.session), answer)
    elif d.step in ("description", "suggesting", "viewing"):
        more = answer
    text = f"{d.text}\n{more}".strip() if more and more not in d.text else d.text
    turn.dialogue = Dialogue(attachments=d.attachments)
    ticket = incidents.known_issue(turn, incident, report, text or report.text, category=category)
    suggestions_log.end(session=turn.session, session_id=d.suggestion, outcome="ticket", now=turn.now,
                        ticket_id=ticket.id)
    return True


def on_description(turn: Turn, text: str) -> None:
    d = turn.dialogue
    description = text if not d.text or text == d.text else f"{d.text}\n{text}"
    category = turn.session.get(Category, d.category_id) if d.category_id else None
    ticket = tickets.open_ticket(
        session=turn.session,
        reporter=turn.person,
        category=category,
        urgency=d.urgency or 1,
        description=description,
        channel=turn.inbound.platform,
        chat_id=turn.inbound.chat.id or None, chat_thread=turn.inbound.chat.thread_id,
        kb_offered=d.offered,
        title=tidy(description.split("\n", 1)[0]),  # what was first said; what followed is the description's
        now=turn.now,
        tz=turn.engine.tz.key,
        attachment_ids=d.attachments,
        self_helped=(d.helped[0], datetime.fromisoformat(d.helped[1])) if d.helped else None,
        group_for=turn.engine.group_for,
    )
    incidents.ticket_opened(turn, d.report, ticket)
    suggestions_log.end(session=turn.session, session_id=d.suggestion, outcome="ticket", now=turn.now,
                        ticket_id=ticket.id)
    turn.dialogue = Dialogue()
    say_created(turn, ticket)


def say_created(turn: Turn, ticket: Ticket) -> None:
    """The reporter is told the new ticket's number, category, priority and team (and the ticket it follows up)."""
    routed = turn.t("routed_to", team=ticket.team.name) if ticket.team else turn.t("routed_nowhere")
    follows = turn.t("follows_mark", ticket=ticket.follows_id) if ticket.follows_id else ""
    opens = sla.opens_next(session=turn.session, ticket_id=ticket.id, now=turn.now)  # after hours: say when
    # (紧急 said the branch cannot work: not "if the branch cannot work, chase" back to them)
    after = "ticket_after_hours_urgent" if ticket.urgency >= 3 else "ticket_after_hours"
    when = turn.t(after, opens=turn.local(opens)) if opens is not None else turn.t("ticket_in_hours")
    if ticket.priority == ticket_pages.PAGED_PRIORITY and ticket_pages.paging(session=turn.session,
                                                                               ticket_id=ticket.id) is not None:
        # (a P1 out of its team's hours; no other ticket is paged, nor looked up)
        when = turn.t("ticket_paged_oncall")
    turn.say("ticket_created", ticket=ticket.id, follows=follows, when=when,
             category=ticket.category.path if ticket.category else turn.t("category_other"), priority=ticket.priority,
             routed=routed, url=f"{turn.engine.public_url}/tickets/{ticket.id}")


def cmd_new(turn: Turn, command: Command | None) -> None:
    # Articles offered just before (打印机卡纸了怎么办 → the list → 报障) stay this report's: the ticket ends their
    # session, which otherwise stayed open and counted as a KB deflection a day later.
    before = turn.dialogue
    turn.dialogue = Dialogue(text=command.rest if command else "", attachments=before.attachments,
                             suggestion=before.suggestion, offered=before.offered)
    ask_category(turn, intro=turn.t("new_intro"))
