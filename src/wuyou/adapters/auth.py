"""API authentication: `Authorization: Bearer <personal token>` → the person, with their role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wuyou.adapters.bootstrap import Desk
from wuyou.desk import tokens
from wuyou.desk.models import Person

_bearer = HTTPBearer(auto_error=False, description="a personal API token (`wuyou token create PERSON`)")


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Person:
    """The person behind the request's token; 401 without a valid one."""
    if credentials is None:
        raise HTTPException(status_code=401, detail="an API token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        person = tokens.person_for(session=session, token=credentials.credentials, now=desk.clock())
        session.commit()
        if person is None:
            raise HTTPException(status_code=401, detail="unknown or revoked API token",
                                headers={"WWW-Authenticate": "Bearer"})
        session.expunge(person)
    return person


def admin(person: Annotated[Person, Depends(caller)]) -> Person:
    """Admins only; 403 for everyone else."""
    if person.role != "admin":
        raise HTTPException(status_code=403, detail="admins only")
    return person


Caller = Annotated[Person, Depends(caller)]
Admin = Annotated[Person, Depends(admin)]
