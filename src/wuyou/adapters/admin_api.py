"""Admin API: read and replace the catalog, SLA policies, routing rules and canned replies — the same documents,
and the same validation, as the org file's `catalog:`, `sla:`, `routing:` and `replies:` sections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from wuyou.adapters.auth import CSRF_HEADER, Admin, Caller, console_locale, refusal_words
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import org, replies, scope
from wuyou.desk.errors import OrgFileError
from wuyou.desk.models import Person
from wuyou.i18n import Phrase

router = APIRouter(prefix="/api/v1", tags=["admin"])


class Items(BaseModel):
    items: list[dict[str, Any]] = Field(description="entries exactly as in the org file's section")
    warnings: list[str] = Field(default=[], description="saved, but probably not what was meant (a speciality no "
                                                        "team has)")


Doc = Callable[..., list[dict[str, Any]]]
Change = Callable[..., int]


def _read(request: Request, doc: Doc) -> Items:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return Items(items=doc(session=session))


def refused(request: Request, person: Person, exc: Exception) -> HTTPException:
    """The 422 for a document the desk refuses, the place named: in the console in the admin's words. A shape the
    checks did not foresee (`'str' object has no attribute 'get'`) keeps Python's words, after a lead-in."""
    if not (isinstance(exc, Phrase) and exc.key):
        exc = OrgFileError(str(exc), "adm_malformed", detail=str(exc))
    return HTTPException(status_code=422, detail=refusal_words(request, person, exc))


def _write(request: Request, person: Person, body: Items, change: Change, doc: Doc) -> Items:
    """Apply a change with the org file's validation: all of it, or (422, the place named) none of it."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        try:
            change(session=session, items=body.items)
        except (OrgFileError, KeyError, AttributeError, TypeError, ValueError) as exc:  # (as PUT /org: a 422)
            session.rollback()
            raise refused(request, person, exc) from exc
        session.commit()
        return Items(items=doc(session=session))


@router.get("/catalog")
def get_catalog(request: Request, _: Admin) -> Items:
    """The two-level catalog: categories with speciality, default priority and team."""
    return _read(request, org.catalog_doc)


@router.put("/catalog")
def put_catalog(body: Items, request: Request, person: Admin) -> Items:
    """Create or update categories (matched by name under their parent); nothing is deleted: a leaf with
    `retired: true` is no longer offered (its tickets keep it), and `was: 旧名` (or `旧大类/旧名`) renames a leaf in
    place, its tickets, rules and reports with it. A leaf whose speciality
    no team has is saved (its tickets go to HQ's teams) and named in `warnings`: a typo (printing for terminal)
    sent them there silently."""
    saved = _write(request, person, body, org.update_catalog, org.catalog_doc)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        orphans = org.specialities_without_team(session=session)
    english = not request.headers.get(CSRF_HEADER)
    saved.warnings = [f"{path}: no team has speciality '{speciality}'; its tickets go to HQ's teams" if english
                      else desk.catalog.t("catalog_orphan_speciality", console_locale(request, person), path=path,
                                          speciality=speciality)
                      for path, speciality in orphans]
    return saved


@router.get("/sla-policies")
def get_sla(request: Request, _: Admin) -> Items:
    """SLA policies, first match first (none stored: the built-in defaults apply)."""
    return _read(request, org.sla_doc)


@router.put("/sla-policies")
def put_sla(body: Items, request: Request, person: Admin) -> Items:
    """Replace every SLA policy; new tickets use them at once (running clocks keep their targets)."""
    return _write(request, person, body, org.replace_sla, org.sla_doc)


@router.get("/routing-rules")
def get_routing(request: Request, _: Admin) -> Items:
    """Routing rules in the order they run."""
    return _read(request, org.routing_doc)


@router.put("/routing-rules")
def put_routing(body: Items, request: Request, person: Admin) -> Items:
    """Replace every routing rule, validated as a whole (nothing changes if one is wrong)."""
    return _write(request, person, body, org.replace_routing, org.routing_doc)


@router.get("/replies")
def get_replies(request: Request, person: Caller) -> Items:
    """The canned replies (常用语) the caller may use — everyone's and their teams'; all of them for leads and
    admins. `::name` in a reply, question, note or resolution becomes the text."""
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="engineers, leads and admins only")
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return Items(items=[{k: v for k, v in (("name", r.name), ("text", r.text), ("team", r.team_code))
                             if v is not None} for r in replies.available(session=session, person=person)])


@router.put("/replies")
def put_replies(body: Items, request: Request, person: Admin) -> Items:
    """Replace every canned reply (name, text, optional team), validated as a whole."""
    return _write(request, person, body, replies.replace, replies.doc)
