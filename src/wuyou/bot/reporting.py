"""The reporter's side: free text → KB suggestions → ticket dialogue, status, confirm and rate."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.bot import filing, following, groups, incidents, notices, solutions, staff, status
from wuyou.bot.commands import BY_NAME, Command, without_mentions
from wuyou.bot.dialogue import Dialogue
from wuyou.bot.messages import Button
from wuyou.desk import sla, tickets, working
from wuyou.desk import suggestions as suggestions_log
from wuyou.desk.absences import is_away
from wuyou.desk.errors import AlreadyClaimed, DeskError, Forbidden, InvalidTransition, NotAllowed, NotFound
from wuyou.desk.incidents import service as incident_service
from wuyou.desk.incidents.models import FaultReport
from wuyou.desk.models import Category, SuggestionSession, Ticket, TicketEvent
from wuyou.desk.org import leaf_categories, leaf_names
from wuyou.desk.replies import UnknownReply
from wuyou.desk.surge import says_again, similarity
from wuyou.kb import articles, feedback
from wuyou.kb.articles import get_doc
from wuyou.kb.matching import Matcher, Suggestion
from wuyou.kb.signature import signature
from wuyou.kb.text import asks_question, is_courtesy, normalise, says_fault, tidy

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

ARTICLE_PREVIEW = 600
_YES = re.compile(r"^(1|解决了?|已解决|好了|好啦|可以了|能用了|能打了|行了|搞定了?|没问题了|正常了|恢复了|ok|okay|yes|"
                  r"solved|fixed)[!！。.~～]*$"
                  # English as people write it: "yes it works now, thanks", "all good", "fixed, thank you"
                  r"|^((yes|yep|yeah|ok|okay)\b[\s,!.]*)?((it'?s|it is|it|all|that'?s|that)\s+)?"
                  r"(solved|fixed|resolved|works?|working|fine|good|sorted)(\s+(now|again|fine|thanks?))?[\s,!.]*"
                  r"((thanks?|thank you|thx|cheers)\b.*)?$",
                  re.I)
# "Still broken", to "is it fixed? 1 解决了 2 还没好"; to an article, also the menu's 0 / 转人工 / 不对 — which a
# reporter with a resolved ticket may well send about something else (they reopened it).
_STILL_BROKEN = (r"没解决|还?没好|(还是?)?不行|都?没用|不管用|还是?有(点|些)?问题|问题还在|还是老样子|"
                 r"not yet|not solved|not fixed|not working|still (not working|broken|the same|failing)|"
                 r"(still )?(doesn'?t|does not|didn'?t|did not|won'?t) work|nope")
_NOT_FIXED = rf"0|{_STILL_BROKEN}|都?(不是|不对)|转人工"  # "no" to an article
_NO = re.compile(rf"^({_NOT_FIXED}|2|没有|人工|no|not solved)[!！。.~～]*$", re.I)
_NO_AND_MORE = re.compile(rf"^({_NOT_FIXED})[\s，,、：:。.!！]+(?P<more>\S.*)$", re.S | re.I)  # "0 屏幕都不亮了 …"
_NOT_YET = re.compile(rf"^({_STILL_BROKEN}|没修好|2|没有|no|not solved|not fixed)[!！。.~～]*$", re.I)
_NOT_YET_AND_MORE = re.compile(rf"^({_STILL_BROKEN})[\s，,、：:。.!！]+(?P<more>\S.*)$", re.S | re.I)
_NO_THEN_MORE = re.compile(r"^(no|没有)[\s，,、：:。.!！]+(?P<more>\S.*)$", re.S | re.I)  # "no, still broken" (asked)
_THANKS = re.compile(r"^(谢谢|多谢|感谢|thanks?|thank you|thx)(你|您|啦|了)?[!！。.~～]*$", re.I)
_OK = re.compile(r"^(好的?|好滴|嗯嗯?|行|可以|ok|okay|k)[!！。.~～👌👍]*$", re.I)
_GREETING = re.compile(r"^(你好|您好|在吗|在不在|hi|hello|hey)[!！?？。.~～]*$", re.I)
_GREETS = re.compile(r"你好|您好|大家好|早上好|早安|上午好|中午好|下午好|晚上好|各位|\b(hi|hello|good morning)\b", re.I)
_RATING = re.compile(r"^([1-5])\s*(?:分|星|stars?)?\s*(.*)$", re.S)
# Anger at the bot or the desk, or asking for a person (conversations/10): no articles, no new ticket — an apology
# and the way to a person. Either a person is asked for, or the bot / the desk is blamed.
_A_PERSON = re.compile(r"(找|转)(个|一个)?(真人|人工|活人|客服|工程师|人(?![脸员事民数像名]))|人工客服|真人客服|"
                       r"要(找)?(真人|人工|活人)|\b(human|real person|talk to (a|an) (person|agent))\b", re.I)
_BLAMED = re.compile(r"(破|烂|垃圾|智障|没用的?|有什么用的?)(机器人|客服|服务台)|"
                     r"(机器人|服务台|客服)[^。！!？?]{0,16}(垃圾|没用|一点用|没有用|废物|智障|太差)|"
                     r"(机器人|服务台|客服|你们)[^。！!？?]{0,16}(没人理|没人管|没人接|不理人|效率太低|(响应|回复|处理)(也)?太慢)|"
                     r"^(垃圾|废物|智障|滚)[!！。.~～]*$|\b(useless|stupid) bot\b", re.I)
# How alike (weighted Dice of the report signatures, as surge detection compares reports) a new report must be to
# one of the reporter's recently resolved tickets to be asked whether it is that problem again.
RECURS_AT = 0.3
RECURS_AGAIN_AT = 0.15  # … or this alike when it says the fault is back (叫号机 又不行了: the device alone in common)


def norm(text: str) -> str:
    """The text with its runs of white space made one space."""
    return re.sub(r"\s+", " ", text).strip()


# A thumbs-up, a smile: a yes, a thank-you (punctuation alone — "。。。" — is neither); stars: a rating.
_APPROVING = re.compile(r"^[\s!！。.~～]*[👍👌🙏😊🙂😄😁☺️✌️❤️💯🎉👏][\s👍👌🙏😊🙂😄😁☺️✌️❤️💯🎉👏!！。.~～]*$")
_STAR_GLYPHS = re.compile(r"^\s*[⭐★🌟](\s*[⭐★🌟]){0,4}[\s!！。.~～]*$")


def refuse_input(turn: Turn, problem: str) -> None:
    """A message that cannot be read as a request gets a kind answer and changes nothing — except a thumbs-up or
    a smile, which answers "is it fixed?" (yes) or says thanks."""
    if problem == "symbols" and (_APPROVING.match(turn.text) or _STAR_GLYPHS.match(turn.text)):
        free_text(turn)
        return
    hint = _open_hint(turn)
    key = {"empty": "input_empty", "too_long": "input_too_long", "binary": "input_binary",
           "sticker": "input_sticker"}.get(
        problem, "input_symbols"
    )
    turn.say(key, length=len(turn.text), hint=hint)


def _not_theirs(turn: Turn, number: int | None, status: str) -> Ticket | None:
    """The open ticket a staff member's refused command named (refused for its state), when they had claimed it and
    it is someone else's now (transferred away)."""
    found = turn.session.get(Ticket, number) if number is not None and tickets.is_staff(turn.person) else None
    if found is None or found.status != status or found.assignee_id == turn.person.id \
            or found.status in ("resolved", "closed", "cancelled", "merged"):
        return None
    had = turn.session.scalars(select(TicketEvent.id).where(TicketEvent.ticket_id == found.id,
                                                            TicketEvent.kind == "claimed",
                                                            TicketEvent.actor_id == turn.person.id)).first()
    return found if had is not None else None


def _open_hint(turn: Turn) -> str:
    """A line about the reporter's latest ticket, if any: resolved (awaiting their word), waiting for an engineer,
    or being worked on."""
    latest = next(iter(tickets.reported_by(session=turn.session, reporter=turn.person)), None)
    if latest is None:
        return ""
    key = "hint_resolved_ticket" if latest.status == "resolved" else \
        "hint_open_ticket_queued" if latest.status == "new" else "hint_open_ticket"
    return turn.t(key, ticket=latest.id)


def explain_error(turn: Turn, exc: DeskError, *, ticket: int | None = None) -> None:
    """Turn a refusal of the desk into words for the person (`ticket`: the one the command named)."""
    if isinstance(exc, AlreadyClaimed) and exc.holder_name == turn.person.name:
        turn.say("claim_yours", ticket=ticket if ticket is not None else "N")
    elif isinstance(exc, AlreadyClaimed):
        waiting = len(tickets.team_queue(session=turn.session, person=turn.person))
        turn.say("claim_taken", holder=exc.holder_name, since=turn.local(exc.since),  # type: ignore[arg-type]
                 queue=turn.t("claim_taken_queue", count=waiting) if waiting else turn.t("claim_taken_no_queue"))
    elif isinstance(exc, NotFound):
        turn.say("ticket_not_found", ticket=str(exc).rsplit(" ", 1)[-1])
    elif isinstance(exc, InvalidTransition) and (elsewhere := _not_theirs(turn, ticket, exc.status)) is not None:
        turn.say("ticket_not_yours_now", ticket=elsewhere.id, status=turn.t(f"status_{elsewhere.status}"),
                 holder=elsewhere.assignee.name if elsewhere.assignee else
                 elsewhere.team.name if elsewhere.team else turn.t("the_team"))
    elif isinstance(exc, InvalidTransition):
        turn.say("bad_state", status=turn.t(f"status_{exc.status}"))
    elif isinstance(exc, Forbidden):
        turn.say("forbidden")
    elif isinstance(exc, UnknownReply):
        turn.say("unknown_reply", name=exc.name)
    elif isinstance(exc, NotAllowed):
        turn.say(f"not_allowed_{exc.reason}")
    else:
        turn.say("error_generic")


def free_text(turn: Turn) -> None:
    """Free text: an answer inside a dialogue, a confirmation, a courtesy, or a new report."""
    text = norm(without_mentions(turn.text))
    step = turn.dialogue.step
    # staff: "INC-7 …" is for the incident, whatever was asked (words in a war-room are too: a dialogue under way in
    # another chat waits there, `dialogue.open_in`)
    if step and incidents.note_named(turn, text):
        return
    if step in ("suggesting", "viewing") and _on_suggestions(turn, text):
        return
    # An answer (not more words about the fault: those are a report of their own, compared with the incident's)
    # after the reporter's report was declared part of an incident: its ticket goes there at once.
    if (step == "description" or (step in ("category", "urgency") and not filing.more_words(text))) \
            and filing.joined_incident(turn, text):
        return
    if step in ("category", "urgency", "description") and _fixed_meanwhile(turn, text):
        return
    if step in ("category", "urgency", "description") and _gave_up(turn, text):
        return
    if step in ("category", "urgency") and status.aside(turn, text):
        return
    if step == "category":
        filing.on_category(turn, text)
        return
    if step == "urgency":
        filing.on_urgency(turn, text)
        return
    if step == "description":
        filing.on_description(turn, text)
        return
    if step == "lost" and _on_lost(turn, text):
        return
    if step == "rating_why":
        _on_rating_why(turn, text)
        return
    turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
    # 收到 answers a page first (an incident's, else a P1 ticket's), then takes the one ticket given to the engineer
    if staff.answer_page(turn, text) or _accepted_in_words(turn, text) or incidents.intercept(turn, text):
        return
    if notices.acknowledged(turn, text):
        return
    if _awaiting_me(turn, text) or _follower_not_fixed(turn, text):
        return
    if _answering(turn, text) or groups.answering_for(turn, text):
        return
    courtesy = is_courtesy(text)  # nothing but thanks, greetings, acknowledgements
    praised = _IN_WORDS.match(text)
    if _THANKS.match(text) or (praised is not None and not praised.group("comment")):  # (非常满意, nothing to rate)
        turn.say("thanks")
    elif notices.is_ack_word(text) or _OK.match(text):  # "好的" / "OK, got it", nothing to acknowledge: no thank-you
        turn.say("ack_ok")
    elif _GREETING.match(text) or (courtesy and _GREETS.search(text)):  # 早上好 各位老师辛苦了
        turn.say("greeting", name=turn.person.name)
    elif courtesy:  # 辛苦了 / 已经好了 👍 …, nothing else in it
        turn.say("thanks")
    elif status.asks_status(text):
        status.cmd_status(turn, None, only=status.named(text))
    elif upset(text):
        _calm(turn, text)
    elif _VENTING.match(text):  # 烦死了: said how they feel, not what is wrong — asked, no dialogue started
        turn.say("venting", hint=_open_hint(turn))
    elif _FIXED.search(text) and _POLITE_WORD.search(text) and len(text) <= 30 and not says_fault(normalise(text)):
        turn.say("thanks")  # 钱箱修好了，谢谢: news that something works again, and thanks — nothing to report
    elif not (status.impatient(text) and status.chase_in_words(turn, text)):
        _report(turn, text)


def _accepted_in_words(turn: Turn, text: str) -> bool:
    """An engineer's typed "收到" to the one ticket given to them and not yet taken (a reopened ticket back with
    them, a lead's assignment): taken, as the card's 收到 / 接单 button would (conversations/04 row 6). A page still
    open comes first: "收到" answers it."""
    if turn.person.role == "reporter" or not notices.is_ack_word(text) or incidents.paged_for(turn) is not None:
        return False
    given = [t for t in tickets.assigned_to(session=turn.session, person=turn.person)
             if t.claimed_at is None and t.status in ("new", "reopened")]
    if len(given) != 1:  # (none, or several: which one is not said)
        return False
    staff.cmd_claim(turn, Command(BY_NAME["claim"], given[0].id, ""))
    return True


_FIXED = re.compile(r"修好了?|弄好了?|好了|解决了|可以用了|能用了|恢复了|正常了|works (again|now)|fixed", re.I)
_POLITE_WORD = re.compile(r"谢谢|多谢|感谢|辛苦|thanks?|thank you", re.I)
# How one feels, nothing about what is wrong: "烦死了", "无语", "崩溃了".
_VENTING = re.compile(r"^(好|真|太|真是)?(烦|烦死|烦人|气死|气人|无语|崩溃|郁闷|头疼|头大|累死|醉|服|受不了|抓狂|"
                      r"心累|晕)(死)?(我)?(了|啦)?[啊呀吧哦!！。.~～…😩😤😭😫🙄\s]*$")


# Giving up the report in the middle of its dialogue ("算了", "不用了 自己好了", "没事了"): no ticket.
_GIVE_UP = re.compile(r"^(算了|不用了|不报了|不用报了|不修了|没事了|不需要了|自己好了|又好了|已经好了|好了|"
                      r"恢复了|能用了|never ?mind|forget it|fixed itself|works now|it'?s fine now)(?P<tail>.{0,16})$",
                      re.I | re.S)
_FIXED = re.compile(r"好了|恢复|能用|fixed|works|fine now", re.I)


def _gave_up(turn: Turn, text: str) -> bool:
    """The reporter gives up the report they were filing (or it fixed itself): the dialogue ends, no ticket."""
    found = _GIVE_UP.match(text)
    if found is None or says_fault(normalise(found.group("tail"))):
        return False
    turn.dialogue = Dialogue()
    turn.say("fixed_itself" if _FIXED.search(text) else "cancelled")
    return True


def upset(text: str) -> bool:
    """Anger at the bot or the desk, or a person asked for ("什么破机器人 垃圾！！我要找人")."""
    return bool(_A_PERSON.search(text) or _BLAMED.search(text))


def _calm(turn: Turn, text: str) -> None:
    """No lecture, no articles: with a ticket under way, an apology, who has it and how to chase it, and the
    ticket tagged 报修人着急 for its engineer; without one, an apology and straight into the ticket dialogue."""
    mine = tickets.reported_by(session=turn.session, reporter=turn.person, include_resolved=False)
    if not mine:
        turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
        filing.ask_category(turn, intro=turn.t("calm_new") + "\n")
        return
    ticket = mine[0]
    tickets.mark_upset(session=turn.session, ticket=ticket, reporter=turn.person, text=text, now=turn.now)
    if ticket.assignee is not None:
        turn.say("calm_open", ticket=ticket.id, assignee=ticket.assignee.name)
    else:
        turn.say("calm_open_team", ticket=ticket.id,
                 team=ticket.team.name if ticket.team else turn.t("the_service_desk"))


# Thanks, the engineer addressed, and signs around a "yes, fixed" ("好了 谢谢师傅 👍", "嗯嗯 可以了"): what is left
# once they are taken away is the answer — nothing at all (谢谢师傅, 👍) is a yes too.
_POLITE = re.compile(r"(谢谢|多谢|感谢|辛苦了?|麻烦了|thanks?|thank you|thx)(你|您|啦|了|啊)?|师傅|老师|工程师|"
                     r"[👍👌🙏😊🙂😄✌️❤️!！。.~～,，、\s]", re.I)
_OH = re.compile(r"^(嗯+|哦+|噢+|好的?|ok)")
# A rating in words, given with or without having said it is fixed: "五星 师傅很快", "5分", "满分".
_STARS = re.compile(r"^([1-5一二两三四五]|满分)\s*(颗星|星|分|stars?)?(好评)?[\s，,、:：]*(?P<comment>.*)$", re.S)
_NUMERAL = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "满分": 5}
# How pleased, in words ("非常满意", "不太满意 等太久了"): the rating it stands for, longest first.
_PLEASED = {"非常不满意": 1, "很不满意": 1, "特别不满意": 1, "差评": 1, "太差了": 1, "不太满意": 2, "不满意": 2,
            "一般般": 3, "一般": 3, "还行吧": 3, "还行": 3, "凑合": 3, "还可以": 4, "挺好的": 4, "挺好": 4, "不错": 4,
            "满意": 4, "挺满意": 4, "比较满意": 4, "非常满意": 5, "很满意": 5, "特别满意": 5, "超级满意": 5,
            "十分满意": 5, "太满意了": 5, "超赞": 5, "太棒了": 5, "好评": 5, "五星好评": 5, "非常好": 5,
            "very satisfied": 5, "satisfied": 4, "excellent": 5, "not satisfied": 2, "unsatisfied": 2}
_IN_WORDS = re.compile("^(" + "|".join(sorted(map(re.escape, _PLEASED), key=len, reverse=True))
                       + r")(?![a-z])[\s，,、:：!！。.~～👍]*(?P<comment>.*)$", re.S | re.I)


def _stars(text: str, *, marked: bool) -> tuple[int, str] | None:
    """A 1–5 rating and what came with it; `marked`: only with 星 / 分 (or 满分), in words or in star glyphs, not
    a bare digit."""
    if _STAR_GLYPHS.match(text):
        return sum(text.count(star) for star in "⭐★🌟"), ""
    pleased = _IN_WORDS.match(text)
    if pleased is not None:
        return _PLEASED[pleased.group(1).lower()], pleased.group("comment").strip()
    found = _STARS.match(text)
    if found is None:
        return None
    given, marker = found.group(1), found.group(2)
    if not marker and given != "满分" and (marked or not given.isdigit() or (found.end(1) < len(text)
                                          and not re.match(r"[\s，,、:：!！.。~～]", text[found.end(1)]))):
        return None  # (一直不行 and 2楼打印机又坏了 are no ratings; a bare digit is one only on its own)
    return _NUMERAL.get(found.group(1)) or int(found.group(1)), found.group("comment").strip()


def _awaiting_me(turn: Turn, text: str) -> bool:
    """A reply to "is it fixed?" or "please rate" for the reporter's resolved ticket."""
    ticket = tickets.awaiting_reporter(session=turn.session, reporter=turn.person)
    if ticket is None:
        return False
    if ticket.confirmed_at is None:
        rated = _stars(text, marked=True)
        if rated is not None:  # "五星 师傅很快": fixed, and how well
            tickets.confirm(session=turn.session, ticket_id=ticket.id, reporter=turn.person, now=turn.now)
            return _rate(turn, ticket, *rated)
        if _says_fixed(text):
            _confirm(turn, ticket.id)
            return True
        if _NOT_YET.match(text):  # "2", 还没好: the menu's answer, no reason given
            _reopen(turn, ticket.id, "")
            return True
        if _NOT_YET_AND_MORE.match(text) or _NO_THEN_MORE.match(text):
            _reopen(turn, ticket.id, text)  # what they said is the reopen's reason ("还没好 还是卡纸")
            return True
        return False
    if ticket.rating is None and _out_of_range(text):  # 0, 6, 3.5: a rating meant, not one of 1–5
        turn.say("rating_range", ticket=ticket.id)
        return True
    rated = _stars(text, marked=False)
    if rated is None:
        return False
    return _rate(turn, ticket, *rated)


_A_NUMBER = re.compile(r"^(?P<number>\d{1,2}([.,．]\d)?)\s*(分|星|stars?)?$", re.I)


def _out_of_range(text: str) -> bool:
    """A number given as a rating that is not one of 1–5 (0, 6, 10, 3.5)."""
    found = _A_NUMBER.match(text)
    return found is not None and found.group("number") not in ("1", "2", "3", "4", "5")


def _says_fixed(text: str) -> bool:
    """A yes to "is it fixed?": 解决了 / 好了, thanks to the engineer, 嗯嗯 可以了."""
    rest = _POLITE.sub("", text)
    return bool(_YES.match(text) or not rest or _YES.match(rest) or _YES.match(_OH.sub("", rest)))


def _fixed_meanwhile(turn: Turn, text: str) -> bool:
    """好了 / 谢谢师傅 in the middle of a new report while a resolved ticket waits for their word: the answer to its
    "is it fixed?" (the status list asks it in those words), not the new report given up — which goes on."""
    if filing.picked_number(text) is not None or not _says_fixed(text):
        return False
    ticket = tickets.awaiting_reporter(session=turn.session, reporter=turn.person)
    if ticket is None or ticket.confirmed_at is not None:
        return False
    tickets.confirm(session=turn.session, ticket_id=ticket.id, reporter=turn.person, now=turn.now)
    turn.say("confirmed_meanwhile", ticket=ticket.id)
    return True


def _follower_not_fixed(turn: Turn, text: str) -> bool:
    """"还没好 还是不出号" from someone who follows a ticket just resolved (they heard of the resolution): its engineer
    and reporter hear it; they are told so (not offered articles for 还是不出号)."""
    if not (_NOT_YET.match(text) or _NOT_YET_AND_MORE.match(text)) or filing.picked_number(text) is not None:
        return False
    ticket = working.not_fixed_for_follower(session=turn.session, person=turn.person, text=text, now=turn.now)
    if ticket is None:
        return False
    turn.say("follower_not_fixed_ok", ticket=ticket.id, reporter=ticket.reporter.name,
             engineer=ticket.assignee.name if ticket.assignee else turn.t("the_team"))
    return True


def _rate(turn: Turn, ticket: Ticket, score: int, comment: str) -> bool:
    tickets.rate(session=turn.session, ticket_id=ticket.id, reporter=turn.person, score=score,
                 comment=comment, now=turn.now)
    if score <= tickets.LOW_RATING and not comment:  # what went wrong, in their words, for the engineer and lead
        turn.dialogue = Dialogue(step="rating_why", ticket=ticket.id)
        turn.say("rated_low_ask", ticket=ticket.id)
        return True
    turn.say("rated", ticket=ticket.id, score=score)
    return True


_NOTHING_TO_ADD = re.compile(r"^(没有|没了|不用了?|算了|没什么|无|不说了|no|nothing|never ?mind)[!！。.~～]*$", re.I)


def _on_rating_why(turn: Turn, text: str) -> None:
    """The answer to "what was not good?" after a low rating: kept with it, for its engineer and the team lead."""
    number = turn.dialogue.ticket
    turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
    if number is None or _NOTHING_TO_ADD.match(text) or is_courtesy(text):
        turn.say("rated", ticket=number or "", score="")
        return
    ticket = tickets.comment_rating(session=turn.session, ticket_id=number, reporter=turn.person, text=text,
                                    now=turn.now)
    turn.say("rating_comment_thanks" if ticket.assignee is not None else "rating_comment_thanks_lead", ticket=number)


def _confirm(turn: Turn, ticket_id: int) -> None:
    tickets.confirm(session=turn.session, ticket_id=ticket_id, reporter=turn.person, now=turn.now)
    turn.say("ask_rating", ticket=ticket_id)


def _reopen(turn: Turn, ticket_id: int, reason: str) -> None:
    ticket = solutions.reopen(session=turn.session, ticket_id=ticket_id, reporter=turn.person, reason=reason,
                              now=turn.now)
    incident_service.ticket_reopened(session=turn.session, ticket=ticket, reason=reason, now=turn.now)
    due = sla.due(session=turn.session, ticket_id=ticket.id, kind="resolution")
    before = ticket.assignee or tickets.returned_to_queue(session=turn.session, ticket=ticket)
    key = "reopened" if ticket.assignee else "reopened_to_queue" if before is None else \
        "reopened_to_team_away" if is_away(before, turn.now) else "reopened_to_team"
    turn.say(key, ticket=ticket.id, assignee=ticket.assignee.name if ticket.assignee else "",
             before=before.name if before is not None else "", team=ticket.team.name if ticket.team else "",
             due=turn.local(due) if due else "—")


def cmd_confirm(turn: Turn, command: Command | None) -> None:
    if command is None or command.ticket is None:
        turn.say("need_ticket_number", command="/confirm")
        return
    _confirm(turn, command.ticket)


def cmd_reopen(turn: Turn, command: Command | None) -> None:
    if command is None or command.ticket is None:
        turn.say("need_ticket_number", command="/reopen")
        return
    _reopen(turn, command.ticket, command.rest)


def cmd_insist(turn: Turn, command: Command | None) -> None:
    """"1" after the maintenance answer: the reporter's problem is not the maintenance; report it."""
    _report_anyway(turn, maintenance=False)


def _report_anyway(turn: Turn, *, maintenance: bool = True, recurrence: bool = True, group: bool = True) -> None:
    """Report the dialogue's text after all, without the question the reporter just answered."""
    text = turn.dialogue.text
    turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
    if text:
        _report(turn, text, maintenance=maintenance, recurrence=recurrence, group=group)
    else:
        cmd_help(turn, None)


def _report(turn: Turn, text: str, *, maintenance: bool = True, recurrence: bool = True, group: bool = True) -> None:
    """A new fault report: about a system under announced maintenance (answered with the window), the same problem
    as one of the reporter's tickets resolved in the last days (offered to reopen it), part of an open incident
    (a known issue), the fault of one of their unfinished tickets (offered to add to it), the fault of an open
    ticket someone else opened from the same group chat (followed instead),
    else confident KB articles, else straight to a ticket. Every other report counts towards surge detection,
    finished dialogue or not."""
    if maintenance and notices.under_maintenance(turn, text):
        return
    if recurrence and _recurs(turn, text):
        return
    gibberish = _gibberish(text)
    report_id: int | None = None
    outcome = None
    matcher = turn.engine.index.matcher(turn.session)
    suggestions = matcher.suggest(text)  # (first: what the report is likely about tells it apart too)
    leaves = leaf_names(session=turn.session) if suggestions else {}
    if not gibberish:
        leaf = filing.best_leaf(suggestions, leaves=leaves, matcher=matcher) if suggestions else None
        outcome = turn.engine.surge.report(session=turn.session, person=turn.person, text=text,
                                           channel=turn.inbound.platform, now=turn.now, category=leaf)
        if outcome.known is not None:
            incidents.known_issue(turn, outcome.known, outcome.report, text)
            return
        report_id = outcome.report.id
        about = matcher.doc(suggestions[0].article_id) if suggestions else None  # (what the KB takes it for)
        # (after the surge detector: a report all the same; not asked again once they said it is a new problem)
        if recurrence and (_still_open(turn, text) or _follows_up(turn, text, about.category if about else "")):
            return
        if group and groups.follow_instead(turn, text, category_id=leaf):
            return
    if suggestions:
        found = offer(turn, text, suggestions, report=outcome.report if outcome is not None else None,
                      leaves=leaves, matcher=matcher)
        turn.session.flush()
        turn.dialogue.suggestion = found.id
        return
    if gibberish:
        turn.say("gibberish", text=text[:20])
        turn.dialogue = Dialogue(step="lost", attachments=turn.dialogue.attachments)  # its options are numbered
        return
    turn.dialogue = Dialogue(text=text, attachments=turn.dialogue.attachments, report=report_id)
    asks = _only_asks(text)
    filing.ask_category(turn, intro=turn.t("no_match_question_intro") + "\n" if asks else turn.t("no_match_intro"))


def _only_asks(text: str) -> bool:
    """A question that says nothing is wrong (加班餐补怎么报销 / 周日服务台有人吗): maybe not for IT at all."""
    normalised = normalise(text)
    return asks_question(normalised) and not says_fault(normalised)


def alike_earlier(*, session: Session, reports: Sequence[tuple[str, dict[int, float]]], now: datetime,
                  again: Sequence[bool] = ()) -> tuple[dict[int, int], dict[int, int]]:
    """For reports (reporter id, report signature), by position, the number of the reporter's earlier ticket the
    report is most like, when as alike as `RECURS_AT` (`RECURS_AGAIN_AT` for those whose `again` is true: they say
    the fault is back): (among those resolved in the last `FOLLOW_UP_WITHIN` — the problem back —, among those
    unfinished — the same fault reported again while it is worked on)."""
    unfinished, resolved = tickets.earlier_of(session=session, reporter_ids=list({r for r, _ in reports}), now=now)
    return _most_alike(reports, resolved, again), _most_alike(reports, unfinished, again)


def _most_alike(reports: Sequence[tuple[str, dict[int, float]]], earlier: list[tuple[int, str, str]],
                again: Sequence[bool]) -> dict[int, int]:
    by_reporter: dict[str, list[tuple[dict[int, float], int]]] = {}
    for number, reporter_id, description in earlier:
        by_reporter.setdefault(reporter_id, []).append((signature(description), number))
    found: dict[int, int] = {}
    for at, (reporter_id, mine) in enumerate(reports):
        best = max(((similarity(mine, theirs), number) for theirs, number in by_reporter.get(reporter_id, ())),
                   key=lambda pair: pair[0], default=None)  # in the given order, the first of equals
        if best is not None and best[0] >= (RECURS_AGAIN_AT if at < len(again) and again[at] else RECURS_AT):
            found[at] = best[1]
    return found


UNLIKE_ANSWER = 0.1  # a fault this unlike the ticket waiting for an answer may be a new problem: asked


def _answering(turn: Turn, text: str) -> bool:
    """While an engineer's question is open the reporter's next message is the answer — unless it asks how things
    stand (修好没: answered as the question it is, the engineer's stays open), or reports a fault unlike the
    ticket's (打印机又卡纸了 while a VPN ticket waits): then they are asked which it is, 1 the answer, 2 a new one."""
    ticket = working.waiting_on(session=turn.session, reporter=turn.person)
    if ticket is None:
        return False
    if (status.asks_status(text) or status.impatient(text)) and len(text) <= 30:
        return False
    if says_fault(normalise(text)) and similarity(signature(text), signature(
            f"{ticket.title} {ticket.description}")) < UNLIKE_ANSWER:
        turn.dialogue = Dialogue(text=text, choices=[f"/add {ticket.id} {text}", "/anew"],
                                 attachments=turn.dialogue.attachments)
        turn.say("answer_or_new", ticket=ticket.id, title=ticket.title,
                 buttons=(Button(turn.t("btn_add_to", ticket=ticket.id), "1"), Button(turn.t("btn_new_problem"), "2")))
        return True
    return following.answer_waiting(turn)


# What people write about a ticket already under way — what they tried, that it still fails, what the screen says
# now, when the engineer will come — rather than a new fault: "重启了 还是卡", "面板上显示E-03", "师傅几点能到？".
_FOLLOW_UP = re.compile(r"还是|仍然|依然|照样|又(不|没|出|卡|坏|断|黑|报)|试了|试过|重启了|按(你|您)说的|照做|"
                        r"显示|提示|代码|错误码|报错|[a-z]-?\d{2,}|几点|什么时候|多久|多长时间|能到|能来|来吗|到哪|上门|"
                        r"师傅|工程师", re.I)
_AGAIN = re.compile(r"又(?=不|没|出|卡|坏|断|黑|报)")  # a fault again: of the ticket's thing, or of another
REPLY_WITHIN = timedelta(hours=24)  # an engineer's words this recent make the reporter's next message likely a reply


def _follows_up(turn: Turn, text: str, kb_category: str = "") -> bool:
    """More about the reporter's one ticket under way, not a new fault — in the words follow-ups use, or just after
    its engineer wrote to them: asked whether to add it to that ticket (1, its engineer hears it) or report it as a
    new problem (2). It went to the KB and a new ticket's dialogue, and the engineer never heard it. Not a fault the
    knowledge base places in another category, in no follow-up's words ("身份证读卡器读不了卡" while a printer ticket
    is worked on) or in words unlike the ticket's ("打印机又卡纸了" while a card reader's is): a new report, as it
    reads."""
    if turn.person.id not in may_follow_up(session=turn.session, reports=[(turn.person.id, text)], now=turn.now):
        return False
    [ticket] = tickets.reported_by(session=turn.session, reporter=turn.person, include_resolved=False)
    if kb_category and ticket.category is not None and not _same_category(kb_category, ticket.category) \
            and says_fault(normalise(text)) and (not _FOLLOW_UP.search(text) or (
                not _FOLLOW_UP.search(_AGAIN.sub("", text)) and similarity(signature(text), signature(
                    f"{ticket.title} {ticket.description}")) < UNLIKE_ANSWER)):
        return False  # (打印机又卡纸了 while a card reader's ticket is worked: "again", but of another thing)
    _add_or_new(turn, ticket, text, "follow_up_or_new")
    return True


def _same_category(kb_category: str, category: Category) -> bool:
    """Whether an article's `终端设备/打印机` names the catalog leaf (its parent too, when both say one)."""
    parts = [part.strip() for part in re.split(r"[/›>]", kb_category) if part.strip()]
    if not parts or parts[-1] != category.name:
        return False
    return len(parts) == 1 or category.parent is None or parts[-2] == category.parent.name


def may_follow_up(*, session: Session, reports: Sequence[tuple[str, str]], now: datetime) -> set[str]:
    """Of (reporter id, text) pairs, the reporters `_follows_up` may ask (one ticket under way, and words of a
    follow-up or its engineer's recent words): a batch leaves them to the classic way."""
    ids = [person_id for person_id, _ in reports]
    counts = dict(session.execute(select(Ticket.reporter_id, func.count()).where(
        Ticket.reporter_id.in_(ids), Ticket.status.in_(tickets.OPEN_STATUSES)).group_by(Ticket.reporter_id)).all())
    single = [(person_id, text) for person_id, text in reports if counts.get(person_id) == 1]
    out = {person_id for person_id, text in single if _FOLLOW_UP.search(text)}
    rest = [person_id for person_id, _ in single if person_id not in out]
    if rest:
        spoken = select(Ticket.reporter_id).join(TicketEvent, TicketEvent.ticket_id == Ticket.id).where(
            Ticket.reporter_id.in_(rest), Ticket.status.in_(tickets.OPEN_STATUSES), TicketEvent.public,
            TicketEvent.kind.in_(("comment", "asked")), TicketEvent.at >= now - REPLY_WITHIN,
            TicketEvent.actor_id != Ticket.reporter_id)
        out |= set(session.scalars(spoken))
    return out


def _still_open(turn: Turn, text: str) -> bool:
    """The fault of one of the reporter's unfinished tickets, reported again ("大厅打印机卡纸了" while #1003 about it
    waits): asked before any article whether it is that one — 1 adds the words to it (its engineer hears them),
    2 reports a new problem. No second ticket for one fault."""
    number = alike_earlier(session=turn.session, reports=[(turn.person.id, signature(text))], now=turn.now,
                           again=[says_again(text)])[1].get(0)
    ticket = turn.session.get(Ticket, number) if number is not None else None
    if ticket is None:
        return False
    _add_or_new(turn, ticket, text, "already_reported")
    return True


def _add_or_new(turn: Turn, ticket: Ticket, text: str, key: str) -> None:
    """Ask whether the message is about the reporter's ticket under way (1 adds it) or a new problem (2)."""
    who = turn.t("status_engineer", name=ticket.assignee.name) if ticket.assignee else (
        turn.t("status_team", team=ticket.team.name) if ticket.team else "")
    turn.dialogue = Dialogue(text=text, choices=[f"/add {ticket.id} {text}", "/anew"],
                             attachments=turn.dialogue.attachments)
    turn.say(key, ticket=ticket.id, title=ticket.title, created=turn.local(ticket.created_at),
             status=status.in_words(turn, ticket), who=who,
             buttons=(Button(turn.t("btn_add_to", ticket=ticket.id), "1"), Button(turn.t("btn_new_problem"), "2")))


def still_broken(text: str) -> bool:
    """"还没好", "还不行 又卡了": that something is still (or again) broken, naming nothing new."""
    return bool(_NOT_YET.match(text) or _NOT_YET_AND_MORE.match(text))


def still_broken_after(*, session: Session, reports: Sequence[tuple[str, str]], now: datetime) -> set[str]:
    """Of (reporter id, text) pairs, the reporters saying `still_broken` with a ticket resolved in the last days:
    `_recurs` asks them about it (a batch leaves them to the classic way)."""
    saying = [person_id for person_id, text in reports if still_broken(text)]
    return {reporter for _, reporter, _ in tickets.earlier_of(session=session, reporter_ids=saying, now=now)[1]}


def _recurs(turn: Turn, text: str) -> bool:
    """A report about what one of the reporter's recently resolved tickets was about ("打印机又卡纸了 周一刚修的"):
    before any article, ask whether it is that problem again — 1 reopens the ticket (back to its engineer) or,
    past the time it could be reopened, reports it as a new ticket linked to it; 2 reports a new problem."""
    number = alike_earlier(session=turn.session, reports=[(turn.person.id, signature(text))], now=turn.now,
                           again=[says_again(text)])[0].get(0)
    if number is None and still_broken(text):
        # "还没好 又卡了" / "还不行" names no fault of its own: it is about the ticket resolved last (it was offered
        # the articles of whatever the matcher made of 卡 or 不行)
        _, resolved = tickets.earlier_of(session=turn.session, reporter_ids=[turn.person.id], now=turn.now)
        number = resolved[0][0] if resolved else None
    ticket = turn.session.get(Ticket, number) if number is not None else None
    if ticket is None:
        return False
    params = {"ticket": ticket.id, "title": ticket.title, "when": turn.local(ticket.resolved_at),
              "engineer": ticket.assignee.name if ticket.assignee else turn.t("nobody"),
              "summary": ticket.resolution or ""}
    if tickets.may_reopen(ticket, now=turn.now):
        turn.dialogue = Dialogue(text=text, choices=[f"/reopen {ticket.id} {text}", "/anew"],
                                 attachments=turn.dialogue.attachments)
        turn.say("recurrence", **params, buttons=(Button(turn.t("btn_reopen", ticket=ticket.id), "1"),
                                                  Button(turn.t("btn_new_problem"), "2")))
    else:
        turn.dialogue = Dialogue(text=text, choices=[f"/followup {ticket.id}", "/anew"],
                                 attachments=turn.dialogue.attachments)
        turn.say("recurrence_late", **params, days=tickets.REOPEN_WITHIN.days,
                 buttons=(Button(turn.t("btn_follow_up", ticket=ticket.id), "1"),
                          Button(turn.t("btn_new_problem"), "2")))
    return True


def cmd_followup(turn: Turn, command: Command | None) -> None:
    """"1" after "is this #N again?" when #N can no longer be reopened: a new ticket for the dialogue's report,
    in #N's category and urgency and linked to it — no articles (they were #N's answer already), no questions."""
    earlier = turn.session.get(Ticket, command.ticket) if command is not None and command.ticket else None
    text = turn.dialogue.text
    turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
    if earlier is None or earlier.reporter_id != turn.person.id or not text:
        cmd_help(turn, None)
        return
    # It counts towards surge detection like any report; of an open incident, it is that incident's.
    outcome = turn.engine.surge.report(session=turn.session, person=turn.person, text=text,
                                       channel=turn.inbound.platform, now=turn.now)
    if outcome.known is not None:
        incidents.known_issue(turn, outcome.known, outcome.report, text)
        return
    outcome.report.category_id = outcome.report.category_id or earlier.category_id
    ticket = tickets.open_ticket(
        session=turn.session, reporter=turn.person, category=earlier.category, urgency=earlier.urgency,
        description=text, channel=turn.inbound.platform, chat_id=turn.inbound.chat.id or None,
        chat_thread=turn.inbound.chat.thread_id, title=tidy(text), now=turn.now, tz=turn.engine.tz.key,
        attachment_ids=turn.dialogue.attachments, follows=earlier)
    incidents.ticket_opened(turn, outcome.report.id, ticket)
    turn.dialogue = Dialogue()
    filing.say_created(turn, ticket)


def cmd_anew(turn: Turn, command: Command | None) -> None:
    """"2" after "is this #N again?": a new problem after all; report it."""
    _report_anyway(turn, recurrence=False)


def cmd_separate(turn: Turn, command: Command | None) -> None:
    """"1" after "the group's #N is about this already": a problem of one's own after all — no longer following
    #N, report it (without asking about the group's tickets again)."""
    if command is not None and command.ticket is not None:
        working.unfollow(session=turn.session, ticket_id=command.ticket, person=turn.person)
        turn.dialogue.attachments = groups.take_back(turn, command.ticket)
    _report_anyway(turn, recurrence=False, group=False)


def offer(turn: Turn, text: str, suggestions: Sequence[Suggestion], *, report: FaultReport | None,
          leaves: dict[str, int], matcher: Matcher,
          helped: Sequence[tuple[str, datetime]] | None = None) -> SuggestionSession:
    """Offer the matched articles: what was offered is recorded, the dialogue waits for a number, and the report
    gets the category of the best article. When the reporter solved a problem with one of them lately (`helped`:
    their `suggestions.self_helped`, looked up here when not given), they are reminded of it, so as not to be sent
    round in circles. The offer's id comes with the caller's flush (so that a batch of messages is written in one
    statement); the caller puts it in `turn.dialogue.suggestion`."""
    ids = [s.article_id for s in suggestions]
    if helped is None:
        helped = suggestions_log.self_helped(session=turn.session, person_ids=[turn.person.id],
                                             now=turn.now).get(turn.person.id, [])
    earlier = next(((article, at) for article, at in helped if article in ids), None)
    feedback.record(session=turn.session, article_ids=ids, kind="offered", now=turn.now, person_id=turn.person.id,
                    query=text)
    found = suggestions_log.start(session=turn.session, person=turn.person, channel=turn.inbound.platform,
                                  query=text, offered=ids, now=turn.now)
    turn.dialogue = Dialogue(step="suggesting", text=text, offered=ids, attachments=turn.dialogue.attachments,
                             report=report.id if report is not None else None,
                             helped=[earlier[0], earlier[1].isoformat()] if earlier else None)
    if report is not None:
        leaf = filing.best_leaf(suggestions, leaves=leaves, matcher=matcher)
        if report.category_id != leaf:  # (a batch records its reports with it: no second write)
            report.category_id = leaf
    lines = "\n".join(f"{i}. {s.title}" for i, s in enumerate(suggestions, 1))
    numbers = "/".join(str(i) for i in range(1, len(ids) + 1))
    buttons = tuple(Button(f"{i}. {s.title}", str(i)) for i, s in enumerate(suggestions, 1))
    turn.say("suggestions_again" if earlier else "suggestions", name=turn.person.name, lines=lines, numbers=numbers,
             when=turn.local(earlier[1]) if earlier else "", number=ids.index(earlier[0]) + 1 if earlier else 0,
             buttons=(*buttons, Button(turn.t("btn_human"), "0")))
    return found


def plainly_a_report(text: str) -> bool:
    """Whether free text from someone with no dialogue under way and nothing waiting on them can only be a new
    fault report (not a courtesy, an acknowledgement, a yes or no, a rating, a status question, or gibberish):
    such messages may be taken in a batch, and `free_text` would send them to `_report` too."""
    text = norm(text)
    return not (_YES.match(text) or _NO.match(text) or _RATING.match(text) or _THANKS.match(text)
                or notices.is_ack_word(text) or _GREETING.match(text) or is_courtesy(text) or status.asks_status(text)
                or upset(text) or _gibberish(text))


def _on_lost(turn: Turn, text: str) -> bool:
    """A number answering the options listed after a message that was not understood: 1 describe the problem,
    2 progress, 3 help. Anything else is read afresh."""
    if text not in ("1", "2", "3"):
        return False
    turn.dialogue = Dialogue(attachments=turn.dialogue.attachments)
    if text == "1":
        turn.say("describe_problem")
    elif text == "2":
        status.cmd_status(turn, None)
    else:
        cmd_help(turn, None)
    return True


def _gibberish(text: str) -> bool:
    return text.isascii() and not re.search(r"[a-z]{2,}\s+[a-z]{2,}", text, re.I)


# After reading an article: "I tried it and it did not help", in the words people use — a no, and what they say
# with it is more about the fault (it was taken for a new report that replaced the first).
_PARTICLES = re.compile(r"[吧啊呀了嘛呢!！。.~～\s]+$")
_TRIED_BUT = re.compile(r"(试了|试过|照做|按(你|您|上面|步骤)?说的|弄了|做了|重启了|都试)[^。！!?？]{0,12}"
                        r"(不行|没用|没解决|不管用|没效果|没反应|还是)|^(不行|没用|不管用|没效果)")


def _on_suggestions(turn: Turn, text: str) -> bool:
    d = turn.dialogue
    picked = filing.picked_number(text)  # "1", "1。", "第一个", "看看第1条"
    if picked is not None and 1 <= picked <= len(d.offered):
        article = get_doc(session=turn.session, article_id=d.offered[picked - 1])
        if article is None:
            turn.say("article_gone")
            return True
        feedback.record(session=turn.session, article_ids=[article.id], kind="viewed", now=turn.now,
                        person_id=turn.person.id, query=d.text)
        steps = article.steps or article.body
        if len(steps) > ARTICLE_PREVIEW:
            steps = steps[:ARTICLE_PREVIEW].rstrip() + "…"
        d.step, d.viewed = "viewing", article.id
        turn.say("article", title=article.title, steps=steps,
                 url=f"{turn.engine.public_url}/kb/{article.id}",
                 buttons=(Button(turn.t("btn_solved"), "解决了"), Button(turn.t("btn_not_solved"), "没解决")))
        return True
    if picked is not None and picked > len(d.offered) and text.strip().isdigit():  # "3" to a menu of two: a slip
        turn.say("pick_an_article", count=len(d.offered))
        return True
    if d.step == "viewing" and _YES.match(text) and d.viewed:
        feedback.record(session=turn.session, article_ids=[d.viewed], kind="solved", now=turn.now,
                        person_id=turn.person.id, query=d.text)
        articles.learn_phrasing(session=turn.session, article_id=d.viewed, text=d.text, now=turn.now)
        suggestions_log.end(session=turn.session, session_id=d.suggestion, outcome="solved", now=turn.now,
                            article_id=d.viewed)
        turn.engine.surge.solved(session=turn.session, person=turn.person, now=turn.now)
        turn.dialogue = Dialogue()
        turn.say("deflected")
        return True
    described = _NO_AND_MORE.match(text)
    tried = d.step == "viewing" and d.viewed is not None and _TRIED_BUT.search(text) is not None
    if _NO.match(text) or described or tried:
        rejected = [a for a in d.offered if a != d.viewed] if d.viewed else d.offered
        feedback.record(session=turn.session, article_ids=[*([d.viewed] if d.viewed else []), *rejected],
                        kind="rejected", now=turn.now, person_id=turn.person.id, query=d.text)
        more = described.group("more").strip() if described else text if tried else ""
        if _NO.match(_PARTICLES.sub("", more)) or (upset(more) and len(more) <= 8):
            more = ""  # "0 转人工", "没用 转人工吧": the menu's own words, nothing about the fault
        if filing.joined_incident(turn, more):
            return True
        if more:  # "0 屏幕都不亮了 充电也没反应" (conversations/09), "试了 不行啊 终端号…": added to the description
            d.text, d.described = f"{d.text}\n{more}", True
            leaves = leaf_categories(session=turn.session)
            recommended = next((c for c in leaves if c.id == filing.recommended_leaf(turn, leaves)), None)
            if recommended is not None:  # the best article's category, confirmed in one line
                d.category_id = recommended.id
                filing.ask_urgency(turn, intro=turn.t("to_ticket_confirm", category=recommended.path) + "\n")
                return True
        d.step = "category"
        filing.ask_category(turn, intro=turn.t("to_ticket_intro"))
        return True
    if picked is None and _GIVE_UP.match(text):  # "不用了 自己好了" to the articles: no report, and no ticket form
        suggestions_log.end(session=turn.session, session_id=d.suggestion, outcome="abandoned", now=turn.now)
        return _gave_up(turn, text)
    return False


def cmd_expired(turn: Turn, command: Command | None) -> None:
    """A button whose action the desk no longer knows (pressed days later, or after a restart without Redis)."""
    turn.say("button_expired")


def cmd_start(turn: Turn, command: Command | None) -> None:
    """/start, what Telegram sends when someone opens the bot: greeted (it was 没有 /start 这个命令)."""
    turn.say("greeting", name=turn.person.name)


def cmd_help(turn: Turn, command: Command | None) -> None:
    turn.say("help_staff" if tickets.is_staff(turn.person) else "help_reporter")


