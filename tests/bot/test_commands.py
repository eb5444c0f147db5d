"""Command parsing: English with `/`, Chinese without, full-width and @mentions, typos."""

from __future__ import annotations

import pytest

from wuyou.bot.commands import Command, UnknownCommand, closest, parse


@pytest.mark.parametrize(
    ("text", "name", "ticket", "rest"),
    [
        ("/claim 1024", "claim", 1024, ""),
        ("接单 1024", "claim", 1024, ""),
        ("接单1024", "claim", 1024, ""),
        ("接单 #1024", "claim", 1024, ""),
        ("／claim　1024", "claim", 1024, ""),
        ("@无忧 接单 1024", "claim", 1024, ""),
        ("/claim@wuyou_bot 7", "claim", 7, ""),
        ("解决 1024 已更换硒鼓 测试正常", "resolve", 1024, "已更换硒鼓 测试正常"),
        ("/resolve 1024", "resolve", 1024, ""),
        ("待办", "queue", None, ""),
        ("/QUEUE", "queue", None, ""),
        ("进度", "status", None, ""),
        ("报障", "new", None, ""),
        # as typed on a phone keyboard, in Traditional characters, or an English word without its slash
        ("解决：1007，重新插拔USB后正常", "resolve", 1007, "重新插拔USB后正常"),
        ("接单：1007", "claim", 1007, ""),
        ("解决 1007，重新插拔", "resolve", 1007, "重新插拔"),
        ("接單 1011", "claim", 1011, ""),
        ("進度", "status", None, ""),
        ("claim 1012", "claim", 1012, ""),
        ("Show #1012", "show", 1012, ""),
        ("答复 1001 ::重启", "reply", 1001, "::重启"),  # (a canned reply's marker is not a separator)
        ("解决1003换了读卡器", "resolve", 1003, "换了读卡器"),  # the words glued to the number
        ("解决 1003换了读卡器", "resolve", 1003, "换了读卡器"),
        ("help", "help", None, ""), ("Status?", "status", None, ""),  # an English word alone, without its slash
    ],
)
def test_commands(text: str, name: str, ticket: int | None, rest: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed, Command)
    assert (parsed.spec.name, parsed.ticket, parsed.rest) == (name, ticket, rest)


@pytest.mark.parametrize("text", ["解决了", "好了", "进度怎么样了", "我的打印机坏了", "接单吧", "打印机卡纸了",
                                  "hello 1012", "printer 3 is jammed", "催单2次了还没人理", "help me please"])
def test_free_text_is_not_a_command(text: str) -> None:
    assert parse(text) is None


def test_unknown_slash_word() -> None:
    assert parse("/clam 1024") == UnknownCommand("clam", "1024")


def test_closest_respects_role() -> None:
    claim = closest("clam", staff=True)
    assert claim is not None and claim.name == "claim"
    assert closest("clam", staff=False) is None or closest("clam", staff=False).name != "claim"  # type: ignore[union-attr]
    assert closest("zzzzzz", staff=True) is None
