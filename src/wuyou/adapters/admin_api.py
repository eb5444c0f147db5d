"""Admin API: read and replace the catalog, SLA policies and routing rules — the same documents, and the
same validation, as the org file's `catalog:`, `sla:` and `routing:` sections."""

from __future__ import annotations

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


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


@router.get("/catalog")
def get_catalog(request: Request, _: Admin) -> Items:
    """The two-level catalog: categories with speciality, default priority and team."""
    with _desk(request).sessions() as session:
        return Items(items=org.catalog_doc(session=session))


@router.put("/catalog")
def put_catalog(body: Items, request: Request, _: Admin) -> Items:
    """Create or update categories (matched by name under their parent); nothing is deleted."""
    with _desk(request).sessions() as session:
        try:
            org.update_catalog(session=session, items=body.items)
        except (OrgFileError, KeyError, AttributeError, TypeError) as exc:
            session.rollback()
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        session.commit()
        return Items(items=org.catalog_doc(session=session))


@router.get("/sla-policies")
def get_sla(request: Request, _: Admin) -> Items:
    """SLA policies, first match first (none stored: the built-in defaults apply)."""
    with _desk(request).sessions() as session:
        return Items(items=org.sla_doc(session=session))


@router.put("/sla-policies")
def put_sla(body: Items, request: Request, _: Admin) -> Items:
    """Replace every SLA policy; new tickets use them at once (running clocks keep their targets)."""
    with _desk(request).sessions() as session:
        try:
            org.replace_sla(session=session, items=body.items)
        except (OrgFileError, AttributeError, TypeError) as exc:
            session.rollback()
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        session.commit()
        return Items(items=org.sla_doc(session=session))


@router.get("/routing-rules")
def get_routing(request: Request, _: Admin) -> Items:
    """Routing rules in the order they run."""
    with _desk(request).sessions() as session:
        return Items(items=org.routing_doc(session=session))


@router.put("/routing-rules")
def put_routing(body: Items, request: Request, _: Admin) -> Items:
    """Replace every routing rule, validated as a whole (nothing changes if one is wrong)."""
    with _desk(request).sessions() as session:
        try:
            org.replace_routing(session=session, items=body.items)
        except (OrgFileError, AttributeError, TypeError) as exc:
            session.rollback()
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        session.commit()
        return Items(items=org.routing_doc(session=session))
