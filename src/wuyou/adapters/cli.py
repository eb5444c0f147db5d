"""The `wuyou` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wuyou.adapters.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from pydantic import ValidationError
    from sqlalchemy.orm import Session

    from wuyou.adapters.bootstrap import Desk

# The desk (database, migrations, web app) is imported by the commands that need it, so that
# `wuyou kb suggest` starts in a fraction of a second.


def utcnow() -> datetime:
    """The desk's clock (the database package is imported only by the commands that need it)."""
    from wuyou.db import utcnow as now

    return now()


log = logging.getLogger("wuyou")


def _desk(settings: Settings) -> Desk:
    from wuyou.adapters import migrate
    from wuyou.adapters.bootstrap import build
    from wuyou.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        current = migrate.is_current(engine)
    finally:
        engine.dispose()
    if not current:
        if settings.database_url.startswith("sqlite"):
            # The embedded default migrates itself; a shared production database is migrated on purpose.
            migrate.upgrade(settings.database_url)
        else:
            sys.exit("the database schema is not up to date: run `wuyou db upgrade` first")
    return build(settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from wuyou.adapters.app import create_app
    from wuyou.adapters.bootstrap import DEMO_PASSWORD, load_demo

    settings = settings.model_copy(update={"host": args.host or settings.host, "port": args.port or settings.port})
    if args.workers > 1 and not settings.redis_url:
        sys.exit("several workers share dialogue state through Redis: set WUYOU_REDIS_URL")
    desk = _desk(settings)
    if settings.demo_dir is not None and load_demo(desk, settings.demo_dir):
        print(f"已载入演示数据 / demo org and KB loaded from {settings.demo_dir}")
    base = f"http://{settings.host}:{settings.port}"
    print(f"无忧服务台 {base}/  (database {desk.db.url.render_as_string()})")
    if settings.demo_dir is not None:
        print(f"控制台 console {base}/console — 演示账号 demo sign-in: xu.ming / engineer / admin,"
              f" password {DEMO_PASSWORD}")
    if settings.http_channel_open and settings.host not in ("127.0.0.1", "localhost", "::1"):
        print("注意 / warning: the HTTP chat channel is open — anyone who reaches this server can talk and read as"
              " anyone; set WUYOU_HTTP_CHANNEL_TOKEN (a gateway's secret) or WUYOU_HTTP_CHANNEL=false", file=sys.stderr)
    if args.workers > 1:
        desk.close()
        # Each worker process builds its own desk from the same environment: the host and port given here too (its
        # links in chat said http://127.0.0.1:8000 whatever --port was).
        os.environ["WUYOU_HOST"], os.environ["WUYOU_PORT"] = settings.host, str(settings.port)
        uvicorn.run("wuyou.adapters.app:app_from_environment", factory=True, workers=args.workers,
                    host=settings.host, port=settings.port, log_level="info", log_config=None)
    else:  # (log_config=None: uvicorn's lines, its access log too, go through wuyou's logging, `logs.configure`)
        uvicorn.run(create_app(desk, server=True), host=settings.host, port=settings.port, log_level="info",
                    log_config=None)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> None:
    from pydantic import ValidationError

    from wuyou.adapters.replay import ReplayError, replay
    from wuyou.adapters.text_files import lines_of

    flags = {"surge_min_reports": ("--min-reports", args.min_reports),
             "surge_min_branches": ("--min-branches", args.min_branches),
             "surge_window_minutes": ("--window", args.window),
             "surge_auto_reports": ("--auto-reports", args.auto_reports),
             "surge_auto_branches": ("--auto-branches", args.auto_branches)}
    overrides = {name: value for name, (_, value) in flags.items() if value is not None}
    try:
        settings = Settings(**{**settings.model_dump(), **overrides})
    except ValidationError as exc:  # (`--min-reports 1`: said as the flag, not as a traceback)
        sys.exit(_settings_problem(exc, {name: flag for name, (flag, _) in flags.items()}))

    def emit(event: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(event, ensure_ascii=False), flush=False)
        else:
            rest = " ".join(f"{k}={v if isinstance(v, str | int | float) else json.dumps(v, ensure_ascii=False)}"
                            for k, v in event.items() if k not in ("t", "kind", "text"))
            text = f"\n    {event['text']}".replace("\n", "\n    ") if "text" in event else ""
            print(f"{event['t']} {event['kind']:<18} {rest}{text}")

    logging.getLogger("wuyou").setLevel(logging.WARNING)
    try:
        # (a byte-order mark, as Windows tools write, is dropped; a directory or another encoding named in one line)
        replay(lines_of(args.stream), org=args.org, kb=args.kb, emit=emit, settings=settings)
    except ReplayError as exc:
        sys.exit(f"wuyou replay: {exc}")
    sys.stdout.flush()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.adapters.bootstrap import settle_heap

    desk = _desk(settings)
    def _stop(*_: Any) -> None:
        desk.loop.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    desk.warm_up()
    settle_heap()
    print("outbox delivery worker running; Ctrl-C to stop")
    desk.loop.run()


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    from alembic.util.exc import CommandError

    from wuyou.adapters import migrate

    try:
        migrate.upgrade(settings.database_url, args.revision)
    except CommandError as exc:  # an unknown revision, a downgrade asked of `upgrade`
        sys.exit(f"wuyou: {exc}")
    print(f"database at {args.revision}")


def cmd_org_import(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.adapters.text_files import read_text
    from wuyou.db import refresh_statistics
    from wuyou.desk.org import TABLES, import_org, load_org_file

    doc = load_org_file(read_text(Path(args.file)))  # (read before the database is touched: a wrong path says so)
    desk = _desk(settings)
    with desk.sessions() as session:
        summary = import_org(session=session, doc=doc)
        _audited(session, "cli org import", args.file)
        session.commit()
        refresh_statistics(session, TABLES)
    print(
        f"imported {summary.regions} regions, {summary.branches} branches, {summary.categories} categories, "
        f"{summary.teams} teams, {summary.people} people, {summary.sla_policies} SLA policies, "
        f"{summary.routing_rules} routing rules, {summary.replies} canned replies"
    )


def cmd_org_export(args: argparse.Namespace, settings: Settings) -> None:
    import yaml

    from wuyou.desk.org_export import export_doc

    desk = _desk(settings)
    with desk.sessions() as session:
        doc = export_doc(session=session)
    text = ("# wuyou org export: `wuyou org import` reads it back (on-call overrides, dated and short-lived, are not"
            " in it)\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120))
    if args.file == "-":
        sys.stdout.write(text)
        return
    path = Path(args.file)
    if path.is_dir():
        sys.exit(f"wuyou: {path}: is a directory, not a file")
    path.write_text(text, encoding="utf-8")
    print(f"exported {len(_region_codes(doc['regions']))} regions, {len(doc['branches'])} branches,"
          f" {len(doc['teams'])} teams, {len(doc['people'])} people to {path}")


def _region_codes(tree: list[dict[str, Any]]) -> list[str]:
    return [code for r in tree for code in (r["code"], *_region_codes(r.get("children") or []))]


def cmd_kb_import(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.db import refresh_statistics
    from wuyou.desk import org
    from wuyou.kb import articles, documents
    from wuyou.kb.models import Article

    docs = documents.read_dir(Path(args.dir))
    desk = _desk(settings)
    with desk.sessions() as session:
        count = articles.upsert(session=session, docs=docs, now=utcnow())
        session.commit()
        refresh_statistics(session, [Article.__tablename__])
        unplaced = org.unplaced(session=session, categories=(d.category for d in docs))
    print(f"imported {count} articles")
    if unplaced:  # (imported all the same: the catalog may be imported next, or grow)
        count = sum(d.category in unplaced for d in docs)
        shown = ", ".join(unplaced[:5]) + (f" and {len(unplaced) - 5} more" if len(unplaced) > 5 else "")
        print(f"warning: {count} of {len(docs)} articles name a category the catalog lacks ({shown}): the reports "
              f"they answer get no category from them", file=sys.stderr)


def cmd_kb_export(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.kb import articles

    desk = _desk(settings)
    with desk.sessions() as session:
        count = articles.export_dir(session=session, directory=Path(args.dir))
    print(f"exported {count} articles to {args.dir}")


def cmd_kb_suggest(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.kb.documents import read_dir
    from wuyou.kb.matching import Matcher

    matcher = Matcher(d for d in read_dir(Path(args.kb)) if d.status == "published")
    for line in sys.stdin or ():  # (no stdin at all: nothing to answer)
        query = line.rstrip("\r\n").lstrip("\ufeff")  # Windows line ends, a byte-order mark: not the query's
        found = matcher.suggest(query)
        if args.json:
            out = {"query": query, "suggestions": [{"id": s.article_id, "score": s.score} for s in found]}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:  # for a person: the query, then each article with its confidence and title (or that there is none)
            print(query, flush=True)
            for s in found:
                print(f"  {s.score:5.1f}  {s.article_id}  {s.title}", flush=True)
            if not found:
                print("  (nothing confident enough to offer)", flush=True)


def _audited(session: Session, action: str, target: str) -> None:
    """An audit entry for a change made on the command line, by the operating-system user who ran it."""
    import getpass

    from wuyou.desk import audit

    audit.record(session=session, at=utcnow(), actor_id=f"cli:{getpass.getuser()}", action=action, target=target)


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.desk import tokens
    from wuyou.desk.errors import NotFound

    desk = _desk(settings)
    with desk.sessions() as session:
        try:
            token = tokens.create(session=session, person_id=args.person, name=args.name, now=utcnow())
        except NotFound:
            sys.exit(f"no person '{args.person}' in the org directory")
        _audited(session, "cli token create", f"{args.person} {args.name}")
        session.commit()
    print(token)
    print("(shown only this once: the desk keeps just its hash)", file=sys.stderr)


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.desk import tokens

    desk = _desk(settings)
    with desk.sessions() as session:
        count = tokens.revoke(session=session, person_id=args.person, name=args.name, now=utcnow())
        _audited(session, "cli token revoke", f"{args.person} {args.name}")
        session.commit()
    print(f"revoked {count} token(s)")


def cmd_passwd(args: argparse.Namespace, settings: Settings) -> None:
    import getpass

    from wuyou.desk import passwords

    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass(f"{args.person} 的新密码 / new password: ")
            again = getpass.getpass("再输一次 / again: ")
        except EOFError:  # input piped, not typed
            sys.exit("wuyou: no terminal to type the password on: pipe it in with --stdin")
        if again != password:
            sys.exit("the two passwords differ")
    desk = _desk(settings)
    with desk.sessions() as session:
        passwords.set_password(session=session, person_id=args.person, password=password)
        _audited(session, "cli passwd", args.person)
        session.commit()
    print(f"console password set for {args.person}")


def cmd_chat(args: argparse.Namespace, settings: Settings) -> None:
    from wuyou.adapters.bootstrap import load_demo
    from wuyou.adapters.console import ConsoleChat

    desk = _desk(settings)
    if settings.demo_dir is not None:
        load_demo(desk, settings.demo_dir)
    ConsoleChat(desk, user=args.user, group=args.group).run()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wuyou", description="无忧服务台 — chatbot IT service desk")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the desk over HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (needs WUYOU_REDIS_URL)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="run the outbox delivery worker").set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    org = sub.add_parser("org", help="org directory").add_subparsers(dest="org_command", required=True)
    imp = org.add_parser("import", help="import (create or update) an org directory YAML file")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_org_import)
    exp = org.add_parser("export", help="write the org directory as an org file (what `org import` reads)")
    exp.add_argument("file", help="the YAML file to write ('-': standard output)")
    exp.set_defaults(func=cmd_org_export)

    kb = sub.add_parser("kb", help="knowledge base").add_subparsers(dest="kb_command", required=True)
    kimp = kb.add_parser("import", help="import Markdown articles from a directory")
    kimp.add_argument("dir")
    kimp.set_defaults(func=cmd_kb_import)
    kexp = kb.add_parser("export", help="export every article as Markdown into a directory")
    kexp.add_argument("dir")
    kexp.set_defaults(func=cmd_kb_export)
    ksug = kb.add_parser("suggest", help="suggest articles of DIR for each stdin line (no database)")
    ksug.add_argument("--kb", required=True)
    ksug.add_argument("--json", action="store_true")
    ksug.set_defaults(func=cmd_kb_suggest)

    tok = sub.add_parser("token", help="personal API tokens").add_subparsers(dest="token_command", required=True)
    tnew = tok.add_parser("create", help="create an API token for a person (printed once)")
    tnew.add_argument("person", help="the person's id in the org directory")
    tnew.add_argument("--name", default="cli", help="a label, to revoke it later")
    tnew.set_defaults(func=cmd_token_create)
    trev = tok.add_parser("revoke", help="revoke a person's tokens of a name")
    trev.add_argument("person")
    trev.add_argument("name")
    trev.set_defaults(func=cmd_token_revoke)

    pwd = sub.add_parser("passwd", help="set a person's web-console password (else they sign in by chat code)")
    pwd.add_argument("person", help="the person's id in the org directory")
    pwd.add_argument("--stdin", action="store_true", help="read the password from the first line of stdin")
    pwd.set_defaults(func=cmd_passwd)

    rep = sub.add_parser("replay", help="replay a day of reports on a simulated clock and print what the desk did")
    rep.add_argument("stream", type=Path, help="JSON lines: {t, user, text | action}")
    rep.add_argument("--org", type=Path, required=True, help="the org directory YAML")
    rep.add_argument("--kb", type=Path, help="a directory of KB articles (Markdown)")
    rep.add_argument("--json", action="store_true", help="one JSON object per line")
    for flag, help_text in (("--min-reports", "similar reports that make a surge offer"),
                            ("--min-branches", "distinct branches that make a surge offer"),
                            ("--window", "surge window in minutes"),
                            ("--auto-reports", "reports that declare automatically"),
                            ("--auto-branches", "branches that declare automatically")):
        rep.add_argument(flag, type=float if flag == "--window" else int, help=help_text)
    rep.set_defaults(func=cmd_replay)

    chn = sub.add_parser("channels", help="chat platform accounts").add_subparsers(dest="channels_command",
                                                                                     required=True)
    chk = chn.add_parser("check", help="read a channels file as `serve` would and say what is wrong with it")
    chk.add_argument("file", nargs="?", type=Path, help="the file (default: WUYOU_CHANNELS_FILE)")
    chk.set_defaults(func=cmd_channels_check)

    chat = sub.add_parser("chat", help="chat with the desk in the terminal as any user")
    chat.add_argument("--as", dest="user", help="the person's http identity, e.g. zhang.san")
    chat.add_argument("--group", help="talk in this group chat (a branch's group) instead of 1:1")
    chat.set_defaults(func=cmd_chat)
    return p


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # (an unparsable URL: say nothing of it)
        return "WUYOU_DATABASE_URL"


def cmd_channels_check(args: argparse.Namespace, settings: Settings) -> None:
    """Read a channels file as `serve` would, and say what it sets up (or what is wrong with it)."""
    from wuyou.adapters.channels import load_channels

    path = args.file or settings.channels_file
    if path is None:
        sys.exit("wuyou: no channels file: give one, or set WUYOU_CHANNELS_FILE")
    channels = load_channels(path)
    for platform in ("wechat", "wecom", "telegram"):
        for name in getattr(channels, platform):
            print(f"{platform} {name}: ok (webhook /channels/{platform}/{name})")
    if not any(getattr(channels, p) for p in ("wechat", "wecom", "telegram")):
        print("no accounts: only the HTTP chat channel will be open")


def _settings_problem(exc: ValidationError, names: Mapping[str, str] | None = None) -> str:
    """What is wrong with the settings, one line each, named as the user gave them (an environment variable, or a
    command's flag in `names`); never the value, which may be a secret."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        lines.append(f"wuyou: {(names or {}).get(field) or 'WUYOU_' + field.upper()}: {error['msg']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `wuyou` console script."""
    from pydantic import ValidationError

    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # (WUYOU_PORT=abc: one line naming the variable, not a traceback)
        sys.exit(_settings_problem(exc))
    from wuyou.adapters import logs

    logs.configure(settings.log_format)
    from sqlalchemy.exc import ArgumentError, OperationalError

    from wuyou.adapters.channels import ChannelsFileError
    from wuyou.adapters.text_files import TextFileError
    from wuyou.desk.errors import DeskError
    from wuyou.kb.errors import KbError

    try:
        args.func(args, settings)
    except (DeskError, KbError, FileNotFoundError, ChannelsFileError, TextFileError) as exc:
        sys.exit(f"wuyou: {exc}")
    except ArgumentError as exc:  # no URL at all, or a dialect SQLAlchemy does not have (`postgres://`, a typo)
        shown = _redacted(settings.database_url)
        shown = "" if shown == "WUYOU_DATABASE_URL" else f" ({shown})"  # (unparsable: not echoed: it may hold a secret)
        sys.exit(f"wuyou: WUYOU_DATABASE_URL is not a database URL the desk can use{shown}: {exc};"
                 " e.g. sqlite:///./wuyou.db or postgresql+psycopg://user@host/db")
    except OperationalError as exc:  # the database is not there (a wrong URL, a server down)
        sys.exit(f"wuyou: cannot reach the database ({_redacted(settings.database_url)}): {exc.orig}")
    except BrokenPipeError:  # `wuyou kb suggest … | head -1`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (Python flushes stdout again at exit)
        sys.exit(0)


if __name__ == "__main__":
    main()
