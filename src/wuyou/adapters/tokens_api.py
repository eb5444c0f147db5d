"""A staff member's own API tokens, for scripts and integrations: listed, made (shown once) and revoked from the
console. Making one takes a console sign-in: a token does not make more tokens."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from wuyou.adapters.auth import AUDIT_TARGET, VIA_CONSOLE, Caller, refusal_words
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import tokens
from wuyou.desk.errors import Forbidden
from wuyou.desk.models import ApiToken

router = APIRouter(prefix="/api/v1/me/tokens", tags=["session"])


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="what uses it, e.g. 监控告警 / 报表脚本")


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="to within five minutes; never used: null")


class TokenMade(TokenOut):
    token: str = Field(description="the token itself, shown this once: send it as `Authorization: Bearer …`")


def _out(row: ApiToken) -> TokenOut:
    return TokenOut(id=row.id, name=row.name, created_at=row.created_at, last_used_at=row.last_used_at)


@router.get("")
def my_tokens(request: Request, person: Caller) -> list[TokenOut]:
    """The caller's active personal tokens (not their console sign-ins), newest first."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return [_out(row) for row in tokens.personal(session=session, person_id=person.id)]


@router.post("", status_code=201)
def make_token(body: TokenIn, request: Request, person: Caller) -> TokenMade:
    """A new token of the caller's, with their permissions; staff only, and from a console sign-in."""
    if not getattr(request.state, VIA_CONSOLE, False):
        raise HTTPException(status_code=403, detail="sign in to the console to make a token (a token makes none)")
    desk: Desk = request.app.state.desk
    setattr(request.state, AUDIT_TARGET, body.name)
    with desk.sessions() as session:
        try:
            row, token = tokens.create_personal(session=session, person=person, name=body.name, now=desk.clock())
        except Forbidden as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from exc
        except tokens.TokenError as exc:
            raise HTTPException(status_code=422, detail=refusal_words(request, person, exc)) from exc
        session.commit()
        return TokenMade(**_out(row).model_dump(), token=token)


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: int = Path(ge=1), *, request: Request, person: Caller) -> Response:
    """Revoke one of the caller's tokens: it stops working at once."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        if not tokens.revoke_personal(session=session, person_id=person.id, token_id=token_id, now=desk.clock()):
            raise HTTPException(status_code=404, detail=f"you hold no active token {token_id}")
        session.commit()
    return Response(status_code=204)
