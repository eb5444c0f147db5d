"""Admin API: read and replace the catalog, SLA policies and routing rules — the same documents, and the
same validation, as the org file's `catalog:`, `sla:` and `routing:` sections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from wuyou.adapters.auth import Admin
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import org
from wuyou.desk.errors import OrgFileError

router = APIRouter(prefix="/api/v1", tags=["admin"])


class Items(BaseModel):
    items: list[dict[str, Any]] = Field(description="entries exactly as in the org file's section")


Doc = Callable[..., list[dict[str, Any]]]
Change = Callable[..., int]


def _read(request: Request, doc: Doc) -> Items:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return Items(items=doc(session=session))


def _write(request: Request, body: Items, change: Change, doc: Doc) -> Items:
    """Apply a change with the org file's validation: all of it, or (422, the place named) none of it."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        try:
            change(session=session, items=body.items)
        except (OrgFileError, KeyError, AttributeError, TypeError) as exc:
            session.rollback()
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        session.commit()
        return Items(items=doc(session=session))


@router.get("/catalog")
def get_catalog(request: Request, _: Admin) -> Items:
    """The two-level catalog: categories with speciality, default priority and team."""
    return _read(request, org.catalog_doc)


@router.put("/catalog")
def put_catalog(body: Items, request: Request, _: Admin) -> Items:
    """Create or update categories (matched by name under their parent); nothing is deleted."""
    return _write(request, body, org.update_catalog, org.catalog_doc)


@router.get("/sla-policies")
def get_sla(request: Request, _: Admin) -> Items:
    """SLA policies, first match first (none stored: the built-in defaults apply)."""
    return _read(request, org.sla_doc)


@router.put("/sla-policies")
def put_sla(body: Items, request: Request, _: Admin) -> Items:
    """Replace every SLA policy; new tickets use them at once (running clocks keep their targets)."""
    return _write(request, body, org.replace_sla, org.sla_doc)


@router.get("/routing-rules")
def get_routing(request: Request, _: Admin) -> Items:
    """Routing rules in the order they run."""
    return _read(request, org.routing_doc)


@router.put("/routing-rules")
def put_routing(body: Items, request: Request, _: Admin) -> Items:
    """Replace every routing rule, validated as a whole (nothing changes if one is wrong)."""
    return _write(request, body, org.replace_routing, org.routing_doc)
