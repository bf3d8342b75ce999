"""Who reads: each signed-in analyst's own Elasticsearch client, so Elasticsearch's roles decide what they see.

The explorer holds no credentials of its own for reading. At start it asks the cluster one
anonymous question: a cluster that answers it has security off (the embedded node) and is *open*:
every page reads without signing in, and the explorer listens on loopback only. A cluster that
answers 401 is *secured*: the analyst signs in with an Elasticsearch user and password or an API
key; the explorer checks them with Elasticsearch, keeps them in memory only (never in a cookie,
never on disk, never in a log), and gives the browser a random session token instead. Signing out
or an hour without a request forgets them.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field, replace

from elasticsearch import AuthenticationException

from adwatch.config import Settings
from adwatch.errors import UserError
from adwatch.store import Store, StoreUnavailable, connect, resolve_urls

IDLE_S = 3600.0
PAGE_RETRY_S = 15.0
"""A page gives up on an unanswering cluster after this long (commands wait longer: ADWATCH_ES_RETRY_SECONDS)."""


class SignInRefused(UserError):
    """Elasticsearch did not accept the credentials given on the sign-in form."""


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    api_key: str = ""

    def check(self) -> Credentials:
        """Stripped credentials; UserError when neither a user nor an API key is given (or both are)."""
        username, api_key = self.username.strip(), self.api_key.strip()
        if bool(username) == bool(api_key):
            raise SignInRefused("Give either your Elasticsearch user name and password, or an API key (not both).")
        return Credentials(username, self.password if username else "", api_key)


@dataclass
class Analyst:
    """One signed-in person (or, on an open cluster, everyone): their client and what they were shown."""

    store: Store
    name: str  # as Elasticsearch knows them; "" on an open cluster
    roles: tuple[str, ...] = ()
    last_seen: float = field(default_factory=time.monotonic)
    # Photos a page read with these credentials showed; serving them needs no second look-up.
    photos: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def saw_photos(self, sha256s) -> None:
        with self.lock:
            self.photos.update(sha256s)

    def was_shown(self, sha256: str) -> bool:
        with self.lock:
            return sha256 in self.photos


class Access:
    """The cluster the explorer reads, whether it is open, and the analysts signed in to it."""

    def __init__(self, settings: Settings, idle_s: float = IDLE_S) -> None:
        # Pages must not hang for a command's whole retry bound; the operator's own credentials are never used.
        self.settings = replace(settings, es_retry_s=min(settings.es_retry_s, PAGE_RETRY_S), es_api_key="",
                                es_username="", es_password="")
        self.url = ",".join(resolve_urls(self.settings))  # every node: a client fails over among them
        self.prefix = settings.index_prefix
        self.idle_s = idle_s
        self._sessions: dict[str, Analyst] = {}
        self._lock = threading.Lock()
        self.everyone: Analyst | None = None
        try:
            store = Store(connect(self.settings, self.url), self.prefix)
        except StoreUnavailable as exc:
            if not isinstance(exc.__cause__, AuthenticationException):
                raise
            return  # secured: each analyst signs in
        self.everyone = Analyst(store, "")

    @property
    def open(self) -> bool:
        """True when the cluster answers without credentials (security off): no sign-in, loopback only."""
        return self.everyone is not None

    def sign_in(self, credentials: Credentials) -> tuple[str, Analyst]:
        """Check the credentials with Elasticsearch; (session token, analyst). SignInRefused when it says no."""
        given = credentials.check()
        settings = replace(self.settings, es_username=given.username, es_password=given.password,
                           es_api_key=given.api_key)
        try:
            client = connect(settings, self.url)
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, AuthenticationException):
                raise SignInRefused("Elasticsearch did not accept these credentials; check them, or ask your "
                                    "administrator for a user or API key with the adwatch_analyst role.") from exc
            raise
        me = client.security.authenticate()
        analyst = Analyst(Store(client, self.prefix), me.get("username", given.username),
                          tuple(me.get("roles") or ()))
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = analyst
        return token, analyst

    def analyst(self, token: str | None) -> Analyst | None:
        """Who holds this session token (None when unknown or idle too long); on an open cluster, everyone."""
        if self.everyone is not None:
            return self.everyone
        now = time.monotonic()
        with self._lock:
            self._forget_idle(now)
            found = self._sessions.get(token or "")
            if found is not None:
                found.last_seen = now
            return found

    def sign_out(self, token: str | None) -> None:
        with self._lock:
            gone = self._sessions.pop(token or "", None)
        if gone is not None:
            gone.store.client.close()

    def _forget_idle(self, now: float) -> None:
        for token in [t for t, a in self._sessions.items() if now - a.last_seen > self.idle_s]:
            self._sessions.pop(token).store.client.close()


def check_listen_address(host: str, open_cluster: bool) -> None:
    """UserError when an open cluster would be served beyond this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError as exc:
        raise UserError(f"--host {host!r} is not an IP address; give one like 127.0.0.1.") from exc
    if open_cluster and not loopback:
        raise UserError(f"--host {host}: Elasticsearch answers without credentials (security off), so the explorer "
                        "serves only 127.0.0.1. Turn Elasticsearch security on (analysts then sign in with their "
                        "own credentials) to serve other machines.")
