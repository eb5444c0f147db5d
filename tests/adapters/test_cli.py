"""The CLI as DESIGN.md specifies it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.adapters.server import wuyou
from tests.conftest import shared
from wuyou.kb.documents import read_dir


def test_org_and_kb_import_export_round_trip(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert wuyou("db", "upgrade", env=env).returncode == 0
    out = wuyou("org", "import", str(shared("org-sample.yaml")), env=env)
    assert out.returncode == 0 and "12 people" in out.stdout, out.stderr
    again = wuyou("org", "import", str(shared("org-sample.yaml")), env=env)  # updates in place
    assert again.returncode == 0 and "12 people" in again.stdout
    kb = shared("kb-sample/kb")
    imported = wuyou("kb", "import", str(kb), env=env)
    assert "imported 50 articles" in imported.stdout
    # (the sample KB is richer than the sample catalog: imported all the same, the articles whose category names
    # no leaf of it counted — 终端设备/小票打印机 is its 打印机, 信息安全/防病毒 nothing)
    assert imported.stderr.startswith("warning: ") and " of 50 articles name a category the catalog lacks (" \
        in imported.stderr and "信息安全/防病毒" in imported.stderr, imported.stderr
    exported = tmp_path / "export"
    assert "exported 50" in wuyou("kb", "export", str(exported), env=env).stdout
    assert read_dir(exported) == read_dir(kb)
    # Front matter wuyou does not use itself (an owner, a review date) comes back as it went in.
    extra = tmp_path / "extra"
    extra.mkdir()
    article = (kb / "KB-P001.md").read_text(encoding="utf-8")
    (extra / "KB-P001.md").write_text(article.replace("---\n", "---\nowner: 张三\nreviewed: 2026-03-01\n", 1),
                                      encoding="utf-8")
    assert "imported 1" in wuyou("kb", "import", str(extra), env=env).stdout
    again = tmp_path / "again"
    wuyou("kb", "export", str(again), env=env)
    (back,) = [d for d in read_dir(again) if d.id == "KB-P001"]
    assert back == read_dir(extra)[0] and back.extra == {"owner": "张三", "reviewed": date(2026, 3, 1)}


def test_org_import_names_the_problem(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    bad = tmp_path / "org.yaml"
    bad.write_text("branches:\n  - {code: X-1, name: 某网点, region: NOWHERE}\n", encoding="utf-8")
    result = wuyou("org", "import", str(bad), env=env)
    assert result.returncode != 0 and "unknown region 'NOWHERE'" in result.stderr


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["teams"][0].update(leader="zhao.min"), "teams[0]: unknown key 'leader'"),
    (lambda d: d.update(foo=1), "the org file: unknown key 'foo'"),
    (lambda d: d["regions"][0]["children"][0]["children"].append({"code": "HQ"}), "region 'HQ' appears twice"),
    (lambda d: d["branches"].append(dict(d["branches"][0])), "branch 'JN-001' appears twice"),
    (lambda d: d["people"].append(dict(d["people"][0])), "appears twice"),
    (lambda d: d["people"][1]["identities"].update(http=d["people"][0]["identities"]["http"]),
     "is given to both"),
    (lambda d: d["catalog"][0]["children"][0].update(children=[{"name": "x"}]), "two levels"),
])
def test_org_import_refuses_what_it_would_silently_lose(tmp_path: Path, change: Any, problem: str) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = wuyou("org", "import", str(path), env=env)
    assert result.returncode != 0 and problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_kb_suggest_json_lines(tmp_path: Path) -> None:
    result = wuyou(
        "kb", "suggest", "--kb", str(shared("kb-sample/kb")), "--json",
        env={"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.db'}"},
        stdin="打印机卡纸了\n谢谢\n",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["打印机卡纸了", "谢谢"]
    assert lines[0]["suggestions"][0]["id"] == "KB-P001" and len(lines[0]["suggestions"]) <= 3
    scores = [s["score"] for s in lines[0]["suggestions"]]
    assert scores == sorted(scores, reverse=True)
    assert lines[1]["suggestions"] == []
    assert not (tmp_path / "untouched.db").exists()


def test_kb_suggest_without_json_is_for_a_person(tmp_path: Path) -> None:
    result = wuyou("kb", "suggest", "--kb", str(shared("kb-sample/kb")), stdin="打印机卡纸了\n谢谢\n",
                   env={"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.db'}"})
    assert result.returncode == 0 and "KB-P001  打印机卡纸的处理方法" in result.stdout, result.stdout
    assert "{'id'" not in result.stdout and "(nothing confident enough to offer)" in result.stdout


def test_kb_suggest_takes_windows_lines_and_a_byte_order_mark(tmp_path: Path) -> None:
    result = wuyou("kb", "suggest", "--kb", str(shared("kb-sample/kb")), "--json",
                   env={"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.db'}"},
                   stdin="\ufeff打印机卡纸了\r\n谢谢\r\n")
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["打印机卡纸了", "谢谢"]


def test_a_kb_directory_that_would_lose_an_article_is_refused(tmp_path: Path) -> None:
    """Two files with one id (one would silently replace the other), a file that is not UTF-8: a clear error
    naming the files, no traceback — for `kb suggest` and `kb import` alike."""
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    twice = tmp_path / "twice"
    twice.mkdir()
    article = (shared("kb-sample/kb") / "KB-P001.md").read_text(encoding="utf-8")
    (twice / "a.md").write_text(article, encoding="utf-8")
    (twice / "b.md").write_text(article.replace("打印机卡纸", "打印机缺纸"), encoding="utf-8")
    latin = tmp_path / "latin"
    latin.mkdir()
    (latin / "a.md").write_bytes(article.encode("utf-8") + b"\xff\xfe")
    for directory, problem in ((twice, "id KB-P001 is also the id of"), (latin, "not UTF-8")):
        for args in (("kb", "suggest", "--kb", str(directory), "--json"), ("kb", "import", str(directory))):
            result = wuyou(*args, env=env, stdin="打印机卡纸了\n")
            assert result.returncode != 0 and problem in result.stderr, (args, result.stderr)
            assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("text", "problem"), [
    ("wechat:\n  main: {app_id: wx1, app_secret: s, token: t, aes_key: short}\n",
     "wechat.main.aes_key: must be the 43-character EncodingAESKey"),
    ("telegram:\n  desk: {token: '1:x', secret_token: 'bad secret!'}\n", "telegram.desk.secret_token"),
    ("wechat:\n  main: {app_id: wx1, app_secret: '${NOT_SET_HERE}', token: t, aes_key: " + "a" * 43 + "}\n",
     "environment variable NOT_SET_HERE is not set"),
    ("slack: {}\n", "unknown platform(s) slack"),
])
def test_a_channels_file_is_checked_and_its_problem_named(tmp_path: Path, text: str, problem: str) -> None:
    """`wuyou channels check` and `serve` name what is wrong in one line (a bad key was taken, and every message
    then failed; the other problems came as a traceback)."""
    path = tmp_path / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    checked = wuyou("channels", "check", str(path), env=env)
    assert checked.returncode != 0 and problem in checked.stderr and "Traceback" not in checked.stderr, checked.stderr
    served = wuyou("serve", "--port", "1", env={**env, "WUYOU_CHANNELS_FILE": str(path)})
    assert served.returncode != 0 and problem in served.stderr and "Traceback" not in served.stderr


def test_a_good_channels_file_lists_its_webhooks(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("wechat:\n  main: {app_id: wx1, app_secret: s, token: t, aes_key: " + "a" * 43 + "}\n"
                    "telegram:\n  desk: {token: '1:x', secret_token: good_secret-1}\n", encoding="utf-8")
    out = wuyou("channels", "check", str(path), env={"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"})
    assert out.returncode == 0 and "/channels/wechat/main" in out.stdout and "telegram desk: ok" in out.stdout


def test_an_unreachable_database_is_said_in_one_line(tmp_path: Path) -> None:
    result = wuyou("db", "upgrade", env={"WUYOU_DATABASE_URL": "postgresql+psycopg://u:secret@127.0.0.1:1/x"})
    assert result.returncode != 0 and "cannot reach the database" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_passwd_without_a_terminal_says_to_use_stdin(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    wuyou("db", "upgrade", env=env)
    result = wuyou("passwd", "li.wei", env=env, stdin="secret-pw\n")
    assert result.returncode != 0 and "--stdin" in result.stderr and "Traceback" not in result.stderr


def test_terminal_chat_as_clerk_then_engineer(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert wuyou("org", "import", str(shared("org-sample.yaml")), env=env).returncode == 0
    script = "\n".join(["/new", "1", "1", "打印机不进纸", ":as li.wei", "待办", "接单 1001", ":as zhang.san", ":quit"])
    result = wuyou("chat", "--as", "zhang.san", env=env, stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "工单号 #1001" in out
    assert out.index("工单号 #1001") < out.index("🔔 通知> 🆕 #1001")  # li.wei's notification on switching
    assert "已接单 #1001" in out
    back_as_clerk = out.split("now chatting as: zhang.san")[-1]
    assert "李伟（济南终端组）受理" in back_as_clerk


def test_terminal_chat_in_a_branch_group(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert wuyou("org", "import", str(shared("org-sample.yaml")), env=env).returncode == 0
    # (李伟, an engineer of no branch, says it in the group too: he follows it — a clerk of another branch would not)
    script = "\n".join(["/new", "1", "1", "打印机不进纸", ":as li.wei", ":group", "待办", ":group 济南群",
                        "打印机不进纸了", ":quit"])
    result = wuyou("chat", "--as", "zhang.san", "--group", "济南群", env=env, stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    assert "工单号 #1001" in result.stdout and "群里已经报过这个问题：#1001" in result.stdout


def test_token_create_and_revoke(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert wuyou("org", "import", str(shared("org-sample.yaml")), env=env).returncode == 0
    made = wuyou("token", "create", "admin", "--name", "ops", env=env)
    assert made.returncode == 0 and made.stdout.startswith("wy_") and "only this once" in made.stderr
    assert "revoked 1" in wuyou("token", "revoke", "admin", "ops", env=env).stdout
    missing = wuyou("token", "create", "nobody", env=env)
    assert missing.returncode != 0 and "no person 'nobody'" in missing.stderr


def test_replay_takes_a_byte_order_mark_and_warns_of_what_it_cannot_take_as_written(tmp_path: Path) -> None:
    stream = tmp_path / "day.jsonl"
    stream.write_text('\ufeff{"t": "2026-04-08T08:01:14+08:00", "user": "r.nj002", "text": "打印机卡纸了"}\n'
                      '{"t": "2026-04-08T08:00:00+08:00", "user": "nobody", "text": "在吗"}\n', encoding="utf-8")
    result = wuyou("replay", str(stream), "--org", str(shared("surge-sample/org.yaml")), "--json",
                   env={"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.db'}"})
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["line"] for line in result.stdout.splitlines() if '"reply"' in line][:1] == [1]
    assert "line 2: 2026-04-08T08:00:00+08:00 is before the line before it" in result.stderr
    assert "line 2: user 'nobody' is nobody's http identity" in result.stderr
    assert "alembic" not in result.stderr  # (its INFO lines buried these)


def test_a_file_that_cannot_be_read_is_named_in_one_line(tmp_path: Path) -> None:
    """A directory given for a file, or a file in another encoding (GBK, as Chinese Windows tools save): one line
    naming the file, for `org import`, `replay` (its stream and its org file) and `channels check` — they came as a
    traceback (IsADirectoryError, UnicodeDecodeError)."""
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("branches: []\n# 济南分公司\n".encode("gbk"))
    org, stream = shared("surge-sample/org.yaml"), shared("surge-sample/stream.jsonl")
    gbk_stream = tmp_path / "gbk.jsonl"
    gbk_stream.write_bytes('{"t": "2026-04-08T08:01:14+08:00", "user": "r.nj002", "text": "在吗"}\n'.encode()
                            + '{"t": "2026-04-08T08:02:14+08:00", "user": "r.nj002", "text": "打印机卡纸了"}\n'
                            .encode("gbk"))
    for args, problem in (
        (("org", "import", str(tmp_path)), f"{tmp_path}: is a directory"),
        (("org", "import", str(gbk)), f"{gbk}: not UTF-8 text"),
        (("replay", str(tmp_path), "--org", str(org)), f"{tmp_path}: is a directory"),
        (("replay", str(gbk_stream), "--org", str(org)), f"{gbk_stream}: line 2 is not UTF-8 text"),
        (("replay", str(stream), "--org", str(tmp_path)), f"{tmp_path}: is a directory"),
        (("replay", str(stream), "--org", str(gbk)), f"{gbk}: not UTF-8 text"),
        (("channels", "check", str(tmp_path)), f"{tmp_path}: is a directory"),
        (("channels", "check", str(gbk)), f"{gbk}: not UTF-8 text"),
    ):
        result = wuyou(*args, env=env)
        assert result.returncode == 1 and problem in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(("args", "env", "problem"), [
    (("kb", "suggest", "--kb", "kb"), {"WUYOU_PORT": "abc"}, "WUYOU_PORT: Input should be a valid integer"),
    (("db", "upgrade"), {"WUYOU_SURGE_MIN_REPORTS": "1"}, "WUYOU_SURGE_MIN_REPORTS: Input should be greater than"),
    (("replay", "day.jsonl", "--org", "org.yaml", "--min-reports", "1"), {}, "--min-reports: Input should be greater"),
    (("db", "upgrade"), {"WUYOU_DATABASE_URL": "postgres://u:secret@db/x"},
     "WUYOU_DATABASE_URL is not a database URL the desk can use (postgres://u:***@db/x)"),
    (("kb", "export", "out"), {"WUYOU_DATABASE_URL": "wuyou.db"}, "WUYOU_DATABASE_URL is not a database URL"),
])
def test_a_setting_that_cannot_be_is_named_in_one_line(tmp_path: Path, args: tuple[str, ...], env: dict[str, str],
                                                       problem: str) -> None:
    """A wrong `WUYOU_*` variable or replay threshold: one line naming it (never its value: it may be a secret),
    exit 1 — they came as pydantic's and SQLAlchemy's tracebacks."""
    result = wuyou(*args, env={"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", **env})
    assert result.returncode == 1 and problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_org_export_is_read_back_by_org_import(tmp_path: Path) -> None:
    """`wuyou org export FILE` (there was no way to get the directory back out but the admin API): what it writes,
    imported into another desk, exports the same again, people, identities and teams as the sample had them."""
    first, second = ({"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / name}"} for name in ("a.db", "b.db"))
    assert wuyou("org", "import", str(shared("org-sample.yaml")), env=first).returncode == 0
    exported = tmp_path / "org.yaml"
    out = wuyou("org", "export", str(exported), env=first)
    assert out.returncode == 0 and "4 regions, 3 branches, 4 teams, 12 people" in out.stdout, out.stderr
    again = wuyou("org", "import", str(exported), env=second)
    assert again.returncode == 0 and "12 people" in again.stdout, again.stderr
    assert wuyou("org", "export", "-", env=second).stdout == exported.read_text(encoding="utf-8")
    doc, sample = yaml.safe_load(exported.read_text(encoding="utf-8")), yaml.safe_load(
        shared("org-sample.yaml").read_text(encoding="utf-8"))
    people = {p["id"]: p for p in doc["people"]}
    assert all(people[p["id"]]["identities"] == p["identities"] for p in sample["people"])
    assert {t["code"]: t["members"] for t in doc["teams"]} == {t["code"]: t["members"] for t in sample["teams"]}
    refused = wuyou("org", "export", str(tmp_path), env=first)
    assert refused.returncode == 1 and "is a directory" in refused.stderr
