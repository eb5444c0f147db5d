"""Signing in to the web console: with a password (`wuyou passwd PERSON`), or with a one-time code the desk
sends to the person's own chat (WeChat, WeCom, Telegram or the web chat) — most staff have no password.

A sign-in is an expiring API token of the person's (`tokens.SESSION_NAME`), set as an HttpOnly cookie; the
same token works as a Bearer token, so a script can sign in the way the console does."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from wuyou.adapters.auth import AUDIT_ACTOR, SESSION_COOKIE, Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import outbox, passwords, tokens
from wuyou.desk.models import Person

router = APIRouter(prefix="/api/v1", tags=["session"])

CODE_TTL = 300.0  # seconds a chat code stays valid
MAX_FAILURES = 5  # wrong passwords or codes per person within FAILURE_WINDOW, then 429
FAILURE_WINDOW = 900.0
CODES_PER_WINDOW = 3  # codes sent to one person within FAILURE_WINDOW


class PasswordSignIn(BaseModel):
    person: str = Field(min_length=1, max_length=64, description="the person's id in the org directory")
    password: str = Field(min_length=1, max_length=200)


class CodeRequest(BaseModel):
    person: str = Field(min_length=1, max_length=64)


class CodeSignIn(BaseModel):
    person: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=r"^\d{6}$", description="the six digits the desk sent to the person's chat")


class Me(BaseModel):
    id: str
    name: str
    role: Literal["reporter", "engineer", "lead", "admin"]
    branch: str | None
    locale: str


class Signed(BaseModel):
    person: Me
    token: str = Field(description="also set as the `wuyou_session` cookie; usable as a Bearer token")
    expires_at: datetime


def _me(person: Person) -> Me:
    return Me(id=person.id, name=person.name, role=person.role,
              branch=person.branch_code, locale=person.locale)


def _failures(desk: Desk, person_id: str) -> int:
    return int(desk.bot.store.get(f"signin-fail:{person_id}") or 0)


def _failed(desk: Desk, person_id: str) -> HTTPException:
    desk.bot.store.incr(f"signin-fail:{person_id}", ttl=FAILURE_WINDOW)  # atomic across processes
    return HTTPException(status_code=401, detail="wrong person, password or code")


def _guard(desk: Desk, person_id: str) -> None:
    if _failures(desk, person_id) >= MAX_FAILURES:
        raise HTTPException(status_code=429, detail="too many failed sign-ins; try again in 15 minutes")


def _sign_in(desk: Desk, request: Request, response: Response, person_id: str) -> Signed:
    now = desk.clock()
    with desk.sessions() as session:
        person = session.get(Person, person_id)
        assert person is not None
        token = tokens.create(session=session, person_id=person_id, name=tokens.SESSION_NAME, now=now)
        me = _me(person)
        session.commit()
    desk.bot.store.delete(f"signin-fail:{person_id}")
    secure = request.url.scheme == "https" or desk.settings.link_base.startswith("https:")
    response.set_cookie(SESSION_COOKIE, token, max_age=int(tokens.SESSION_TTL.total_seconds()), httponly=True,
                        samesite="lax", secure=secure, path="/")
    return Signed(person=me, token=token, expires_at=now + tokens.SESSION_TTL)


@router.post("/session", responses={401: {"description": "wrong person or password"},
                                    429: {"description": "too many failures"}})
def sign_in_with_password(body: PasswordSignIn, request: Request, response: Response) -> Signed:
    """Sign in with a console password; sets the session cookie (12 hours)."""
    setattr(request.state, AUDIT_ACTOR, body.person)  # the audit trail names whom it was for
    desk: Desk = request.app.state.desk
    _guard(desk, body.person)
    with desk.sessions() as session:
        person = passwords.check(session=session, person_id=body.person, password=body.password)
    if person is None:
        raise _failed(desk, body.person)
    return _sign_in(desk, request, response, body.person)


def _code_hash(person_id: str, code: str) -> str:
    return hashlib.sha256(f"{person_id}:{code}".encode()).hexdigest()


def _private_chat(desk: Desk, session: Session, person_id: str) -> bool:
    platform = desk.deliverer.platform_of(session=session, person_id=person_id)
    return platform is not None and (platform != "http" or not desk.settings.http_channel_open)


def _may_send_code(desk: Desk, person_id: str) -> bool:
    """Whether another code may go to this person now (a form pressed again and again must not flood their chat)."""
    return desk.bot.store.incr(f"signin-codes:{person_id}", ttl=FAILURE_WINDOW) <= CODES_PER_WINDOW


@router.post("/session/code", status_code=202, responses={429: {"description": "too many failures"}})
def send_code(body: CodeRequest, request: Request) -> dict[str, str]:
    """Send a six-digit sign-in code to the person's chat. The answer is the same whether or not the person
    exists, so the form cannot be used to find out who works here. Never through the open HTTP chat channel,
    whose messages anyone can read (`WUYOU_HTTP_CHANNEL_TOKEN`): someone reached only there signs in with a
    password. At most CODES_PER_WINDOW codes per person per FAILURE_WINDOW."""
    setattr(request.state, AUDIT_ACTOR, body.person)  # the audit trail names whom it was for
    desk: Desk = request.app.state.desk
    _guard(desk, body.person)
    code = f"{secrets.randbelow(10**6):06d}"
    now = desk.clock()
    with desk.sessions() as session:
        person = session.get(Person, body.person)
        reachable = person is not None and person.active and _private_chat(desk, session, person.id)
        if person is not None and reachable and _may_send_code(desk, person.id):
            desk.bot.store.set(f"signin-code:{person.id}", _code_hash(person.id, code), ttl=CODE_TTL)
            outbox.enqueue(session=session, person_id=person.id, template="console_sign_in_code",
                           params={"code": code, "minutes": int(CODE_TTL // 60)},
                           key=f"signin:{person.id}:{secrets.token_hex(8)}", now=now)
            session.commit()
            desk.loop.wake()
    return {"status": "sent if the person exists"}


@router.post("/session/verify", responses={401: {"description": "wrong or expired code"},
                                           429: {"description": "too many failures"}})
def sign_in_with_code(body: CodeSignIn, request: Request, response: Response) -> Signed:
    """Sign in with the code sent to the person's chat (valid 5 minutes, once)."""
    setattr(request.state, AUDIT_ACTOR, body.person)  # the audit trail names whom it was for
    desk: Desk = request.app.state.desk
    _guard(desk, body.person)
    key = f"signin-code:{body.person}"
    stored = desk.bot.store.get(key)
    if stored is None or not hmac.compare_digest(stored, _code_hash(body.person, body.code)):
        raise _failed(desk, body.person)
    desk.bot.store.delete(key)
    with desk.sessions() as session:
        person = session.get(Person, body.person)
        if person is None or not person.active:
            raise _failed(desk, body.person)
    return _sign_in(desk, request, response, body.person)


@router.get("/me")
def who_am_i(person: Caller) -> Me:
    """The person behind the token or session."""
    return _me(person)


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response) -> Response:
    """Sign out: the session's token is revoked and the cookie cleared."""
    desk: Desk = request.app.state.desk
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with desk.sessions() as session:
            tokens.revoke_token(session=session, token=token, now=desk.clock())
            session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
