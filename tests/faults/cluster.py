"""The fault tests' cluster: a private PostgreSQL and Redis, 2 `wuyou serve` processes and 2 `wuyou worker`
processes, the fake WeChat API in the test process, and an org with a few hundred branch staff on the HTTP
channel and on WeChat. Every piece can be crashed and started again (`kill -9`, `pg_ctl stop -m immediate`,
a Redis without persistence killed and restarted empty) and `close()` leaves no process behind.

Nothing here touches the machine's own PostgreSQL (5432) or Redis (6379): both servers run on free ports from
temporary folders. PostgreSQL runs as the `postgres` OS user, so the cluster needs root (`missing()` says why
it cannot run, for the tests to skip — or fail in CI).
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import yaml
from sqlalchemy import Engine, create_engine, text

from tests.adapters.fake_wechat import FakeWeChat
from tests.adapters.server import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("WUYOU_FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
APP_ID, TOKEN, AES_KEY = "wxfa0175c1a5de0001", "faults-token", "faultsABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789a"
ACCOUNT = "main"  # the WeChat account's name: /channels/wechat/main
DATABASE = "wuyou"
# High enough that a storm is neither rate-limited nor declared a major incident: this is the ticket path. Tickets
# of a category that come while its first waits unclaimed reach the team on grouped cards held back six seconds
# (a real desk holds them minutes): held, updated and sent under the faults like any notification, and all out
# before the drain ends — a hold of a minute made every round wait a minute for its last cards.
QUIET_LIMITS = {
    "WUYOU_GROUP_TICKETS_MINUTES": "0.1",
    "WUYOU_RATE_PERSON_PER_MINUTE": "100000",
    "WUYOU_RATE_STAFF_PER_MINUTE": "100000",
    "WUYOU_RATE_BRANCH_PER_MINUTE": "100000",
    "WUYOU_SURGE_MIN_REPORTS": "1000000",
    "WUYOU_SURGE_AUTO_REPORTS": "1000000",
}


def missing() -> str | None:
    """Why this machine cannot run the cluster (None when it can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the fault tests run a private PostgreSQL as the postgres OS user: they need root"
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).exists():
            return f"PostgreSQL's {tool} is not in {PG_BIN} (set WUYOU_FAULTS_PG_BIN)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if shutil.which("runuser") is None:
        return "runuser (util-linux) is not installed"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres OS user to run PostgreSQL as"
    return None


class TimedSends(list[dict[str, Any]]):
    """The fake WeChat API's `sent` list, also noting when each message arrived (to tell a re-send caused by a
    worker killed mid-delivery from a real duplicate). The fake records a message before it answers; `latency`
    holds the answer back a little after that, as a real API's round trip does, so that a worker killed mid-storm
    is often caught between WeChat's "ok" and its own commit."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.times: list[float] = []
        self._by_user: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def append(self, item: dict[str, Any]) -> None:
        with self._lock:
            self.times.append(time.monotonic())
            self._by_user.setdefault(str(item.get("touser")), []).append(str(item.get("text", {}).get("content")))
            super().append(item)
        if self.latency:
            time.sleep(self.latency)  # in the fake's request thread: the answer to the worker comes this much later

    def texts_to(self, openid: str) -> list[str]:
        """The texts this follower has received so far (indexed: the storm asks for it many times a second)."""
        with self._lock:
            return list(self._by_user.get(openid, ()))

    def since(self, mark: int) -> list[tuple[float, dict[str, Any]]]:
        """(arrival, message) of every message from index `mark` on."""
        with self._lock:
            return list(zip(self.times[mark:], self[mark:], strict=True))


# --- the servers -----------------------------------------------------------------------------------------


class Postgres:
    """A PostgreSQL cluster of its own in a temporary folder owned by `postgres`, on a free loopback port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wuyou-faults-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.restarts = 0

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=self.dir)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stdout[-1500:]}"
                               f"{done.stderr[-1500:]}")
        return done.stdout

    def init(self) -> None:
        """initdb (without fsync: the cluster's creation needs no durability; the server runs with fsync=on)."""
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-locale", "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on "
                   f"-c max_connections=300 -c shared_buffers=64MB")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", options, "start")

    def crash(self) -> None:
        """Stop as a crash does: no checkpoint, every connection cut; the next start replays the WAL."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        """An immediate stop, then start again (crash recovery)."""
        self.crash()
        self.start()
        self.restarts += 1

    def create_database(self) -> None:
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        finally:
            admin.dispose()

    def close(self) -> None:
        """Stop the server (whatever state it is in) and delete its folder."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            try:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                _kill_pid_file(pid_file)
        shutil.rmtree(self.dir, ignore_errors=True)


def _kill_pid_file(pid_file: Path) -> None:
    """The last resort when pg_ctl cannot stop the postmaster: SIGKILL the pid it wrote."""
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


class Redis:
    """A Redis without persistence, as the desk's machines run it: a restart loses everything in it."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.dir = home / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = home / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.dir)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on {self.port}; see {self.log}")

    def crash(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        """SIGKILL, then start again on the same port: empty."""
        self.crash()
        self.start()
        self.restarts += 1

    def close(self) -> None:
        self.crash()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)


class Service:
    """One desk process (`wuyou serve --port P` or `wuyou worker`) in a session of its own, logging to a file;
    killed with SIGKILL to its whole process group, as a crash does."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path,
                 ready: Callable[[Service], bool], port: int | None = None) -> None:
        self.name, self.args, self.env, self.log, self.port = name, args, env, log, port
        self._ready = ready
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, *, timeout: float = 60) -> None:
        with self.log.open("ab") as log:
            log.write(f"\n==== {self.name} started at {time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "wuyou.adapters.cli", *self.args], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log}")
            if self._ready(self):
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, nothing flushed or committed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.kills += 1
        self.proc.wait(10)


def _api_ready(port: int) -> Callable[[Service], bool]:
    def ready(_: Service) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def _worker_ready(service: Service) -> bool:
    """The worker prints one line once it is wired and its loop is about to run."""
    try:
        return "worker running" in service.log.read_text(encoding="utf-8", errors="replace").rsplit("====", 1)[-1]
    except OSError:
        return False


# --- the org -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """One simulated branch employee: the same person on the HTTP channel and on WeChat."""

    id: str
    branch: str

    @property
    def openid(self) -> str:
        return f"o{self.id}"


def staff_id(i: int) -> str:
    return f"fx{i:05d}"


def engineer_openid(person_id: str) -> str:
    return f"o-{person_id}"


def write_org(path: Path, *, staff: int, branches: int) -> list[Staff]:
    """The demo org (categories, teams, routing, SLA) with `branches` more branches over its regions and `staff`
    reporters among them, each with an `http` and a `wechat` identity; the desk's own people (engineers, leads)
    get WeChat identities too, so that their notifications go through the outbox to the fake WeChat API."""
    doc = yaml.safe_load((ROOT / "examples" / "org.yaml").read_text(encoding="utf-8"))
    regions = sorted({b["region"] for b in doc["branches"]})
    for i in range(branches):
        doc["branches"].append({"code": f"FX-{i:03d}", "name": f"故障演练网点{i:03d}",
                                "region": regions[i % len(regions)]})
    for person in doc["people"]:
        if person["role"] != "reporter":
            person["identities"] = {**person.get("identities", {}), "wechat": engineer_openid(person["id"])}
    people = [Staff(staff_id(i), f"FX-{i % branches:03d}") for i in range(staff)]
    for i, member in enumerate(people):
        doc["people"].append({"id": member.id, "name": f"演练员工{i:05d}", "role": "reporter", "branch": member.branch,
                              "identities": {"http": member.id, "wechat": member.openid}})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return people


# --- the cluster ---------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    """Everything the fault tests run against; `start()` builds it, `close()` takes it all down."""

    home: Path
    staff_count: int = 1200
    branch_count: int = 60
    api_count: int = 2
    worker_count: int = 2
    reply_deadline: float | None = None  # the WeChat account's wait for a passive reply (the desk's default: 4.5 s)
    wechat_latency: float = 0.02  # how long the fake WeChat API takes to say "ok" once it has taken a message
    database: str = "postgresql"  # or "sqlite": one database file the processes take turns writing
    pg: Postgres | None = None
    redis: Redis | None = None
    fake: FakeWeChat | None = None
    sends: TimedSends = field(default_factory=TimedSends)
    apis: list[Service] = field(default_factory=list)
    workers: list[Service] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    _next_staff: int = 0
    _db: Engine | None = None

    # -- building ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Servers, schema, org and KB through the real command line, then the desk's processes."""
        atexit.register(self.close)  # a second net under the fixtures' finally: never leave processes behind
        self._start_servers()
        self.env = self._environment()
        org = self.home / "org.yaml"
        self.staff = write_org(org, staff=self.staff_count, branches=self.branch_count)
        for step in (["db", "upgrade"], ["org", "import", str(org)], ["kb", "import", str(ROOT / "examples" / "kb")]):
            self.cli(*step)
        self._start_desk()

    def _start_servers(self) -> None:
        """PostgreSQL with an empty database (unless on SQLite), Redis, the fake WeChat API."""
        if self.database == "postgresql":
            self.pg = Postgres()
            self.pg.init()
            self.pg.start()
            self.pg.create_database()
        self.redis = Redis(self.home)
        self.redis.start()
        self.fake = FakeWeChat()
        self.sends.latency = self.wechat_latency
        self.fake.sent = self.sends  # the fake appends to whatever list this is: keep arrival times too

    def _start_desk(self) -> None:
        """The API processes (one uvicorn process each, no delivery loop inside) and the workers."""
        for i in range(self.api_count):
            port = free_port()
            self.apis.append(Service(f"api{i}", ["serve", "--port", str(port)], self.env,
                                     self.home / f"api{i}.log", _api_ready(port), port))
        for i in range(self.worker_count):
            self.workers.append(Service(f"worker{i}", ["worker"], self.env, self.home / f"worker{i}.log",
                                        _worker_ready))
        for service in [*self.apis, *self.workers]:
            service.start()

    def _environment(self) -> dict[str, str]:
        assert self.redis is not None and self.fake is not None
        channels = self.home / "channels.yaml"
        deadline = "" if self.reply_deadline is None else f", reply_deadline: {self.reply_deadline}"
        channels.write_text(f"wechat:\n  {ACCOUNT}: {{app_id: {APP_ID}, app_secret: s3cret, token: {TOKEN}, "
                            f"aes_key: {AES_KEY}, api_base: '{self.fake.url}'{deadline}}}\n", encoding="utf-8")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("WUYOU_")}
        return {**inherited, "PYTHONUNBUFFERED": "1",
                "WUYOU_DATABASE_URL": self.database_url, "WUYOU_REDIS_URL": self.redis.url,
                "WUYOU_CHANNELS_FILE": str(channels), "WUYOU_MEDIA_DIR": str(self.home / "media"),
                "WUYOU_INPROCESS_WORKER": "false", "WUYOU_WORKER_POLL_SECONDS": "0.2", **QUIET_LIMITS}

    def cli(self, *args: str) -> str:
        """Run a `wuyou` command against the cluster's database, as an operator would."""
        done = subprocess.run([sys.executable, "-m", "wuyou.adapters.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"wuyou {' '.join(args)} failed ({done.returncode}): {done.stderr[-3000:]}")
        return done.stdout

    def close(self) -> None:
        """Kill every process of the cluster and remove the database's folder; safe to call twice."""
        for service in [*self.apis, *self.workers]:
            service.kill()
        if self._db is not None:
            self._db.dispose()
            self._db = None
        if self.fake is not None:
            self.fake.close()
            self.fake = None
        if self.redis is not None:
            self.redis.close()
        if self.pg is not None:
            self.pg.close()
            self.pg = None
        atexit.unregister(self.close)

    # -- what tests use ---------------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        if self.pg is not None:
            return self.pg.url()
        return f"sqlite:///{self.home / 'wuyou.db'}"

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{service.port}" for service in self.apis]

    def take_staff(self, n: int) -> list[Staff]:
        """`n` people who have never written to the desk (each test and each storm gets its own)."""
        if self._next_staff + n > len(self.staff):
            raise RuntimeError(f"the org has {len(self.staff)} staff; {self._next_staff + n} asked for")
        taken = self.staff[self._next_staff:self._next_staff + n]
        self._next_staff += n
        return taken

    def db(self) -> Engine:
        """An engine on the cluster's database, for the verification's queries."""
        if self._db is None:
            self._db = create_engine(self.database_url, pool_pre_ping=True)
        return self._db

    def ensure_running(self) -> None:
        """Start again whatever process is down (after a test that crashed one)."""
        for service in [*self.apis, *self.workers]:
            if not service.alive:
                service.start()

    # -- faults -------------------------------------------------------------------------------------------

    def crash(self, kind: str) -> None:
        """Take one part down as a crash does: `api` / `worker` (the first of each, SIGKILL), `redis` (SIGKILL:
        its contents are gone), `postgres` (immediate stop: connections cut, no checkpoint)."""
        assert self.redis is not None and self.pg is not None
        {"api": self.apis[0].kill, "worker": self.workers[0].kill, "redis": self.redis.crash,
         "postgres": self.pg.crash}[kind]()

    def recover(self, kind: str) -> None:
        """Start again what `crash(kind)` took down (PostgreSQL replays its WAL; Redis starts empty)."""
        assert self.redis is not None and self.pg is not None
        {"api": self.apis[0].start, "worker": self.workers[0].start, "redis": self.redis.start,
         "postgres": self.pg.start}[kind]()
        if kind == "redis":
            self.redis.restarts += 1
        elif kind == "postgres":
            self.pg.restarts += 1


@contextmanager
def running(home: Path | None = None, **options: Any) -> Iterator[Cluster]:
    """A started cluster, taken down whatever happens (the caller checks `missing()` first)."""
    own = home is None
    folder = home if home is not None else Path(tempfile.mkdtemp(prefix="wuyou-faults-"))
    cluster = Cluster(folder, **options)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
        if own and not os.environ.get("WUYOU_FAULTS_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)
