"""API authentication: `Authorization: Bearer <personal token>`, or the console's session cookie → the
person, with their role.

The console signs in to a short-lived token of the same kind, kept in an HttpOnly, SameSite=Lax cookie. A
request authenticated by that cookie may change something only when it also carries the `X-Wuyou-Console`
header, which a cross-site form cannot send: that is the CSRF defence (the console's script always sends it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from wuyou.adapters.bootstrap import Desk
from wuyou.desk import tokens
from wuyou.desk.models import Person
from wuyou.i18n import DEFAULT_LOCALE, LOCALES, Phrase

SESSION_COOKIE = "wuyou_session"
CSRF_HEADER = "X-Wuyou-Console"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDIT_ACTOR = "audit_actor"  # the request-state key naming who acted, for the audit trail
AUDIT_TARGET = "audit_target"  # the request-state key: what the change was about, in words (the audit trail's 对象)
VIA_CONSOLE = "via_console"  # the request-state key: authenticated by the console's session cookie

_bearer = HTTPBearer(auto_error=False, description="a personal API token (`wuyou token create PERSON`)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                       description="the web console's session (set by signing in at /console/login)")


def person_of(desk: Desk, token: str) -> Person | None:
    """The active person behind a token (detached from its session), or None."""
    with desk.sessions() as session:
        person = tokens.person_for(session=session, token=token, now=desk.clock())
        session.commit()
        if person is not None:
            session.expunge(person)
    return person


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Person:
    """The person behind the request's token or console session; 401 without a valid one."""
    if credentials is not None:
        token = credentials.credentials
    elif cookie:
        if request.method not in _SAFE_METHODS and request.headers.get(CSRF_HEADER) != "1":
            raise HTTPException(status_code=403, detail=f"console requests must send the {CSRF_HEADER} header")
        token = cookie
    else:
        raise HTTPException(status_code=401, detail="an API token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    person = person_of(request.app.state.desk, token)
    if person is None:
        raise HTTPException(status_code=401, detail="unknown, expired or revoked API token",
                            headers={"WWW-Authenticate": "Bearer"})
    setattr(request.state, AUDIT_ACTOR, person.id)
    setattr(request.state, VIA_CONSOLE, credentials is None)
    return person


def admin(person: Annotated[Person, Depends(caller)]) -> Person:
    """Admins only; 403 for everyone else."""
    if person.role != "admin":
        raise HTTPException(status_code=403, detail="admins only")
    return person


LANG_COOKIE = "wuyou_lang"  # the console's language switch


def console_locale(request: Request, person: Person | None) -> str:
    """The language the console is read in: the visitor's choice (its switch), else the person's, else the default."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    return person.locale if person is not None and person.locale in LOCALES else DEFAULT_LOCALE


def refusal_words(request: Request, person: Person, exc: Exception) -> str:
    """What to say of a refused request: the console (its header) gets the desk's words in the language it is read
    in, an API client the English."""
    if isinstance(exc, Phrase) and exc.key and request.headers.get(CSRF_HEADER):
        desk: Desk = request.app.state.desk
        return desk.catalog.say(exc, console_locale(request, person))  # (with the place it names, in the same words)
    return str(exc)


Caller = Annotated[Person, Depends(caller)]
Admin = Annotated[Person, Depends(admin)]
