"""The peer: tap-calendly piped into target-duckdb, run the way Singer's docs say, in its own venv.

Its dependencies (singer-sdk, requests 2.25, DuckDB 2.x) conflict with ours, so the peer gets a
virtualenv of its own, built on first use from the pinned `requirements.txt`. This module runs in
our venv and only starts processes in that one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .ground_truth import Output

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
TAP = HERE / "tap_calendly_main.py"
DUMP = HERE / "dump_duckdb.py"
SCHEMA = "tap_calendly"
# the tap's stream names -> the truth's table names
STREAM_TABLES = {"events": "scheduled_events", "event_invitees": "invitees", "event_types": "event_types",
                 "organization_memberships": "organization_memberships"}
# singer-sdk's warning when it drops fields the API sent but the tap's schema lacks
DROPPED = re.compile(r"Properties \(([^)]*)\) were present in the '(\w+)' stream but not found in catalog schema")


def ensure_venv(venv: Path = VENV, requirements: Path = REQUIREMENTS) -> Path:
    """The peer's python, (re)built when the pinned requirements changed since it was made."""
    python, stamp = venv / "bin" / "python", venv / ".requirements"
    wanted = requirements.read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"creating the peer venv in {venv} (pip install -r {requirements.name})", file=sys.stderr)
    # Our interpreter is a venv's; `-m venv` builds on its base interpreter (the same Python 3.11).
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(requirements)], check=True)
    stamp.write_text(wanted)
    return python


@dataclass
class PeerRun:
    seconds: float
    records: dict[str, int]                 # RECORD messages per stream
    emitted: dict[str, dict[str, dict]]     # stream -> uri -> last record the tap sent
    repeated: dict[str, int]                # records whose uri the tap had already sent in this run
    tap_rc: int
    target_rc: int
    error: str | None                       # the exception a failing process ended with
    state: dict | None                      # the last state target-duckdb emitted (the next run's --state)
    dropped_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Tally:
    """The tap's RECORD messages: counts, and the last record per uri of each stream."""

    records: dict[str, int] = field(default_factory=dict)
    emitted: dict[str, dict[str, dict]] = field(default_factory=dict)
    repeated: dict[str, int] = field(default_factory=dict)

    def add(self, line: bytes) -> None:
        if line.startswith(b'{"type":"STATE"'):  # they grow with every event: not worth parsing
            return
        msg = json.loads(line)
        if msg.get("type") != "RECORD":
            return
        stream, record = msg["stream"], msg["record"]
        self.records[stream] = self.records.get(stream, 0) + 1
        seen = self.emitted.setdefault(stream, {})
        if record.get("uri") in seen:
            self.repeated[stream] = self.repeated.get(stream, 0) + 1
        seen[record.get("uri")] = record


def _pipe(tap: subprocess.Popen, target: subprocess.Popen, tally: Tally) -> bytes | None:
    """Copy the tap's stdout to the target's stdin, tallying; returns the target's last stdout line
    (its state). The target prints its whole state at every flush, so a thread drains and keeps the last."""
    last: list[bytes] = []

    def drain():
        for line in target.stdout:
            last[:] = [line]
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    target_open = True
    for line in tap.stdout:
        if target_open:
            try:
                target.stdin.write(line)
            except BrokenPipeError:  # the target died: keep counting, its exit code says why
                target_open = False
        tally.add(line)
    if target_open:
        try:
            target.stdin.close()
        except BrokenPipeError:
            pass
    reader.join()
    return last[0] if last else None


def _last_error(log: Path) -> str | None:
    """The `SomeError: message` line a Python traceback ends with."""
    lines = [l for l in log.read_text(errors="replace").splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", l)]
    # singer-sdk appends the body and headers after ", content is": the status line says enough
    return lines[-1].split(", content is")[0][:300] if lines else None


class SingerPeer:
    def __init__(self, python: Path, workdir: Path, api_url: str, token: str):
        self.python, self.dir = python, workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.tap_config = workdir / "tap_config.json"
        self.tap_config.write_text(json.dumps({"calendly_api_token": token, "api_url": api_url}))
        self.database = workdir / "peer.duckdb"
        self.target_config = workdir / "target_config.json"
        self.target_config.write_text(json.dumps({"path": str(self.database), "default_target_schema": SCHEMA}))
        self.catalog = workdir / "catalog.json"

    def startup_seconds(self) -> dict[str, float]:
        """Interpreter start + imports of each process, with no request made (`--about`, `--help`)."""
        out = {}
        for name, cmd in (("tap", [str(self.python), str(TAP), "--about"]),
                          ("target", [str(self.python.parent / "target-duckdb"), "--help"])):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            out[name] = time.perf_counter() - t0
        return out

    def discover(self, deselect: tuple[str, ...] = ()) -> list[str]:
        """Singer discovery, then select every stream and field it offers but `deselect`. Returns the
        selected streams."""
        found = subprocess.run([str(self.python), str(TAP), "--config", str(self.tap_config), "--discover"],
                               check=True, capture_output=True, text=True)
        catalog = json.loads(found.stdout)
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                entry["metadata"]["selected"] = stream["tap_stream_id"] not in deselect
        self.catalog.write_text(json.dumps(catalog, indent=1))
        return sorted(s["tap_stream_id"] for s in catalog["streams"] if s["tap_stream_id"] not in deselect)

    def tap_alone(self) -> float:
        """Seconds of the tap with its output discarded: its own share of a `tap | target` run."""
        t0 = time.perf_counter()
        subprocess.run([str(self.python), str(TAP), "--config", str(self.tap_config), "--catalog", str(self.catalog)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    def run(self, name: str, state: dict | None = None) -> PeerRun:
        """`tap --config --catalog [--state] | target-duckdb --config`, as one timed pipeline.
        The pipe goes through this process to count the messages; it adds a JSON parse per record."""
        slug = name.replace(" ", "_")
        tap_cmd = [str(self.python), str(TAP), "--config", str(self.tap_config), "--catalog", str(self.catalog)]
        if state is not None:
            state_file = self.dir / f"state_in_{slug}.json"
            state_file.write_text(json.dumps(state))
            tap_cmd += ["--state", str(state_file)]
        tap_log, target_log = self.dir / f"tap_{slug}.log", self.dir / f"target_{slug}.log"
        tally = Tally()
        t0 = time.perf_counter()
        with open(tap_log, "wb") as tap_err, open(target_log, "wb") as target_err:
            tap = subprocess.Popen(tap_cmd, stdout=subprocess.PIPE, stderr=tap_err)
            target = subprocess.Popen([str(self.python.parent / "target-duckdb"), "--config", str(self.target_config)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=target_err)
            last_state = _pipe(tap, target, tally)
            tap_rc, target_rc = tap.wait(), target.wait()
        seconds = time.perf_counter() - t0

        error = None
        if tap_rc:
            error = f"tap exit {tap_rc}: {_last_error(tap_log)}"
        if target_rc:
            error = (error + "; " if error else "") + f"target exit {target_rc}: {_last_error(target_log)}"
        log = tap_log.read_text(errors="replace")
        dropped = {m.group(2): m.group(1).replace("'", "").rstrip(",") for m in DROPPED.finditer(log)}  # ("a",) -> a
        return PeerRun(seconds=seconds, records=tally.records, emitted=tally.emitted, repeated=tally.repeated,
                       tap_rc=tap_rc, target_rc=target_rc, error=error,
                       state=json.loads(last_state) if last_state else state, dropped_fields=dropped)

    def output(self) -> Output:
        """What target-duckdb left in its DuckDB file."""
        if not self.database.exists():
            return Output(tables={})
        dumped = json.loads(subprocess.run([str(self.python), str(DUMP), str(self.database)],
                                           check=True, capture_output=True, text=True).stdout)
        tables, extra = {}, {}
        for qualified, table in dumped.items():
            stream = qualified.split(".", 1)[1]
            if stream in STREAM_TABLES:
                tables[STREAM_TABLES[stream]] = table["rows"]
            else:
                extra[stream] = len(table["rows"])
        return Output(tables=tables, extra_tables=extra)


def emitted_output(*runs: PeerRun) -> Output:
    """The records the tap sent over its runs, the last per uri winning: what a target that upserts
    by the key the tap declares (uri) should have ended with."""
    merged: dict[str, dict[str, dict]] = {}
    for run in runs:
        for stream, rows in run.emitted.items():
            merged.setdefault(stream, {}).update(rows)
    return Output(tables={STREAM_TABLES[s]: list(rows.values()) for s, rows in merged.items() if s in STREAM_TABLES},
                  extra_tables={s: len(rows) for s, rows in merged.items() if s not in STREAM_TABLES})
