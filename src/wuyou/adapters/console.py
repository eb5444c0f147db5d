"""`wuyou chat`: talk to the desk in a terminal as any person, and see what is pushed to them."""

from __future__ import annotations

import sys
import uuid

from sqlalchemy import func, select

from wuyou.adapters import http_mailbox
from wuyou.adapters.bootstrap import Desk
from wuyou.bot.messages import Chat, Inbound, Outbound, Sender

HELP = """输入消息和服务台对话；:as 用户id 切换身份，:who 列出可用身份，
:group 群名 进群聊（:group 回私聊），:quit 退出。
Type to chat; ':as USER' switches person, ':who' lists people, ':group NAME' talks in a group chat (':group' alone:
1:1 again), ':quit' leaves."""


class ConsoleChat:
    """A console channel over the HTTP identities: pushes are read from the same mailbox."""

    def __init__(self, desk: Desk, *, user: str | None, group: str | None = None) -> None:
        self._desk = desk
        self._user = user
        self._group = group  # a group chat the messages are written in (a branch's group), else 1:1
        self._cursors: dict[str, int] = {}
        with desk.sessions() as s:
            # Show what arrives from now on: notifications of earlier sessions are old news.
            self._start = int(s.scalar(select(func.max(http_mailbox.MailboxMessage.id))) or 0)

    def _people(self) -> list[tuple[str, str, str]]:
        from wuyou.desk.models import Identity, Person

        with self._desk.sessions() as s:
            rows = s.execute(
                select(Identity.external_id, Person.name, Person.role)
                .join(Person, Person.id == Identity.person_id)
                .where(Identity.platform == "http")
                .order_by(Person.role, Person.id)
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def _switch(self, user: str) -> None:
        self._user = user
        self._cursors.setdefault(user, self._start)
        print(f"— 现在的身份 / now chatting as: {user}")

    def _print(self, replies: list[Outbound], prefix: str = "无忧") -> None:
        for reply in replies:
            print(f"{prefix}> " + reply.text.replace("\n", "\n      "))
            if reply.buttons:
                print("      " + "  ".join(f"[{b.label}]" for b in reply.buttons))

    def _pushed(self) -> None:
        assert self._user is not None
        self._desk.deliverer.run_once()  # no server may be running: deliver what we caused
        with self._desk.sessions() as s:
            rows = http_mailbox.read(session=s, user=self._user, after=self._cursors[self._user])
        for row in rows:
            print("🔔 通知> " + row.text.replace("\n", "\n         "))
            self._cursors[self._user] = row.id

    def run(self) -> None:
        print(HELP)
        if self._user is None:
            self._who()
            self._user = input("身份 / user id: ").strip()
        self._switch(self._user)
        while True:
            try:
                line = input(f"{self._user}@{self._group}> " if self._group else f"{self._user}> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return
            if line.strip() in (":quit", ":q", ":exit"):
                return
            if line.startswith(":as "):
                self._switch(line[4:].strip())
                self._pushed()
                continue
            if line.strip() == ":who":
                self._who()
                continue
            if line.strip() == ":group" or line.startswith(":group "):
                self._group = line[len(":group"):].strip() or None
                print(f"— 群聊 / group chat: {self._group}" if self._group else "— 私聊 / 1:1")
                continue
            chat = Chat(kind="group", id=self._group) if self._group else Chat(kind="direct", id=self._user)
            inbound = Inbound(platform="http", account="console", sender=Sender(self._user), text=line,
                              chat=chat, dedup_key=uuid.uuid4().hex)
            self._print(self._desk.bot.handle(inbound))
            self._pushed()
            sys.stdout.flush()

    def _who(self) -> None:
        for user, name, role in self._people():
            print(f"  {user:<16} {name} ({role})")
