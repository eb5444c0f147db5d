"""A conversation driver for tests: talks to the real app through the HTTP chat channel."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from wuyou.adapters.app import create_app
from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.desk import passwords, tokens


class Dialog:
    """`d.say("zhang.san", "打印机卡纸了")` → the reply text; `d.pushed("li.wei")` → new notifications."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.client = TestClient(create_app(desk, run_worker=False))
        self._cursors: dict[str, str] = {}
        self._admin_token: str | None = None
        self.last: dict[str, Any] = {}

    def __enter__(self) -> Dialog:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)

    def post(self, user: str, text: str | None = None, *, action: str | None = None,
             message_id: str | None = None, chat: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"user": user, "message_id": message_id or uuid.uuid4().hex}
        if chat is not None:
            body["chat"] = chat  # a group chat (else the person's own)
        if text is not None:
            body["text"] = text
        if action is not None:
            body["action"] = action
        response = self.client.post("/channels/http/messages", json=body, headers=self._channel_headers())
        assert response.status_code == 200, response.text
        self.last = response.json()
        return self.last

    def _channel_headers(self) -> dict[str, str]:
        """The gateway's token, when the desk's HTTP chat channel wants one."""
        token = self.desk.settings.http_channel_token
        return {"Authorization": f"Bearer {token.get_secret_value()}"} if token is not None else {}

    def say(self, user: str, text: str, **kwargs: Any) -> str:
        """Post a message and return all reply texts joined by blank lines."""
        replies = self.post(user, text, **kwargs)["replies"]
        assert replies, f"no reply to {text!r}"
        return "\n\n".join(r["text"] for r in replies)

    def report(self, user: str, leaf: str, text: str, *, chat: str | None = None) -> int:
        """Open a ticket the short way (/new, category number, urgency 1, description); its number."""
        self.say(user, "/new", chat=chat)
        self.say(user, leaf, chat=chat)
        self.say(user, "1", chat=chat)
        reply = self.say(user, text, chat=chat)
        match = re.search(r"#(\d+)", reply)
        assert match and ("已报修" in reply or "filed" in reply), reply
        return int(match.group(1))

    def press(self, user: str, action: str) -> str:
        replies = self.post(user, action=action)["replies"]
        return "\n\n".join(r["text"] for r in replies)

    def pushed(self, user: str, *, deliver: bool = True) -> list[dict[str, Any]]:
        """Deliver due notifications, then read what reached `user` since the last call."""
        if deliver:
            while self.desk.deliverer.run_once():
                pass
        params = {"user": user}
        if user in self._cursors:
            params["after"] = self._cursors[user]
        response = self.client.get("/channels/http/messages", params=params, headers=self._channel_headers())
        assert response.status_code == 200, response.text
        data = response.json()
        self._cursors[user] = data["cursor"]
        messages: list[dict[str, Any]] = data["messages"]
        return messages

    def pushed_text(self, user: str) -> str:
        return "\n\n".join(m["text"] for m in self.pushed(user))

    def token(self, person_id: str) -> str:
        """A fresh API token for someone of the org."""
        with self.desk.sessions() as session:
            token = tokens.create(session=session, person_id=person_id, name="test", now=utcnow())
            session.commit()
        return token

    def sign_in(self, person_id: str, password: str = "correct horse battery") -> None:
        """Sign the test client in to the web console as this person (with a password set for it)."""
        with self.desk.sessions() as session:
            passwords.set_password(session=session, person_id=person_id, password=password)
            session.commit()
        response = self.client.post("/api/v1/session", json={"person": person_id, "password": password})
        assert response.status_code == 200, response.text

    def ticket(self, number: int) -> dict[str, Any]:
        """The ticket as an admin sees it through the API."""
        self._admin_token = self._admin_token or self.token("admin")
        response = self.client.get(f"/api/v1/tickets/{number}",
                                   headers={"Authorization": f"Bearer {self._admin_token}"})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data
