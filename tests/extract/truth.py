"""Compare the raw tables with the sandbox's ground truth, field by field, on either warehouse."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pipelines.warehouse import Connection, Warehouse, connect


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


def _stamp_us(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1_000_000)


def actual(con: Connection, table: str) -> dict[str, tuple]:
    cols, stamps = FIELDS[table]
    existing = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema='calendly_raw' and table_name=%s",
        [table]).fetchall()}
    select = [c if c in existing else "null" for c in cols]
    out = {}
    for uri, *values in con.execute(f"select uri, {', '.join(select)} from calendly_raw.{table}").fetchall():
        out[uri] = tuple(_stamp_us(v) if c in stamps else float(v) if c.startswith("invitees_counter") and v is not None
                         else v for c, v in zip(cols, values))
    return out


def question_counts(con: Connection) -> dict[str, int]:
    rows = con.execute("""
        select i.uri, count(q._dlt_id) from calendly_raw.invitees i
        left join calendly_raw.invitees__questions_and_answers q on q._dlt_parent_id = i._dlt_id
        group by 1""").fetchall()
    return dict(rows)


def differences(warehouse: Path | Warehouse, truth: dict) -> list[str]:
    """Every way the warehouse (a Warehouse, or a DuckDB file) differs from the truth (empty = exact)."""
    warehouse = Warehouse.of(warehouse)
    problems: list[str] = []
    with connect(warehouse, read_only=True) as con:
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
