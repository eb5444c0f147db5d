"""A long paste — a print service's log, a page of error output — is kept, not refused (conversations/10).

Too long to read as a message, it is stored as a text attachment (its first `MAX_KEPT` bytes), never echoed back;
what it says is wrong is read from its error lines: error codes to show the reporter, the lines themselves to
match the knowledge base with when it is reported as a new problem. Nothing else happens until the reporter
chooses: attach it to one of their tickets under way, report it as a new problem, or leave it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from wuyou.bot.dialogue import Dialogue
from wuyou.bot.messages import Button
from wuyou.desk import attachments, tickets

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

MAX_KEPT = 64 * 1024  # bytes of a paste kept in its attachment; the rest is cut off (and the reporter told so)
OFFERED_TICKETS = 3  # the reporter's tickets under way it may be attached to, newest first

_ERROR_LINE = re.compile(r"error|fail|fatal|exception|denied|refused|timed? ?out|unable|cannot|can't|"
                         r"错误|失败|异常|报错|超时|拒绝|无法|不能", re.I)
_CODE = re.compile(r"\b0x[0-9a-f]{4,16}\b|"
                   r"(?:\berror ?code|\berr(?:or)?|错误码|错误代码|代码)\s*[:：=#]?\s*([A-Z]*-?\d{2,8})\b", re.I)
_STAMP = re.compile(r"^[\s\[]*\d{2,4}[-/.]\d{1,2}[-/.]\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\]?\s*")
LINE_CHARS = 120  # an error line as matched and filed
KEY_LINES = 3


def error_lines(text: str) -> list[str]:
    """The paste's distinct error lines, without their time stamps, in order (at most `KEY_LINES`)."""
    found: list[str] = []
    for line in text.splitlines():
        line = _STAMP.sub("", line).strip()[:LINE_CHARS]
        if line and _ERROR_LINE.search(line) and line not in found:
            found.append(line)
            if len(found) == KEY_LINES:
                break
    return found


def error_codes(text: str) -> list[str]:
    """The error codes the paste names (0x00000709, 错误代码 E-13), distinct, in order, at most three."""
    codes: list[str] = []
    for match in _CODE.finditer(text):
        code = match.group(1) or match.group(0)
        if code not in codes:
            codes.append(code)
            if len(codes) == 3:
                break
    return codes


def keep(turn: Turn) -> None:
    """Store the paste as the reporter's attachment and ask what it is for (in the middle of a report: kept for
    its ticket, its error lines added to the report, and the question asked before still stands)."""
    text = turn.text
    data = text.encode("utf-8")
    cut = len(data) > MAX_KEPT
    if cut:
        data = data[:MAX_KEPT].decode("utf-8", "ignore").encode("utf-8")
    name = turn.t("pasted_name", time=turn.now.astimezone(turn.engine.tz).strftime("%H%M"))
    stored = attachments.store(session=turn.session, media=turn.engine.media, person=turn.person, kind="file",
                               name=name, content_type="text/plain; charset=utf-8", data=data, now=turn.now)
    lines = error_lines(text)
    codes = error_codes(text)
    errors = "、".join(codes) if codes else lines[0][:60] if lines else ""
    said = turn.t("pasted", length=max(100, round(len(text), -2)), name=name,
                  cut=turn.t("pasted_cut", kb=MAX_KEPT // 1024) if cut else "",
                  errors=turn.t("pasted_errors", errors=errors) if errors else "")
    d = turn.dialogue
    if d.step:
        d.attachments = [*d.attachments, stored.id]
        words = "\n".join(line for line in lines if line not in d.text)
        if words:
            d.text = f"{d.text}\n{words}".strip()
        turn.say("pasted_kept", said=said)
        return
    report = "\n".join(lines) or "\n".join(line.strip()[:LINE_CHARS] for line in text.splitlines() if line.strip())[
        :LINE_CHARS * 2]
    under_way = tickets.reported_by(session=turn.session, reporter=turn.person, include_resolved=False)
    under_way = under_way[:OFFERED_TICKETS]
    options = [turn.t("pasted_option_attach", ticket=t.id, title=f"「{t.title}」" if len(under_way) > 1 else "")
               for t in under_way] + [turn.t("pasted_option_new"), turn.t("pasted_option_none")]
    turn.dialogue = Dialogue(step="pasted", text=report, attachments=[*d.attachments, stored.id],
                             choices=[*(f"/add {t.id}" for t in under_way), "/anew", "/cancel"])
    turn.say("pasted_ask", said=said, options="\n".join(f"{i}. {option}" for i, option in enumerate(options, 1)),
             buttons=tuple(Button(f"{i}. {option}", str(i)) for i, option in enumerate(options, 1)))
