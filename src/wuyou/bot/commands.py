"""Chat commands: English with `/`, Chinese without; typos get the closest command suggested."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from wuyou.kb.text import syllable_of, to_simplified


@dataclass(frozen=True)
class Spec:
    name: str  # the English name, without the slash
    zh: tuple[str, ...]  # Chinese forms
    staff: bool  # engineers, leads and admins only
    needs_ticket: bool = False  # takes a ticket number first
    hidden: bool = False  # button actions, not listed in help
    takes_text: bool = False  # its Chinese form may be followed by words ("发布知识 KB-T1024")
    ticket_optional: bool = False  # without a number it means the person's only open ticket ("催单")
    words_for_reporters: bool = False  # a reporter writing its Chinese form ("公告栏…") means words, not the command


SPECS: tuple[Spec, ...] = (
    Spec("queue", ("待办",), staff=True),
    Spec("claim", ("接单",), staff=True, needs_ticket=True),
    Spec("release", ("退单",), staff=True, needs_ticket=True),
    Spec("mine", ("我的",), staff=True),
    Spec("show", ("查看",), staff=True, needs_ticket=True),
    Spec("note", ("备注",), staff=True, needs_ticket=True),
    Spec("ask", ("追问",), staff=True, needs_ticket=True),
    Spec("reply", ("答复",), staff=True, needs_ticket=True),
    Spec("transfer", ("转派",), staff=True, needs_ticket=True),
    Spec("priority", ("优先级",), staff=True, needs_ticket=True),
    Spec("category", ("分类", "改分类"), staff=True, needs_ticket=True, words_for_reporters=True),
    Spec("merge", ("合并",), staff=True, needs_ticket=True),
    Spec("link", ("关联",), staff=True, needs_ticket=True),
    Spec("hold", ("挂起", "暂缓"), staff=True, needs_ticket=True, words_for_reporters=True),
    Spec("resume", ("恢复处理", "取消挂起", "继续处理"), staff=True, needs_ticket=True, words_for_reporters=True),
    Spec("resolve", ("解决",), staff=True, needs_ticket=True),
    Spec("replies", ("常用语",), staff=True, words_for_reporters=True),
    Spec("draft", ("转知识",), staff=True, needs_ticket=True),
    Spec("publish", ("发布知识",), staff=True, takes_text=True),
    Spec("approve", ("批准绑定",), staff=True, takes_text=True),
    Spec("refuse", ("拒绝绑定",), staff=True, takes_text=True),
    Spec("unbind", ("撤销绑定",), staff=True, takes_text=True),
    Spec("incident", ("应急",), staff=True, takes_text=True),
    Spec("update", ("通报",), staff=True, takes_text=True),
    Spec("oncall", ("值班",), staff=True, takes_text=True),
    Spec("away", ("请假", "休假"), staff=True, takes_text=True),
    Spec("back", ("销假",), staff=True, takes_text=True),
    Spec("absences", ("我的请假", "请假列表"), staff=True, takes_text=True),  # (also /away list)
    Spec("cancelaway", ("取消请假", "撤销请假"), staff=True, takes_text=True),  # (also /away cancel N)
    Spec("notice", ("发公告", "公告"), staff=True, takes_text=True, words_for_reporters=True),
    Spec("maintenance", ("发维护通知", "维护通知", "维护窗口"), staff=True, takes_text=True, words_for_reporters=True),
    Spec("sendnotice", (), staff=True, hidden=True),
    Spec("handback", (), staff=True, hidden=True, takes_text=True),  # "1" after 请假: the person's tickets back
    Spec("new", ("报障", "报修", "我要报修", "我想报修", "我要报障", "申请报修"), staff=False),
    Spec("status", ("进度", "查进度"), staff=False),
    Spec("chase", ("催单", "催一下"), staff=False, needs_ticket=True, ticket_optional=True),
    Spec("add", ("补充",), staff=False, needs_ticket=True, ticket_optional=True),
    Spec("cancel", ("取消", "撤单"), staff=False, takes_text=True),
    Spec("help", ("帮助",), staff=False),
    Spec("start", (), staff=False, hidden=True),  # Telegram's first message to a bot: a greeting
    Spec("expired", (), staff=False, hidden=True),  # a chat button whose action is forgotten
    Spec("confirm", (), staff=False, needs_ticket=True, hidden=True),
    Spec("reopen", (), staff=False, needs_ticket=True, hidden=True),
    Spec("ack", (), staff=False, needs_ticket=True, hidden=True),  # a notice's 收到 button
    Spec("insist", (), staff=False, hidden=True),  # report anyway, during a maintenance window
    Spec("anew", (), staff=False, hidden=True),  # a new problem, not the recently resolved ticket's
    Spec("followup", (), staff=False, needs_ticket=True, hidden=True),  # that ticket's problem, past its reopening
    Spec("separate", (), staff=False, needs_ticket=True, hidden=True),  # not the group's ticket's problem after all
    Spec("answerfor", (), staff=False, needs_ticket=True, hidden=True),  # a colleague's words: the reporter's answer
)
BY_NAME = {s.name: s for s in SPECS}
_ZH = sorted(((zh, s) for s in SPECS for zh in s.zh), key=lambda p: -len(p[0]))
_LEADING_MENTION = re.compile(r"^(@\S+\s+)+")
# The ticket number after a command word, then what follows it: "解决 1007 换了纸", and as people type on a phone
# keyboard, "解决：1007，换了纸" / "接单:1007" (full-width folded by `clean`).
_TICKET = re.compile(r"^[:,、]?\s*#?(\d{1,9})(?:\s+|[,:;。、](?!:)\s*|$)(.*)$", re.S)  # (not "1001 ::重启"'s colons)
# "解决1003换了读卡器": a ticket number (three digits or more: not 催单2次了) with the words glued after it.
_GLUED_TICKET = re.compile(r"^[:,、]?\s*#?(\d{3,9})(?=[\u4e00-\u9fff])(.*)$", re.S)
_BARE = re.compile(r"^([a-z]+)\s+(#?\d{1,9}(?:[\s,:;。、].*)?)$", re.S)  # "claim 1012": an English command word
# The English command words that are the whole message, sent without their slash ("help", "status"): never an
# English fault report on their own.
_BARE_ALONE = frozenset(("help", "status", "queue", "mine", "chase", "cancel"))


@dataclass(frozen=True)
class Command:
    spec: Spec
    ticket: int | None
    rest: str


@dataclass(frozen=True)
class UnknownCommand:
    typed: str  # what followed the slash (or, with `guess`, the word typed before a ticket number)
    rest: str
    guess: Spec | None = None  # the command a mistyped Chinese word sounds like ("接丹 1006": 接单)


def without_mentions(text: str) -> str:
    """The text without the `@bot` mentions it starts with (a group message addressed to the bot)."""
    return _LEADING_MENTION.sub("", text.lstrip())


# How engineers say "I'll take it", "let me see" or "done" in their own words, with the ticket number.
_END = r"[!！。.~～]*$"
_TAKE = re.compile(rf"^#?(?P<n>\d{{2,9}})\s*(我来|我接|我去|交给我|我处理|我跟进)(了|吧|啦|一下)?{_END}|"
                   rf"^(我来|我接|接|我去)(了|下|一下)?\s*#?(?P<m>\d{{2,9}}){_END}")
_TAKE_WHICH = re.compile(rf"^(接单|我来|我接|我接了|我来吧|我来处理|我去){_END}")  # no number: which one? the queue
_LOOK = re.compile(rf"^#?(?P<n>\d{{2,9}})\s*(我看看|我看下|我看一下|什么情况|啥情况|怎么回事){_END}")
_DONE = re.compile(r"^#?(?P<n>\d{2,9})\s*(已处理|已解决|已修复|处理好了|解决了|修好了|搞定了?|弄好了)"
                   r"[\s，,:：。.!！]*(?P<rest>.*)$", re.S)
_HOLD = re.compile(r"^#?(?P<n>\d{2,9})\s*(先?挂起|暂缓)[\s，,:：。.!！]*(?P<rest>.*)$", re.S)
_RESUME = re.compile(rf"^#?(?P<n>\d{{2,9}})\s*(恢复处理|继续处理|取消挂起){_END}")


def staff_words(text: str) -> str | None:
    """An engineer's own words for claiming, looking at or resolving a ticket, as the command: "1024 我来" →
    `/claim 1024` ("我来" alone: the queue, with its claim buttons), "1024 什么情况" → `/show 1024`, "1024 已处理
    换了搓纸轮" → `/resolve 1024 换了搓纸轮`, "1024 挂起 等厂商 到 明天" → `/hold …`, "1024 恢复处理" →
    `/resume 1024`."""
    text = clean(text)
    if (take := _TAKE.match(text)) is not None:
        return f"/claim {take.group('n') or take.group('m')}"
    if _TAKE_WHICH.match(text):
        return "/queue"
    if (look := _LOOK.match(text)) is not None:
        return f"/show {look.group('n')}"
    if (done := _DONE.match(text)) is not None:
        return f"/resolve {done.group('n')} {done.group('rest').strip()}".rstrip()
    if (held := _HOLD.match(text)) is not None:
        return f"/hold {held.group('n')} {held.group('rest').strip()}".rstrip()
    if (resumed := _RESUME.match(text)) is not None:
        return f"/resume {resumed.group('n')}"
    return None


def staff_misuse(text: str) -> Command | None:
    """A staff command word, a space, then no ticket number it could mean ("接单 abc", "查看 一零二四", a number of
    twenty digits): the command all the same — its answer asks for the number — rather than a fault report."""
    text = clean(text)
    for zh, spec in _ZH:
        if spec.staff and spec.needs_ticket and not spec.words_for_reporters and text.startswith(zh + " "):
            rest = text[len(zh):].strip()
            return None if _TICKET.match(rest) else Command(spec, None, rest)
    return None


# A word and a ticket number after it: "接丹 1006", "jiedan 1007", "催蛋1024".
_WORD_NUMBER = re.compile(r"^(?P<word>[^\d\s#/@:：,，]{2,8}?)\s*#?(?P<n>\d{3,9})(?P<rest>\s.*)?$", re.S)


def _sound(word: str) -> str:
    """A word as it sounds, in toneless pinyin ("接丹", "接但" and "jiedan" all sound "jiedan")."""
    return "".join(syllable_of(ord(ch)) if ord(ch) > 0x2FFF else ch for ch in word.lower())


def misspelt(text: str, *, staff: bool, alone: bool = True) -> UnknownCommand | None:
    """A command word typed wrong before a ticket number — a homophone of its Chinese form (接丹 / 接但 1006, the
    phone's input method's first guess) or its pinyin (jiedan 1007): the command it sounds like, to be suggested
    (never run on a guess). Only commands that take a ticket number, and only those the person may use. Or a
    reporter's command word alone, mistyped (unless not `alone`: in the middle of a dialogue): 进读 / 进步 (进度),
    催催 (催单)."""
    found = _WORD_NUMBER.match(clean(text))
    if found is None:
        return None if staff or not alone else _misspelt_alone(clean(text))
    word, sound = found.group("word"), _sound(found.group("word"))
    for zh, spec in _ZH:
        if spec.needs_ticket and not spec.hidden and (staff or not spec.staff) and zh != word and (
                _sound(zh) == sound or (word.isascii() and len(sound) >= 5
                                        and Levenshtein.distance(_sound(zh), sound) <= 1)):
            return UnknownCommand(word, f"{found.group('n')} {(found.group('rest') or '').strip()}".strip(), spec)
    return None


_ALONE = re.compile(r"^(?P<word>[\u4e00-\u9fff]{2,3})[?？!！。.~～]*$")


def _misspelt_alone(text: str) -> UnknownCommand | None:
    """A reporter's command that needs no number, typed alone and wrong: a homophone of it (进读), the same first
    character and one syllable off (进步), or its first character twice (催催)."""
    found = _ALONE.match(text)
    if found is None:
        return None
    word = found.group("word")
    for zh, spec in _ZH:
        if spec.staff or spec.hidden or (spec.needs_ticket and not spec.ticket_optional) or zh == word:
            continue
        if len(zh) != len(word):
            continue
        if _sound(zh) == _sound(word) or word == zh[0] * len(zh) or (
                word[0] == zh[0] and sum(a != b for a, b in zip(word, zh, strict=True)) == 1
                and Levenshtein.distance(_sound(zh), _sound(word)) <= 1):
            return UnknownCommand(word, "", spec)
    return None


def clean(text: str) -> str:
    """Full-width forms folded, leading `@bot` mentions removed, whitespace trimmed, and a command word typed in
    Traditional characters read in Simplified (接單 1011, 進度; what follows it is left as typed)."""
    text = _LEADING_MENTION.sub("", unicodedata.normalize("NFKC", text).strip()).strip()
    head = to_simplified(text[:_HEAD])
    return head + text[_HEAD:] if len(head) == len(text[:_HEAD]) else text


_HEAD = 4  # characters a command word has at most (追问报修人 aside: it has no Traditional form to fold)


def _restore(original: str, rest: str) -> str:
    """The words after a command as they were typed: folding is for recognising the command, not for
    changing what people wrote ("错误码是多少？" keeps its full-width question mark)."""
    chars = [unicodedata.normalize("NFKC", ch) for ch in original]
    if not rest or any(len(c) != 1 for c in chars):
        return rest
    folded = "".join(chars).rstrip()
    if not folded.endswith(rest):
        return rest
    start = len(folded) - len(rest)
    return original[start:start + len(rest)]


def parse(text: str) -> Command | UnknownCommand | None:
    """A command, an unknown `/word`, or None for free text."""
    found = _parse(text)
    if isinstance(found, Command) and found.rest:
        return Command(found.spec, found.ticket, _restore(text, found.rest))
    return found


def _parse(text: str) -> Command | UnknownCommand | None:
    text = clean(text)
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        name = head.split("@")[0].lower()  # Telegram appends @botname in groups
        spec = BY_NAME.get(name)
        glued = re.fullmatch(r"([a-z]+)(\d{1,9})", name)  # "/claim1007": the number without its space
        if spec is None and glued is not None and (spec := BY_NAME.get(glued.group(1))) is not None:
            rest = f"{glued.group(2)} {rest}"
        if spec is None:
            return UnknownCommand(name, rest.strip())
        return _with_args(spec, rest.strip(), strict=False)
    for zh, spec in _ZH:
        if text.startswith(zh):
            found = _with_args(spec, text[len(zh):].strip(), strict=True)
            if found is not None:
                return found
    alone = text.lower().rstrip("?？!！.。")
    if alone in _BARE_ALONE:
        return Command(BY_NAME[alone], None, "")
    bare = _BARE.match(text.lower())
    if bare is not None and (spec := BY_NAME.get(bare.group(1))) is not None and spec.needs_ticket:
        return _with_args(spec, text[len(bare.group(1)):].strip(), strict=True)
    return None


def _with_args(spec: Spec, rest: str, *, strict: bool) -> Command | None:
    if spec.needs_ticket:
        match = _TICKET.match(rest) or _GLUED_TICKET.match(rest)
        if match:
            return Command(spec, int(match.group(1)), match.group(2).strip())
        # "解决了" is a reporter saying it is fixed, not the resolve command without a number.
        if strict and spec.ticket_optional and not rest:
            return Command(spec, None, "")
        return None if strict else Command(spec, None, rest)
    if strict and rest and not spec.takes_text:
        return None  # "进度怎么样了" is a question in plain words, handled elsewhere
    return Command(spec, None, rest)


def closest(typed: str, *, staff: bool) -> Spec | None:
    """The visible command nearest to a mistyped one, if it is near enough."""
    candidates = [s for s in SPECS if not s.hidden and (staff or not s.staff)]
    best = min(candidates, key=lambda s: Levenshtein.distance(typed, s.name))
    return best if Levenshtein.distance(typed, best.name) <= max(1, len(best.name) // 3) else None


# A yes or a no to a question whose second answer is "a new problem" (is it #1001 again? / add it to #1010?), in the
# words people use: "对 就是那个", "是的 还是大厅那台" / "不是", "是新问题".
_SAYS_NO = re.compile(r"^(不是|不对|不一样|没有|新问题|是新问题|另一个|另外的|别的|no|nope|not)(?![a-z])", re.I)
_SAYS_YES = re.compile(r"^(是(?!不是)的?|对(?!了)的?|嗯+|没错|就是|是这个|是那个|是它|一样|还是那个|yes|yep|yeah|right)"
                       r"(?![a-z])", re.I)  # (not 是不是 …? — a question; not 对了 — "by the way")


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for neither (then the message is taken for what it says)."""
    text = text.strip()
    if _SAYS_NO.match(text):
        return False
    if _SAYS_YES.match(text) and len(text) <= 16:
        return True
    return None
