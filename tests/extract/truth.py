"""Compare the raw tables with the sandbox's ground truth, field by field."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb


def _us(value: str | None) -> int | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return int(dt.timestamp() * 1_000_000)


def _get(obj: dict, path: str):
    for part in path.split("__"):
        if obj is None:
            return None
        obj = obj.get(part)
    return obj


# table -> (columns compared, which of them are timestamps)
FIELDS = {
    "event_types": (["name", "active", "kind", "slug", "updated_at"], {"updated_at"}),
    "organization_memberships": (["role", "user__uri", "organization"], set()),
    "scheduled_events": (
        ["status", "start_time", "end_time", "event_type", "updated_at", "invitees_counter__total",
         "invitees_counter__active", "cancellation__canceler_type"],
        {"start_time", "end_time", "updated_at"},
    ),
    "invitees": (
        ["event", "email", "status", "rescheduled", "old_invitee", "new_invitee", "no_show__uri",
         "no_show__created_at", "cancellation__canceler_type", "cancellation__reason", "updated_at",
         "routing_form_submission", "tracking__utm_source", "timezone"],
        {"no_show__created_at", "updated_at"},
    ),
    "routing_forms": (["name", "status"], set()),
    "routing_form_submissions": (["routing_form", "submitter", "created_at"], {"created_at"}),
}


def expected(truth: dict, table: str) -> dict[str, tuple]:
    cols, stamps = FIELDS[table]
    out = {}
    for row in truth[table]:
        values = []
        for c in cols:
            v = _get(row, c)
            values.append(_us(v) if c in stamps else (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v))
        out[row["uri"]] = tuple(values)
    return out


def actual(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple]:
    cols, stamps = FIELDS[table]
    existing = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema='calendly_raw' and table_name=?",
        [table]).fetchall()}
    select = []
    for c in cols:
        if c not in existing:
            select.append("null")
        elif c in stamps:
            select.append(f"epoch_us({c})")
        elif c.startswith("invitees_counter"):
            select.append(f"cast({c} as double)")
        else:
            select.append(c)
    rows = con.execute(f"select uri, {', '.join(select)} from calendly_raw.{table}").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def question_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute("""
        select i.uri, count(q._dlt_id) from calendly_raw.invitees i
        left join calendly_raw.invitees__questions_and_answers q on q._dlt_parent_id = i._dlt_id
        group by 1""").fetchall()
    return dict(rows)


def differences(warehouse: Path, truth: dict) -> list[str]:
    """Every way the warehouse differs from the truth (empty = exact)."""
    problems: list[str] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in FIELDS:
            want, got = expected(truth, table), actual(con, table)
            n_rows = con.execute(f"select count(*) from calendly_raw.{table}").fetchone()[0]
            if n_rows != len(got):
                problems.append(f"{table}: {n_rows - len(got)} duplicate rows")
            missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
            if missing:
                problems.append(f"{table}: {len(missing)} missing, e.g. {sorted(missing)[0]}")
            if extra:
                problems.append(f"{table}: {len(extra)} unexpected, e.g. {sorted(extra)[0]}")
            wrong = [u for u in want.keys() & got.keys() if want[u] != got[u]]
            if wrong:
                u = sorted(wrong)[0]
                problems.append(f"{table}: {len(wrong)} differ, e.g. {u}: want {want[u]} got {got[u]}")
        want_q = {i["uri"]: len(i["questions_and_answers"]) for i in truth["invitees"]}
        got_q = question_counts(con)
        wrong_q = [u for u in want_q if got_q.get(u) != want_q[u]]
        if wrong_q:
            problems.append(f"invitees__questions_and_answers: {len(wrong_q)} invitees with wrong answers")
    return problems
