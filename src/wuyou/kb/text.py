"""Normalising colloquial chat text, and cutting it into the features the matcher indexes."""

from __future__ import annotations

import importlib.util
import json
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from wuyou.kb.vocabulary import (
    CHAT_NOISE,
    COURTESY,
    ENGLISH_FILLER,
    ENGLISH_TERMS,
    FAULT_WORDS,
    FILLER_WORDS,
    NOT_FAULT,
    QUESTION_WORDS,
    REQUEST_PHRASES,
    SYNONYMS,
    VARIANTS,
)

_MENTION = re.compile(r"@\S+")
_BY_LENGTH = sorted(CHAT_NOISE, key=len, reverse=True)
_NOISE_CJK = re.compile("|".join(re.escape(w) for w in _BY_LENGTH if not w.isascii()))
_NOISE_LATIN = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in _BY_LENGTH if w.isascii()) + r")\b")  # not "chip"
_NOT_WORD = re.compile(r"[\W_]+")  # anything but letters and digits (CJK included) separates words
_NOISE_RUNS = re.compile(r"(急{2,}|[!！?？~～。.]{2,})")
_VARIANT = re.compile("|".join(sorted((re.escape(w) for w in VARIANTS), key=len, reverse=True)))


@lru_cache(maxsize=1)
def _t2s() -> tuple[frozenset[str], Callable[[str], str]]:
    from importlib import resources

    from opencc import OpenCC

    converter = OpenCC("t2s")
    table = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    traditional = frozenset(line.split("\t", 1)[0] for line in table.splitlines() if line)
    return traditional, lambda text: str(converter.convert(text))


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (the slow converter runs only when a Traditional character is there)."""
    traditional, convert = _t2s()
    return text if traditional.isdisjoint(text) else convert(text)


def normalise(text: str) -> str:
    """Half-width, lower-case, Simplified; mentions, greetings and shouting removed; variants unified."""
    return normalise_many([text])[0]


def normalise_many(texts: list[str]) -> list[str]:
    """`normalise` of each text, done as one pass over them all (much faster for many short texts)."""
    # Line breaks become spaces in each text, so one can separate the texts through every step
    # (no pattern crosses a line break) and the texts come apart again before words are joined.
    text = "\n".join(t.replace("\n", " ").replace("\r", " ") for t in texts)
    text = to_simplified(unicodedata.normalize("NFKC", text).lower())
    text = _MENTION.sub(" ", text)
    text = _NOISE_LATIN.sub(" ", _NOISE_CJK.sub(" ", text))
    text = _VARIANT.sub(lambda m: VARIANTS[m.group(0)], text)
    if "'" in text or "\u2019" in text:
        text = _CONTRACTION.sub(_expand, text)
    lines = [" ".join(_NOT_WORD.sub(" ", line).split()) for line in text.split("\n")]
    if _LATIN.search(text):
        terms = _english_terms()
        lines = [terms.sub(_term, line) if _LATIN.search(line) else line for line in lines]
    return lines


@lru_cache(maxsize=1)
def _english_terms() -> re.Pattern[str]:
    """ENGLISH_TERMS' words as whole words of normalised text (mini-program → mini program)."""
    return re.compile(rf"(?=[a-z])(?<![a-z0-9])(?:{'|'.join(map(re.escape, sorted(_TERMS, key=len, reverse=True)))})"
                      r"(?![a-z0-9])")


_TERMS = {" ".join(_NOT_WORD.sub(" ", english).split()): chinese for english, chinese in ENGLISH_TERMS.items()}


def _term(found: re.Match[str]) -> str:
    return _TERMS[found.group(0)]


# English contractions, so that "can't" is "can not" (a fault said), not "can" and a stray "t" weighing like a rare
# word; the other endings ('s, 're, 'll …) say nothing about a fault.
_CONTRACTION = re.compile(r"\b([a-z]+?)n['\u2019]t\b|(?<=[a-z])['\u2019](?:s|re|m|ll|ve|d)\b")
_NOT_STEMS = {"ca": "can", "wo": "will", "sha": "shall"}  # can't, won't, shan't (doesn't: does)


def _expand(found: re.Match[str]) -> str:
    stem = found.group(1)
    return "" if stem is None else f"{_NOT_STEMS.get(stem, stem)} not"


def tidy(text: str) -> str:
    """Text fit for a ticket title: mentions and shouted noise (急急急!!!) removed, spaces collapsed."""
    text = _NOISE_RUNS.sub(" ", _MENTION.sub(" ", text))
    return " ".join(text.split())


class _Syllables(dict[int, str]):
    """str.translate table: each Chinese character → one private-use character standing for its
    toneless syllable, so homophones become the same character (登陆 and 登录 both → "denglu")."""

    def __init__(self) -> None:
        super().__init__()
        self._codes: dict[str, str] = {}

    def __missing__(self, code: int) -> str:
        syllable = syllable_of(code)
        mark = self._codes.setdefault(syllable, chr(FIRST_SYLLABLE_CODE + len(self._codes)))
        self[code] = mark
        return mark


_DIAERESIS = "\u0308"


@lru_cache(maxsize=1)
def _readings() -> dict[int, str]:
    """pypinyin's table of each character's readings, read as the data file it is: importing pypinyin loads its
    phrase table too, a third of a second that a single character's syllable does not need."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pypinyin is not installed")
    table = Path(spec.submodule_search_locations[0], "pinyin_dict.json").read_text(encoding="utf-8")
    return {int(code): reading for code, reading in json.loads(table).items()}


def syllable_of(code: int) -> str:
    """A character's first reading without tone marks, ü as v (what pypinyin's lazy_pinyin gives for a single
    character: a test holds the two equal over U+3400–U+9FFF), or the character itself when it has none."""
    reading = _readings().get(code)
    if reading is None:
        return chr(code)
    first = unicodedata.normalize("NFD", reading.split(",", 1)[0])
    return "".join(c for c in first if c == _DIAERESIS or not unicodedata.combining(c)).replace("u" + _DIAERESIS, "v")


SYLLABLES = _Syllables()
FIRST_SYLLABLE_CODE = 0xF0000


def is_syllable_code(ch: str) -> bool:
    """True for the characters `pinyin_bigrams` codes syllables with."""
    return ord(ch) >= FIRST_SYLLABLE_CODE


@lru_cache(maxsize=1)
def _cut() -> Callable[[str], Iterable[str]]:
    import rjieba

    return rjieba.cut


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_SKIP = FILLER_WORDS | ENGLISH_FILLER | {" "}


def words(normalised: str) -> list[str]:
    """Segmented words (rjieba; Latin words and numbers stay whole), filler words dropped. An English phrase of the
    synonym list is one word ("card reader", "can not connect"): what it means is the phrase's, not its words'."""
    if _LATIN.search(normalised):
        spans = {m.start(): m.end() for m in _phrases()[1].finditer(normalised) if " " in m.group(0)}
        if spans:
            return _with_phrases(normalised, spans)
    return [w for w in _cut()(normalised) if w not in _SKIP]


def _with_phrases(normalised: str, spans: dict[int, int]) -> list[str]:
    import rjieba

    out: list[str] = []
    until = 0
    for word, start, _ in rjieba.tokenize(normalised):
        if start < until:
            continue
        if start in spans:
            until = spans[start]
            out.append(normalised[start:until])
        elif word not in _SKIP:
            out.append(word)
    return out


class Cut(NamedTuple):
    """A text normalised and segmented: what the matcher and the surge signature both start from."""

    normalised: str
    words: list[str]


def cut(text: str) -> Cut:
    norm = normalise(text)
    return Cut(norm, words(norm))


_COURTESY = re.compile(
    "|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in sorted(COURTESY, key=len, reverse=True))
)


def is_courtesy(text: str) -> bool:
    """True for thanks, greetings and acknowledgements with nothing else in them ("谢谢 已经好了👍")."""
    rest = _COURTESY.sub(" ", to_simplified(unicodedata.normalize("NFKC", text).lower()))
    return not any(unicodedata.category(ch)[0] in "LN" for ch in rest)


def too_little(normalised: str, words: Sequence[str]) -> bool:
    """Nothing an article could be told by: under two letters or digits in all ("打", a message sent half-typed),
    or a long run of characters that make no words — eight or more, nine in ten of them standing alone (keys
    mashed, a paste of random text; a real message has at most three in four: 柜员号锁了 急 客户在等)."""
    if sum(ch.isalnum() for ch in normalised) < 2:
        return True
    chinese = [w for w in words if _CJK_RUN.search(w)]
    return len(chinese) >= 8 and sum(len(w) == 1 for w in chinese) >= 0.9 * len(chinese)


DAMAGE = "〔damage〕"  # in `requests`: the message tells of physical damage (a repair or a replacement)
SUPPLY = "〔supply〕"  # in `requests`: the message says a consumable ran out (a supply to fetch, not a fault)
FACILITY = "〔facility〕"  # in `requests`: the message is about the building (a leak, the lights, a door: facilities)
# What a message may ask for besides a fix, that an article answers only when it speaks of it at all: how the
# message says it, and how an article would speak of it.
_ASKED_FOR = {
    DAMAGE: (re.compile(r"摔|(?<!碎纸)(?<!粉)碎|裂|砸|进水|泡水|浸水|烧坏|压坏|掉地上|踩坏|撞坏|撞弯|压弯|弄弯|掰弯"
                        r"|断裂|折断"),) * 2,
    SUPPLY: (re.compile(r"(没粉|没墨|缺墨|缺粉|(纸|墨|粉|色带|碳粉)(用完|没了|快没了))"),
             re.compile(r"墨盒|硒鼓|色带|碳粉|粉盒|墨粉|耗材|领用|申领")),
    FACILITY: (re.compile(
        r"漏水|渗水|积水|水管|水龙头|地漏|马桶|洗手池|水池|水槽|灯管|灯泡|灯箱|吊灯|日光灯|照明|空调|暖气|地暖"
        r"|卷帘门|玻璃门|自动门|门把手|锁芯|挂锁|天花板|吊顶|墙皮|地板|瓷砖|屋顶|电梯|扶梯|椅子|沙发"
        r"|扶手|栏杆|楼梯|台阶|消防栓|灭火器|下水|排水|停水|老鼠|蟑螂|漏雨"),) * 2,
}


def requests(normalised: str) -> tuple[str, ...]:
    """The phrases of a normalised message that ask for something other than a fix (a cost, a rule, whom to call),
    `DAMAGE` when it tells of physical damage (摔碎, 砸裂, 进水: a repair or a replacement), `SUPPLY` when a
    consumable ran out (没粉了, 色带用完了: one to fetch), and `FACILITY` when it is about the building (漏水, 灯管,
    空调, 卷帘门, 挂锁: facilities' work, which an IT article answers only when it speaks of it)."""
    found = tuple(p for p in REQUEST_PHRASES if p in normalised)
    return found + tuple(kind for kind, (said, _) in _ASKED_FOR.items() if said.search(normalised))


def unsaid(requests: Sequence[str], said: str) -> bool:
    """Whether an article's normalised text leaves something the message asks for unsaid: a phrase it does not
    use, damage when it speaks of none (泡水 for an article about wristbands that stop working once 进水), a
    consumable when it speaks of none (没粉了 for an article about paper jams), the building when it speaks of none of
    it (漏水 for an article about the server cabinet)."""
    return any(_ASKED_FOR[p][1].search(said) is None if p in _ASKED_FOR else p not in said for p in requests)


_HOW = re.compile(r"(?:怎么样|怎么|如何|怎样|咋)\s*")
_ANY_WAY = frozenset(("办", "处理", "解决", "弄", "搞", "回事", "样", "了", "啦", "呢", "说",  # what to do at all
                      "自己", "才能", "可以", "能够", "还是", "老是", "总是", "一直", "突然", "这么", "那么", "一下"))


def how_to(normalised: str, words: Sequence[str]) -> tuple[str, ...]:
    """What a how-to question asks to do: the word after 怎么 / 如何 (录入 in 怎么录入一个新楼盘) when it is a word
    of its own (two characters or more), not a way of asking what to do at all (怎么办, 如何处理)."""
    found = []
    for asked in _HOW.finditer(normalised):
        rest = normalised[asked.end():]
        verb = next((w for w in words if rest.startswith(w)), None)
        if verb is not None and len(verb) >= 2 and verb not in _ANY_WAY and _CJK_RUN.fullmatch(verb):
            found.append(verb)
    return tuple(found)


def _any_of(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern for a word list: Chinese as it is; English from a word's start, as a prefix (fail → failed,
    failure), or as a whole word where the entry ends with a space (down, not download)."""
    def one(phrase: str) -> str:
        if not phrase.isascii():
            return re.escape(phrase)
        return r"\b" + re.escape(phrase.rstrip()) + (r"\b" if phrase.endswith(" ") else "")
    return re.compile("|".join(map(one, sorted(phrases, key=len, reverse=True))))


_NOT_FAULT = _any_of(NOT_FAULT)
_FAULT = _any_of(FAULT_WORDS)
_QUESTION = _any_of(QUESTION_WORDS)


def says_fault(normalised: str) -> bool:
    """Whether a normalised message says something is wrong (不 / 没 / 失败 / 黑屏 / error …), outside a question
    form (能不能) or "I don't know" (不清楚)."""
    return _FAULT.search(_NOT_FAULT.sub(" ", normalised)) is not None


def asks_question(normalised: str) -> bool:
    """Whether a normalised message asks something (怎么 / 谁 / 多少 / 吗 / how …)."""
    return _QUESTION.search(normalised) is not None


def bigrams(normalised: str) -> list[str]:
    """Character bigrams of each Chinese run (a single-character run counts as itself)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(normalised):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(map(operator.add, run, run[1:]))
    return out


def pinyin_bigrams(normalised: str) -> list[str]:
    """Syllable bigrams (each syllable coded as one character), so that homophone typos
    (登陆/登录, 密吗/密码) still meet."""
    out: list[str] = []
    for run in _CJK_RUN.findall(normalised):
        if len(run) > 1:
            coded = run.translate(SYLLABLES)
            out.extend(map(operator.add, coded, coded[1:]))
    return out


_LATIN = re.compile("[a-z]")


@lru_cache(maxsize=1)
def _concept_of() -> dict[str, str]:
    """Each synonym phrase as it reads once normalised (wi-fi → wifi, pick-up code → pick up code) → its group."""
    return {" ".join(_NOT_WORD.sub(" ", phrase).split()) if phrase.isascii() else phrase: group
            for phrase, group in SYNONYMS.items()}


def concept_of(word: str) -> str | None:
    """The synonym group of a word or phrase (`card reader` → card_reader), as normalised text has it."""
    return _concept_of().get(word)


@lru_cache(maxsize=1)
def _phrases() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The synonym phrases of three characters or more, found anywhere in a normalised text: Chinese as they are,
    English as whole words (pos is not in position, pin not in spinning, gate not in navigate; 的card reader坏了 is).
    Two patterns: the word's edges looked for around one group of English alternatives, not each (many times faster
    over a KB's bodies)."""
    long = sorted((p for p in _concept_of() if len(p) >= 3), key=len, reverse=True)
    chinese = "|".join(re.escape(p) for p in long if not p.isascii())
    english = "|".join(re.escape(p) for p in long if p.isascii())
    return re.compile(chinese), re.compile(rf"(?=[a-z0-9])(?<![a-z0-9])(?:{english})(?![a-z0-9])")


def concepts(tokens: Iterable[str], normalised: str) -> list[str]:
    """Synonym groups a text mentions (`wifi` for 无线网络 / wi-fi / wlan ...)."""
    groups = _concept_of()
    found = {groups[t] for t in tokens if t in groups}
    chinese, english = _phrases()
    found.update(groups[m] for m in chinese.findall(normalised))
    if _LATIN.search(normalised):
        found.update(groups[m] for m in english.findall(normalised))
    return sorted(found)
