"""The warehouse rows that name a person, in every table of every schema, and their removal.

Generic on purpose: a table added later (the sync's, a new raw child table) is covered without a line
here. A row names the person when one of its columns, cast to text and lower-cased, holds one of the
person's needles by the rule of address.py (the address as a whole address, not inside joann@… or
…com.au), or `/invitees/<uuid>` of one of their invitees (how `submitter`, `invitee_uri`, a transition
key or a no-show refer to a booking). What happens to it (`erase`): the person's own rows go, dlt's with
all their descendants; a dlt child row that mentions them goes alone (what dlt's merge would do to it);
in any other row the columns that hold the address are cleared – whether they hold it alone (someone
else's `tracking__utm_source`) or inside a longer text.

Left alone: the catalogs, views (they show the tables), dlt's own bookkeeping (`_dlt_*`: its state is
compressed and is checked by verify.py instead) and the `erasure` schema (hashes, never addresses).
The same SQL runs on DuckDB and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..warehouse import Connection
from .address import is_identity, pattern, prefilter
from .audit import SCHEMA as ERASURE_SCHEMA

RAW_SCHEMAS = ("calendly_raw", "calendly_raw_staging")  # dlt's dataset and its merge scratch space
# Types whose text cannot hold an address; everything else (text, JSON, lists, structs) is searched.
_NOT_TEXT = ("bigint", "integer", "int", "smallint", "tinyint", "hugeint", "ubigint", "uinteger", "usmallint",
             "utinyint", "uhugeint", "double", "real", "float", "decimal", "numeric", "boolean", "date", "time",
             "timestamp", "interval", "uuid", "blob", "bytea", "oid")
_CHUNK = 500
CLEARED = " (cleared)"  # the count of rows whose mentions were set to null, beside the table's name


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[str, ...]
    text_columns: tuple[str, ...]
    required: frozenset[str] = frozenset()  # NOT NULL columns

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.name)}"

    @property
    def dlt_rows(self) -> bool:
        return "_dlt_id" in self.columns

    @property
    def bookkeeping(self) -> bool:
        return self.name.startswith("_dlt_") or self.schema == ERASURE_SCHEMA

    def haystack(self) -> str:
        """Every text column of a row in one lower-cased string (a space between: no needle has one)."""
        return "lower(" + " || ' ' || ".join(f"coalesce(cast({_quote(c)} as varchar), '')"
                                             for c in self.text_columns) + ")"

    def matching(self, needles: Sequence[str], kind: str) -> tuple[str, list[str]]:
        """A condition true for the rows holding any of `needles`, and its parameter: one regular
        expression of the needles (address.py's rule) over the row's text. One `position()` per needle built the
        text once per needle: 0.66 s against 0.07 s for 10 needles over 5,587 invitees (3,000 events)."""
        return _holds(kind, self.haystack(), needles)


def _is_text(data_type: str) -> bool:
    return not data_type.lower().startswith(_NOT_TEXT)


def tables(con: Connection) -> list[Table]:
    """Every base table of the warehouse (this database only), with its columns."""
    rows = con.execute("""
        select c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable
        from information_schema.columns c
        join information_schema.tables t
          on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema and t.table_name = c.table_name
        where t.table_type = 'BASE TABLE' and t.table_catalog = current_database()
        order by c.table_schema, c.table_name, c.ordinal_position""").fetchall()
    found: dict[tuple[str, str], tuple[list[str], list[str], set[str]]] = {}
    for schema, name, column, data_type, nullable in rows:
        if schema == "information_schema" or schema.startswith("pg_"):  # the catalogs
            continue
        columns, text, required = found.setdefault((schema, name), ([], [], set()))
        columns.append(column)
        if _is_text(str(data_type)):
            text.append(column)
        if str(nullable).upper() == "NO":
            required.add(column)
    return [Table(schema, name, tuple(cols), tuple(text), frozenset(required))
            for (schema, name), (cols, text, required) in found.items()]


def invitee_uris(con: Connection, email: str, all_tables: Iterable[Table]) -> list[str]:
    """The person's invitees (by `lower(email)`) in the raw tables and their staging copies."""
    uris: set[str] = set()
    for table in all_tables:
        if table.schema in RAW_SCHEMAS and table.name == "invitees" and {"uri", "email"} <= set(table.columns):
            uris.update(row[0] for row in con.execute(
                f"select uri from {table.sql} where lower(trim(email)) = %s", [email]).fetchall())
    return sorted(uris)


def spellings(con: Connection, email: str, all_tables: Iterable[Table]) -> list[str]:
    """How the raw invitees spell the address (`Ann@Example.com`), trimmed: what Calendly's deletion is
    asked for besides the lower-cased address."""
    found: set[str] = set()
    for table in all_tables:
        if table.schema in RAW_SCHEMAS and table.name == "invitees" and "email" in table.columns:
            found.update(row[0].strip() for row in con.execute(
                f"select distinct email from {table.sql} where lower(trim(email)) = %s", [email]).fetchall())
    return sorted(found - {email})


def needles_of(email: str, uris: Iterable[str]) -> list[str]:
    return [email] + sorted({"/invitees/" + uri.rstrip("/").rsplit("/", 1)[-1].lower() for uri in uris})


def _count(con: Connection, sql: str, params: Sequence) -> int:
    cursor = con.execute(sql, params)
    if con.kind == "duckdb":
        row = cursor.fetchone()
        return int(row[0]) if row else 0
    return max(cursor.rowcount, 0)


def _in_chunks(ids: Sequence[str]) -> Iterable[tuple[str, list[str]]]:
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        yield ", ".join(["%s"] * len(chunk)), chunk


def _delete_dlt_rows(con: Connection, table: Table, ids: Sequence[str], schema_tables: Sequence[Table],
                     counts: dict[str, int]) -> None:
    """Rows `ids` of `table` and all their descendants, parents' children before grandchildren."""
    descendants = sorted((t for t in schema_tables if t.name.startswith(table.name + "__")
                          and "_dlt_parent_id" in t.columns), key=lambda t: (t.name.count("__"), t.name))
    gone = list(ids)
    for child in descendants:
        found: list[str] = []
        removed = 0
        for marks, chunk in _in_chunks(gone):
            found += [row[0] for row in con.execute(
                f"select _dlt_id from {child.sql} where _dlt_parent_id in ({marks})", chunk).fetchall()]
            removed += _count(con, f"delete from {child.sql} where _dlt_parent_id in ({marks})", chunk)
        if removed:
            counts[child.key] = counts.get(child.key, 0) + removed
        gone += found
    removed = sum(_count(con, f"delete from {table.sql} where _dlt_id in ({marks})", chunk)
                  for marks, chunk in _in_chunks(list(ids)))
    if removed:
        counts[table.key] = counts.get(table.key, 0) + removed


def _regex(kind: str, text: str) -> str:
    return f"regexp_matches({text}, %s)" if kind == "duckdb" else f"{text} ~ %s"


def _holds(kind: str, text: str, needles: Sequence[str]) -> tuple[str, list[str]]:
    """A condition true when `text` holds one of `needles` by address.py's rule, and its parameters: the
    needles as plain text first, which keeps PostgreSQL's regex engine at its speed (bench in prefilter)."""
    return f"({_regex(kind, text)} and {_regex(kind, text)})", [prefilter(needles), pattern(needles)]


def _theirs(table: Table, kind: str, email: str, invitee_needles: Sequence[str]) -> tuple[str, list]:
    """A row that is the person's own: an identity column (`email`, `…_email`) that is their address,
    or a column naming their invitee. Another column that is the address (someone else's
    `tracking__utm_source`) makes it a mention, cleared by `_clear_mentions`."""
    equal = [f"lower(trim(cast({_quote(c)} as varchar))) = %s" for c in table.text_columns if is_identity(c)]
    conditions, params = equal, [email] * len(equal)
    if invitee_needles:
        condition, more = _holds(kind, table.haystack(), invitee_needles)
        conditions, params = [*conditions, condition], params + more
    return f"({' or '.join(conditions) or 'false'})", params


def _clear_canceled_by(con: Connection, by_schema: dict[str, list[Table]], email: str, counts: dict[str, int]) -> None:
    """Their name as who cancelled their event (`scheduled_events.cancellation__canceled_by`, when they
    cancelled as the invitee: a one-on-one's event carries their cancellation), read off their invitee
    rows before those go. The name alone is no address, so no search finds it."""
    for schema in RAW_SCHEMAS:
        names = {t.name: t for t in by_schema.get(schema, ())}
        invitees, events = names.get("invitees"), names.get("scheduled_events")
        if invitees is None or events is None or not {"event", "name", "email"} <= set(invitees.columns) \
                or not {"uri", "cancellation__canceled_by", "cancellation__canceler_type"} <= set(events.columns):
            continue
        for event, name in con.execute(f"select distinct event, name from {invitees.sql} "
                                       "where lower(trim(email)) = %s and name is not null", [email]).fetchall():
            cleared = _count(con, f"update {events.sql} set cancellation__canceled_by = null where uri = %s "
                                  "and cancellation__canceler_type = 'invitee' and cancellation__canceled_by = %s",
                             [event, name])
            if cleared:
                counts[events.key + CLEARED] = counts.get(events.key + CLEARED, 0) + cleared


def _submissions_answered_by(con: Connection, schema_tables: Sequence[Table], email: str) -> list[str]:
    """The routing form submissions one of whose answers is the address: the person's own submissions."""
    names = {t.name: t for t in schema_tables}
    answers = names.get("routing_form_submissions__questions_and_answers")
    if "routing_form_submissions" not in names or answers is None or "answer" not in answers.columns:
        return []
    return [row[0] for row in con.execute(
        f"select distinct _dlt_parent_id from {answers.sql} where lower(trim(cast(answer as varchar))) = %s",
        [email]).fetchall()]


def erase(con: Connection, all_tables: Sequence[Table], needles: Sequence[str]) -> dict[str, int]:
    """Remove what holds one of `needles` (the address first, then `/invitees/<uuid>` of the person's
    invitees); rows removed per table (rows only cleared count as "<table> (cleared)").

    - a row that is the person's (an identity column *is* the address, or a column names one of their
      invitees) goes, with its dlt descendants; so does a routing form submission one of whose answers
      is the address;
    - a dlt child row that mentions the address (a guest entry, an answer) goes alone, with its own
      descendants;
    - any other row that holds it (someone else's cancellation reason, a sync error message, a UTM
      value) keeps its place: those columns are set to null; so does their name as who cancelled
      their event (`canceled_by`)."""
    email, invitee_needles = needles[0], list(needles[1:])
    counts: dict[str, int] = {}
    by_schema: dict[str, list[Table]] = {}
    for table in all_tables:
        by_schema.setdefault(table.schema, []).append(table)
    _clear_canceled_by(con, by_schema, email, counts)
    for schema in RAW_SCHEMAS:
        submissions = next((t for t in by_schema.get(schema, ()) if t.name == "routing_form_submissions"), None)
        ids = _submissions_answered_by(con, by_schema.get(schema, ()), email) if submissions else []
        if submissions and ids:
            _delete_dlt_rows(con, submissions, ids, by_schema[schema], counts)
    for table in all_tables:
        if table.bookkeeping or not table.text_columns:
            continue
        condition, params = table.matching(needles, con.kind)
        if "_dlt_parent_id" not in table.columns:  # a root row, or a table of ours or dbt's
            theirs, theirs_params = _theirs(table, con.kind, email, invitee_needles)
            if table.dlt_rows:
                ids = [row[0] for row in con.execute(
                    f"select _dlt_id from {table.sql} where {condition} and {theirs}", params + theirs_params).fetchall()]
                if ids:
                    _delete_dlt_rows(con, table, ids, by_schema[table.schema], counts)
            else:
                removed = _count(con, f"delete from {table.sql} where {condition} and {theirs}",
                                 params + theirs_params)
                if removed:
                    counts[table.key] = counts.get(table.key, 0) + removed
            _clear_mentions(con, table, email, counts)
            continue
        ids = [row[0] for row in con.execute(
            f"select _dlt_id from {table.sql} where {condition}", params).fetchall()]
        if ids:
            _delete_dlt_rows(con, table, ids, by_schema[table.schema], counts)
    return counts


def _clear_mentions(con: Connection, table: Table, email: str, counts: dict[str, int]) -> None:
    """Set to null the columns of `table` that hold the address, alone (a column that says nothing of
    whose the row is) or inside a longer text; a row whose NOT NULL column holds it goes instead."""
    condition, params = _holds(con.kind, table.haystack(), [email])
    if not con.execute(f"select count(*) from {table.sql} where {condition}", params).fetchone()[0]:
        return
    column_holds = {c: _holds(con.kind, f"lower(cast({_quote(c)} as varchar))", [email])[0]
                    for c in table.text_columns}
    for column in sorted(table.required & set(table.text_columns)):
        removed = _count(con, f"delete from {table.sql} where {column_holds[column]}", params)
        if removed:
            counts[table.key] = counts.get(table.key, 0) + removed
    hits = [c for c in table.text_columns if c not in table.required
            if con.execute(f"select count(*) from {table.sql} where {column_holds[c]}", params).fetchone()[0]]
    if not hits:
        return
    # one statement: a row counts once however many of its columns are cleared
    cleared = _count(con, f"update {table.sql} set "
                     + ", ".join(f"{_quote(c)} = case when {column_holds[c]} then null else {_quote(c)} end"
                                 for c in hits)
                     + " where " + " or ".join(column_holds[c] for c in hits), params * (2 * len(hits)))
    if cleared:
        key = table.key + CLEARED
        counts[key] = counts.get(key, 0) + cleared


def mentions(con: Connection, all_tables: Sequence[Table], needles: Sequence[str]) -> dict[str, int]:
    """Rows per table that still hold one of `needles`, every base table included (verify.py)."""
    found: dict[str, int] = {}
    for table in all_tables:
        if not table.text_columns:
            continue
        condition, params = table.matching(needles, con.kind)
        n = con.execute(f"select count(*) from {table.sql} where {condition}", params).fetchone()[0]
        if n:
            found[table.key] = int(n)
    return found
