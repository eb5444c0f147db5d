"""Articles as Markdown files with YAML front matter: the format, read and written without a database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wuyou.kb.errors import ArticleFormatError

# libyaml's loader when PyYAML was built with it (the wheels are): ten times faster over a large KB.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.M)
# The front matter wuyou itself writes is a handful of `key: plain words` and `key: [a, b]` lines. Those are read
# without YAML (parsing 10,000 files' YAML costs more than indexing them); anything else goes to YAML.
_SIMPLE_LINE = re.compile(r"([a-z_]+): (.*)")
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`0-9.+~][^,\[\]{}#'\"]*")
_YAML_WORDS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])
# A draft waits for review; an archived article (the console's or the API's archive) is kept but never suggested.
STATUSES = ("published", "draft", "archived")
# The stored columns' widths (kb.models.Article): a longer value would be cut, or refused by PostgreSQL mid-import.
LONGEST = {"id": 64, "title": 300, "category": 200}
KNOWN_KEYS = ("id", "title", "category", "tags", "status", "source", "phrasings")
MAX_PHRASINGS = 20


@dataclass(frozen=True)
class ArticleDoc:
    """An article as the files and the matcher see it."""

    id: str
    title: str
    category: str
    tags: tuple[str, ...] = ()
    body: str = ""
    sections: dict[str, str] = field(default_factory=dict, compare=False)
    status: str = "published"
    phrasings: tuple[str, ...] = ()  # reporters' wordings of problems it solved
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # other front matter keys (`owner:`), kept as they were

    @property
    def symptoms(self) -> str:
        return self.sections.get("现象", "")

    @property
    def steps(self) -> str:
        return self.sections.get("处理步骤", "")


def split_sections(body: str) -> dict[str, str]:
    """`## 标题` sections of a Markdown body, by heading."""
    parts = _SECTION.split(body)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _plain(value: str) -> str | None:
    """`value` when YAML would read it as exactly this string, else None."""
    if _PLAIN.fullmatch(value) and ": " not in value and " #" not in value and value == value.strip():
        return None if value.lower() in _YAML_WORDS else value
    return None


def _simple_front_matter(text: str) -> dict[str, object] | None:
    """The front matter as YAML would read it, for the simple shape wuyou writes; None for anything else."""
    meta: dict[str, object] = {}
    for line in text.split("\n"):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None or match.group(1) in meta:
            return None
        key, value = match.groups()
        if value.startswith("[") and value.endswith("]"):
            items = [_plain(item.strip()) for item in value[1:-1].split(",")] if value[1:-1].strip() else []
            if None in items:
                return None
            meta[key] = items
        else:
            meta[key] = _plain(value)
            if meta[key] is None:
                return None
    return meta


def parse_article(text: str, *, source: str = "<text>") -> ArticleDoc:
    """Parse one Markdown article with front matter (`id`, `title`, `category`, `tags`)."""
    match = _FRONT.match(text.lstrip("\ufeff"))
    if match is None:
        raise ArticleFormatError(f"{source}: no YAML front matter between '---' lines")
    meta: Any = _simple_front_matter(match.group(1))
    if meta is None:
        try:
            meta = yaml.load(match.group(1), Loader=_Loader)
        except yaml.YAMLError as exc:
            raise ArticleFormatError(f"{source}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ArticleFormatError(f"{source}: front matter must be a mapping")
    for key in ("id", "title"):
        if not meta.get(key):
            raise ArticleFormatError(f"{source}: front matter needs '{key}'")
    for key, longest in LONGEST.items():
        if len(str(meta.get(key) or "")) > longest:
            raise ArticleFormatError(f"{source}: '{key}' is longer than {longest} characters")
    article_id = str(meta["id"])
    if article_id in (".", "..") or any(c in article_id for c in "/\\\0"):
        # (`kb export` writes `<id>.md`: a slash in it made a path that was not there, or outside the directory)
        raise ArticleFormatError(f"{source}: 'id' {article_id!r} cannot be a file name (no slashes)")
    lists = {}
    for key in ("tags", "phrasings"):
        lists[key] = meta.get(key) or []
        if not isinstance(lists[key], list):
            raise ArticleFormatError(f"{source}: '{key}' must be a list")
    status = str(meta.get("status") or "published")
    if status not in STATUSES:
        raise ArticleFormatError(f"{source}: 'status' must be one of {', '.join(STATUSES)}, not {status!r}")
    body = match.group(2).strip()
    return ArticleDoc(
        id=article_id,
        title=str(meta["title"]),
        category=str(meta.get("category") or ""),
        tags=tuple(str(t) for t in lists["tags"]),
        body=body,
        sections=split_sections(body),
        status=status,
        phrasings=tuple(str(p) for p in lists["phrasings"]),
        source=str(meta.get("source") or ""),
        extra={str(k): v for k, v in meta.items() if k not in KNOWN_KEYS},
    )


def render_article(doc: ArticleDoc) -> str:
    """The Markdown file for an article; `parse_article(render_article(a)) == a`."""
    meta: dict[str, object] = {"id": doc.id, "title": doc.title, "category": doc.category, "tags": list(doc.tags)}
    if doc.status != "published":
        meta["status"] = doc.status
    if doc.source:
        meta["source"] = doc.source
    if doc.phrasings:
        meta["phrasings"] = list(doc.phrasings)
    meta.update((k, v) for k, v in doc.extra.items() if k not in KNOWN_KEYS)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None)
    return f"---\n{front}---\n{doc.body}\n"


def dump_extra(extra: dict[str, Any]) -> str | None:
    """An article's other front matter keys as stored: YAML, so that dates and numbers stay what they were."""
    return yaml.safe_dump(extra, allow_unicode=True, sort_keys=False) if extra else None


def load_extra(stored: str | None) -> dict[str, Any]:
    loaded = yaml.load(stored, Loader=_Loader) if stored else None
    return loaded if isinstance(loaded, dict) else {}


def read_dir(directory: Path) -> list[ArticleDoc]:
    """Every `*.md` article under a directory, in file-name order; a file that is not UTF-8 or that repeats another's
    id is an error (naming both files)."""
    if not directory.is_dir():
        raise ArticleFormatError(f"{directory}: not a directory")
    docs: list[ArticleDoc] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.rglob("*.md"), key=lambda path: path.parts):  # (as Path orders them, faster)
        if path.name.lower() == "readme.md":
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")  # (a byte-order mark, as some Windows editors write)
        except UnicodeDecodeError as exc:
            raise ArticleFormatError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
        doc = parse_article(text, source=str(path))
        if doc.id in seen:  # one would silently replace the other
            raise ArticleFormatError(f"{path}: id {doc.id} is also the id of {seen[doc.id]}")
        seen[doc.id] = path
        docs.append(doc)
    return docs
