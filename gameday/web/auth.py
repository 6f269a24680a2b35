"""Who is asking: tokens, sessions, and the CSRF and host rules of the control room.

Security model (also in the README, "Control room and responders"):

* **Every request needs a token** except the two that serve no drill data: ``/join`` (the
  page that exchanges a join link for a session) and ``/static/*`` (the page's own script
  and style). One facilitator token per drill; one token per responder, revocable.
  Tokens are ``secrets.token_urlsafe(32)``, kept in memory only as SHA-256 digests; the
  only copy ever written is the facilitator's token file (mode 0600) for ``gameday act``
  on the same machine. Tokens never reach the journal, the reports or a log line.
* **Where a token comes from**: ``Authorization: Bearer TOKEN`` or ``X-Gameday-Token: TOKEN``
  (the CLI, scripts), or the ``gameday_session`` cookie (the browser: HttpOnly,
  SameSite=Strict, set by exchanging a join link).
* **CSRF**: a request that changes anything (POST, PUT, PATCH, DELETE) authenticated by the
  cookie must also carry ``X-Requested-With: gameday`` (a custom header, which a
  cross-site form cannot send and a cross-site ``fetch`` cannot send without a CORS
  preflight we never grant) and, when the browser sends ``Origin``, it must be this
  server's own origin. A request authenticated by a header is not CSRF-able (a browser
  never adds that header by itself). Bodies must be JSON (415 otherwise).
* **Host check** (DNS rebinding): on a loopback bind only loopback host names are served.
* **Names** people are invited, assigned or act as follow the one rule of
  :mod:`gameday.model.names` (checked by the room, :mod:`gameday.web.room`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
from dataclasses import dataclass

COOKIE = "gameday_session"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "gameday"
FACILITATOR = "facilitator"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    """The caller: the facilitator, or one responder (by name)."""

    name: str
    facilitator: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class TokenRegistry:
    """Tokens of one drill, held as digests. Thread-safe. The one piece of control-room memory
    besides the journal (security material, never journaled)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_digest: dict[str, Principal] = {}
        self._digest_of: dict[str, str] = {}  # person -> digest of their current token
        self._joined: set[str] = set()  # digests already announced (ResponderJoined)

    def issue_facilitator(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_digest[_digest(token)] = Principal(FACILITATOR, facilitator=True)
        return token

    def issue(self, person: str) -> str:
        """A new join token for ``person``; their previous one (if any) stops working."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            old = self._digest_of.pop(person, None)
            if old:
                self._by_digest.pop(old, None)
            digest = _digest(token)
            self._by_digest[digest] = Principal(person)
            self._digest_of[person] = digest
        return token

    def revoke(self, person: str) -> bool:
        with self._lock:
            digest = self._digest_of.pop(person, None)
            if digest is None:
                return False
            self._by_digest.pop(digest, None)
            return True

    def lookup(self, token: str | None) -> Principal | None:
        if not token or len(token) > 256:
            return None
        with self._lock:
            return self._by_digest.get(_digest(token))

    def first_use(self, token: str) -> bool:
        """True the first time a responder's token is used (to journal ResponderJoined once per link)."""
        digest = _digest(token)
        with self._lock:
            if digest in self._joined or digest not in self._by_digest:
                return False
            self._joined.add(digest)
            return True

    def people(self) -> list[str]:
        with self._lock:
            return sorted(self._digest_of)

    def has(self, person: str) -> bool:
        with self._lock:
            return person in self._digest_of


def token_from_headers(headers, cookies) -> tuple[str | None, str]:
    """(token, how): how is ``header`` or ``cookie`` (``''`` without a token)."""
    auth = headers.get("authorization") or ""
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip(), "header"
    direct = (headers.get("x-gameday-token") or "").strip()
    if direct:
        return direct, "header"
    cookie = cookies.get(COOKIE)
    if cookie:
        return cookie, "cookie"
    return None, ""


def csrf_problem(method: str, how: str, headers, own_origins: set[str]) -> str | None:
    """Why an unsafe cookie-authenticated request is refused (None: fine)."""
    if method not in UNSAFE_METHODS or how != "cookie":
        return None
    if headers.get(CSRF_HEADER, "").lower() != CSRF_VALUE:
        return f"requests that change the drill need the header X-Requested-With: {CSRF_VALUE} (or a token header)"
    origin = headers.get("origin")
    if origin is not None and origin not in own_origins:
        return "cross-origin request refused"
    return None


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(host_header: str | None, bind_host: str) -> bool:
    """On a loopback bind, serve only loopback host names (a rebinding attacker's name is refused)."""
    if not is_loopback(bind_host):
        return True
    if not host_header:
        return False
    if host_header.startswith("["):
        name = host_header[1 : host_header.find("]")]
    else:
        name = host_header.rsplit(":", 1)[0]
    return is_loopback(name)

