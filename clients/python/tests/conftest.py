"""The SDK's tests run against the real parlor binary (built by ``cargo build``/``cargo test``),
started on a random port with its own data directory; Django against the small platform in
``tests/marketplace``. Every wait has a timeout.

The binary: ``$PARLOR_BIN``, else ``$CARGO_TARGET_DIR/debug/parlor``, else ``target/debug/parlor``
at the repository's root.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path
import json
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from parlor import Client

REPO = Path(__file__).resolve().parents[3]
API_KEY = "sdk-test-api-key-0123456789abcdef0123456789"
JWT_SECRET = "sdk-test-host-secret-0123456789abcdef"
WEBHOOK_SECRET = "sdk-test-webhook-secret-0123456789"
#: How long any one wait may take.
WAIT = 20.0


def parlor_bin() -> Path:
    candidates = [os.environ.get("PARLOR_BIN")]
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(os.path.join(os.environ["CARGO_TARGET_DIR"], "debug", "parlor"))
    candidates.append(str(REPO / "target" / "debug" / "parlor"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise RuntimeError(f"no parlor binary (tried {[c for c in candidates if c]}): run `cargo build` first")


class Parlor:
    """A parlor process on 127.0.0.1 with a random port, its log kept in memory."""

    def __init__(self, env: Dict[str, str], args: Sequence[str] = ()) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="parlor-sdk-")
        # Only the settings given here: a developer's shell (or the Django platform under test)
        # may hold PARLOR_* variables of its own.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PARLOR_")}
        # The tests' defaults, unless a config file (in `args`) says everything itself.
        defaults = {} if args else {
            "PARLOR_API_KEY": API_KEY,
            "PARLOR_WEBHOOKS__ALLOW_PRIVATE_TARGETS": "true",
            "PARLOR_WEBHOOKS__RETRY_INITIAL_MS": "100",
            "PARLOR_WEBHOOKS__RETRY_MAX_MS": "500",
        }
        full_env = {**inherited, "PARLOR_LOG": "info", **defaults, **env}
        self.log: List[str] = []
        self._process = subprocess.Popen(
            [str(parlor_bin()), "serve", "--bind", "127.0.0.1:0", "--data-dir", self._dir.name, *args],
            env=full_env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        found: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._drain, args=(found,), daemon=True).start()
        try:
            address = found.get(timeout=WAIT)
        except queue.Empty:
            self.stop()
            raise RuntimeError("parlor did not start listening:\n" + "\n".join(self.log)) from None
        self.url = f"http://{address}"
        self.data_dir = Path(self._dir.name)

    def _drain(self, found: "queue.Queue[str]") -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.log.append(line.rstrip())
            match = re.search(r"addr=(\S+)", line)
            if match and "listening" in line:
                found.put(match.group(1))

    def client(self, api_key: str = API_KEY) -> Client:
        return Client(self.url, api_key, timeout=WAIT)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=WAIT)
        self._dir.cleanup()


@pytest.fixture(scope="session")
def start_parlor() -> Iterator[Callable[..., Parlor]]:
    """Starts parlors with extra arguments and ``PARLOR_*`` settings; all stop at the end of the session."""
    started: List[Parlor] = []

    def start(*args: str, **env: str) -> Parlor:
        server = Parlor(env, args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def parlor(start_parlor: Callable[..., Parlor]) -> Parlor:
    """The shared parlor: host-app mode with :data:`JWT_SECRET`, the server API with :data:`API_KEY`."""
    return start_parlor(PARLOR_JWT_SECRET=JWT_SECRET)


@pytest.fixture(scope="session")
def platform(parlor: Parlor, tmp_path_factory: pytest.TempPathFactory) -> Parlor:
    """The Django platform of ``tests/marketplace``, configured for :func:`parlor` and migrated."""
    import django
    from django.core.management import call_command

    os.environ.update(
        PARLOR_URL=parlor.url,
        PARLOR_API_KEY=API_KEY,
        PARLOR_JWT_SECRET=JWT_SECRET,
        PARLOR_WEBHOOK_SECRET=WEBHOOK_SECRET,
        DJANGO_DB_PATH=str(tmp_path_factory.mktemp("platform") / "db.sqlite3"),
        DJANGO_SETTINGS_MODULE="tests.marketplace.settings",
    )
    django.setup()
    call_command("migrate", verbosity=0)
    return parlor


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def platform_url(platform: Parlor) -> Iterator[str]:
    """The platform served over HTTP on 127.0.0.1, as parlor's webhooks and a browser reach it."""
    from django.core.handlers.wsgi import WSGIHandler

    server = make_server("127.0.0.1", 0, WSGIHandler(), server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def make_user(first: str, last: str) -> Any:
    from django.contrib.auth import get_user_model

    username = unique(first.lower())
    return get_user_model().objects.create_user(username, password="correct horse", first_name=first, last_name=last)


def eventually(check: Callable[[], bool], what: str, within: float = WAIT) -> None:
    """Waits until ``check()`` holds, polling; fails saying ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {within} s: {what}")
        time.sleep(0.05)


T = TypeVar("T")


def wait_for(items: "queue.Queue[T]", what: str) -> T:
    try:
        return items.get(timeout=WAIT)
    except queue.Empty:
        raise AssertionError(f"nothing arrived within {WAIT} s: {what}") from None


def unique(prefix: str) -> str:
    """An id no other test uses on the shared server."""
    return f"{prefix}-{time.monotonic_ns()}"


def as_user(server: Parlor, token: str, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Tuple[int, Any]:
    """A chat API call with a user's bearer token, as their browser would make it: (status, JSON)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None
