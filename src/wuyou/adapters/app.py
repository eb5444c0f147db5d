"""The FastAPI application: channels, API and pages, built from a wired Desk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import anyio
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from wuyou import __version__
from wuyou.adapters import (
    absences_api,
    admin_api,
    alerts,
    api,
    audit_trail,
    digests_api,
    http_channel,
    incident_pages,
    incidents_api,
    kb_api,
    logs,
    metrics,
    notices_api,
    oncall_api,
    openapi,
    org_api,
    pages,
    reports_api,
    sessions_api,
    telegram,
    tickets_api,
    tokens_api,
    webhooks_api,
    wechat,
    wecom,
    wecom_bot,
)
from wuyou.adapters.bootstrap import Desk, settle_heap
from wuyou.adapters.web import console


def create_app(desk: Desk, *, run_worker: bool | None = None, server: bool = False) -> FastAPI:
    """The web application; runs the outbox delivery loop in-process unless told otherwise. A `server` process
    (not a test's app) settles its heap once warmed up."""
    worker = desk.settings.inprocess_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(desk.warm_up)
        if server:
            settle_heap()
        if worker:
            desk.loop.start()
        try:
            yield
        finally:
            desk.loop.stop()

    app = FastAPI(title="wuyou 无忧服务台", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.desk = desk
    _docs(app)
    app.include_router(http_channel.router)
    app.include_router(wechat.router)
    app.include_router(wecom.router)
    app.include_router(wecom_bot.router)
    app.include_router(telegram.router)
    app.include_router(tickets_api.router)  # before api's /tickets/{ticket_id}: /tickets/events
    app.include_router(api.router)
    app.include_router(admin_api.router)
    app.include_router(kb_api.router)
    app.include_router(org_api.router)
    app.include_router(oncall_api.router)
    app.include_router(absences_api.router)
    app.include_router(reports_api.router)
    app.include_router(webhooks_api.router)
    app.include_router(alerts.router)
    app.include_router(incidents_api.router)
    app.include_router(notices_api.router)
    app.include_router(digests_api.router)
    app.include_router(sessions_api.router)
    app.include_router(tokens_api.router)
    app.include_router(audit_trail.router)
    app.include_router(console.router)
    app.add_exception_handler(console.SignInRequired, console.to_sign_in)
    app.add_exception_handler(console.PageForbidden, console.forbidden)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.include_router(pages.router)
    app.include_router(incident_pages.router)
    app.include_router(metrics.router)
    app.add_middleware(metrics.CountMessages)
    app.add_middleware(audit_trail.AuditTrail, desk=desk)
    app.add_middleware(logs.RequestIds)
    openapi.install(app)
    index = resources.files("wuyou.adapters.web").joinpath("static/index.html")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def chat_page() -> Response:
        """The web chat (a clerk and an engineer side by side) talks through the open HTTP channel; with the
        channel closed or behind a gateway's token, the console is the way in."""
        if not desk.settings.http_channel_open:
            return RedirectResponse("/console", status_code=303)
        page = index.read_text(encoding="utf-8")  # (times shown on the desk's clock, as the messages say them)
        return HTMLResponse(page.replace("__DESK_TZ__", desk.settings.timezone))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


def _docs(app: FastAPI) -> None:
    """The API's Swagger UI at /docs, its script and styles served from the installed package (FastAPI's default
    page loads them from a CDN: blank on a desk without internet)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    """422 saying where and why, without echoing the input back as FastAPI does: not a megabyte of text, not a
    password, not a lone surrogate that cannot even be encoded (which made the answer a 500)."""
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def app_from_environment() -> FastAPI:
    """The app for one of several `wuyou serve --workers N` processes, configured from `WUYOU_*`."""
    from wuyou.adapters.bootstrap import build
    from wuyou.adapters.settings import Settings

    settings = Settings()
    logs.configure(settings.log_format)  # (a fresh process: the CLI's logging set-up was in its parent)
    return create_app(build(settings), server=True)
