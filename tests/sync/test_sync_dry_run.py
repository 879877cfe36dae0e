"""`calendly-elt sync --dry-run` checks BREVO_API_KEY (issue 15): one read-only `GET /account`, so a
missing or refused key fails the dry run with the real sync's one-line message, and a good key
still writes nothing to Brevo. Run as a real process, the way a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from .conftest import Stack

WRONG_KEY = "xkeysib-not-the-right-one-4711"


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], env=env, capture_output=True,
                          text=True, timeout=180)


def _env(stack: Stack, **overrides: str | None) -> dict:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("BREVO_", "CALENDLY_", "WAREHOUSE_"))}
    env = {**base, "WAREHOUSE_PATH": str(stack.settings.warehouse_path), "BREVO_API_URL": stack.brevo.url,
           "BREVO_API_KEY": stack.brevo_account.api_key, "CALENDLY_API_URL": stack.calendly.url,
           "CALENDLY_ACCESS_TOKEN": stack.settings.calendly_token, **overrides}
    return {k: v for k, v in env.items() if v is not None}


def _one_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("calendly-elt sync: ")
    return done.stderr


def test_dry_run_checks_the_key_and_fails_like_the_real_sync(tmp_path):
    stack = Stack(tmp_path, events=80)
    try:
        stack.refresh()

        # A wrong key: refused on the one read-only call, in the real sync's words, the key not shown.
        wrong = _cli("sync", "--dry-run", env=_env(stack, BREVO_API_KEY=WRONG_KEY))
        line = _one_line(wrong)
        assert "Brevo rejected the key (401" in line and "set BREVO_API_KEY" in line
        assert WRONG_KEY not in wrong.stdout + wrong.stderr and wrong.stdout == ""
        assert [(e["method"], e["path"], e["status"]) for e in stack.brevo.request_log] == [("GET", "/account", 401)]

        # No key at all: the real sync's message, and Brevo hears nothing.
        missing = _cli("sync", "--dry-run", env=_env(stack, BREVO_API_KEY=None))
        assert "BREVO_API_KEY is not set" in _one_line(missing)
        assert len(stack.brevo.request_log) == 1

        # The right key: exit 0, the plan printed, and nothing written to Brevo.
        stack.brevo.reset_stats()
        right = _cli("sync", "--dry-run", env=_env(stack))
        assert right.returncode == 0, right.stderr
        assert "sync (dry run): Brevo accepts the key; would create " in right.stdout
        assert [(e["method"], e["path"], e["status"]) for e in stack.brevo.request_log] == [("GET", "/account", 200)]
        assert stack.brevo_account.contacts() == {} and stack.brevo_account.lists() == {}
        assert stack.brevo.stats()["imported_rows"] == 0

        # The real sync with the wrong key fails with the very same line (on its first call).
        real = _cli("sync", env=_env(stack, BREVO_API_KEY=WRONG_KEY))
        assert _one_line(real) == line
        assert stack.brevo_account.contacts() == {}

        # Brevo unreachable (nothing listens on the port): named, and within 10 s, not after a minute of retries.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{s.getsockname()[1]}/v3"
        for args in (["sync", "--dry-run"], ["sync"]):
            started = time.monotonic()
            unreachable = _cli(*args, env=_env(stack, BREVO_API_URL=closed))
            line = _one_line(unreachable)
            assert time.monotonic() - started < 10, line
            assert "BREVO_API_URL" in line and "connection refused" in line
    finally:
        stack.stop()
