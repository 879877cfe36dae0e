"""The warehouse side of the erasure (pipelines/erasure/rows.py) on hand-made tables, on each warehouse:
the person's rows go with their dlt descendants, a child row that mentions them goes alone, a mention in
someone else's longer text is cleared, and the rest stays."""

from __future__ import annotations

import duckdb

from pipelines.erasure import rows

ADA = "ada@example.org"
INV = "https://api.calendly.com/scheduled_events/e1/invitees/inv-ada"
DDL = [
    "create schema calendly_raw",
    "create schema brevo_sync",
    "create table calendly_raw.invitees (_dlt_id varchar not null, uri varchar, email varchar, reason varchar, "
    "event varchar, name varchar)",
    "create table calendly_raw.scheduled_events (_dlt_id varchar not null, uri varchar, "
    "cancellation__canceler_type varchar, cancellation__canceled_by varchar)",
    "create table calendly_raw.invitees__questions_and_answers (_dlt_id varchar not null, "
    "_dlt_parent_id varchar not null, _dlt_root_id varchar not null, answer varchar)",
    "create table calendly_raw.invitees__questions_and_answers__x (_dlt_id varchar not null, "
    "_dlt_parent_id varchar not null, _dlt_root_id varchar not null, v varchar)",
    "create table calendly_raw.routing_form_submissions (_dlt_id varchar not null, uri varchar, submitter varchar)",
    "create table calendly_raw.routing_form_submissions__questions_and_answers (_dlt_id varchar not null, "
    "_dlt_parent_id varchar not null, _dlt_root_id varchar not null, answer varchar)",
    "create table brevo_sync.sync_log (email varchar not null, reason varchar, n integer)",
    "create table brevo_sync.rebook_links (email varchar, invitee_uri varchar, url varchar)",
]
ROWS = [
    "insert into calendly_raw.invitees values ('i1', %s, ' Ada@Example.org', null, 'e1', 'Ada L'), "
    "('i2', 'https://api.calendly.com/scheduled_events/e1/invitees/inv-bob', 'bob@example.org', "
    "'Ada (ada@example.org) takes my place', 'e2', 'Bob')",
    "insert into calendly_raw.scheduled_events values ('e1', 'e1', 'invitee', 'Ada L'), ('e2', 'e2', 'invitee', 'Bob'), "
    "('e3', 'e3', 'invitee', 'Ada L')",
    "insert into calendly_raw.invitees__questions_and_answers values ('q1', 'i1', 'i1', 'Ada Lovelace'), "
    "('q2', 'i2', 'i2', 'referred by ADA@example.org'), ('q3', 'i2', 'i2', 'Acme')",
    "insert into calendly_raw.invitees__questions_and_answers__x values ('x1', 'q1', 'i1', 'deep'), "
    "('x2', 'q2', 'i2', 'deeper'), ('x3', 'q3', 'i2', 'kept')",
    "insert into calendly_raw.routing_form_submissions values ('s1', 'sub-1', null), "
    "('s2', 'sub-2', 'https://calendly.com/scheduled_events/e1/invitees/inv-ada'), ('s3', 'sub-3', null)",
    "insert into calendly_raw.routing_form_submissions__questions_and_answers values "
    "('a1', 's1', 's1', 'ada@example.org'), ('a2', 's1', 's1', 'Ada'), ('a3', 's2', 's2', 'Analytical'), "
    "('a4', 's3', 's3', 'cy@example.org')",
    "insert into brevo_sync.sync_log values ('ada@example.org', null, 1), ('bob@example.org', "
    "'400: SMS already used by ada@example.org', 2)",
    "insert into brevo_sync.rebook_links values ('someone@else.org', %s, 'https://calendly.com/d/x')",
]


def test_what_goes_and_what_stays(any_warehouse):
    if any_warehouse.kind == "duckdb":
        any_warehouse.path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(any_warehouse.path)).close()
    with any_warehouse.connect() as con:
        for sql in DDL:
            con.execute(sql)
        for sql in ROWS:
            con.execute(sql, [INV] if "%s" in sql else None)
        tables = rows.tables(con)
        assert rows.invitee_uris(con, ADA, tables) == [INV]
        with con.transaction():
            counts = rows.erase(con, tables, rows.needles_of(ADA, [INV]))
        left = {t.key: sorted(tuple(map(str, r)) for r in con.execute(f"select * from {t.sql}").fetchall())
                for t in tables}
        assert rows.mentions(con, rows.tables(con), [ADA]) == {}
    assert [r[0] for r in left["calendly_raw.invitees"]] == ["i2"]
    assert left["calendly_raw.invitees"][0][3] == "None"  # Bob's reason cleared, his booking kept
    assert [r[0] for r in left["calendly_raw.invitees__questions_and_answers"]] == ["q3"]
    assert [r[0] for r in left["calendly_raw.invitees__questions_and_answers__x"]] == ["x3"]
    assert [r[0] for r in left["calendly_raw.routing_form_submissions"]] == ["s3"]  # hers: answered, submitted
    assert [r[0] for r in left["calendly_raw.routing_form_submissions__questions_and_answers"]] == ["a4"]
    assert left["brevo_sync.sync_log"] == [("bob@example.org", "None", "2")]
    assert left["brevo_sync.rebook_links"] == []  # by the invitee's uri
    assert counts["calendly_raw.invitees"] == 1 and counts["calendly_raw.invitees (cleared)"] == 1
    # her name as who cancelled her own event goes; another event's canceller keeps theirs
    assert left["calendly_raw.scheduled_events"] == [("e1", "e1", "invitee", "None"), ("e2", "e2", "invitee", "Bob"),
                                                    ("e3", "e3", "invitee", "Ada L")]


ANN = "ann@example.com"
LOOKALIKES = ["joann@example.com", "jo.ann@example.com", "ann@example.com.au", "ann@example.community"]


def test_only_the_whole_address_and_only_identity_fields_make_a_row_theirs(any_warehouse):
    """joann@…, jo.ann@… and ann@….au are other people: none of their rows is touched. Bob's invitee
    whose UTM source is Ann's address stays, with that field cleared; "mail ann@example.com." is hers."""
    if any_warehouse.kind == "duckdb":
        any_warehouse.path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(any_warehouse.path)).close()
    others = [(f"o{n}", f"https://api.calendly.com/scheduled_events/e{n}/invitees/inv-{n}", email,
               f"Mail {email} please") for n, email in enumerate(LOOKALIKES)]
    with any_warehouse.connect() as con:
        con.execute("create schema calendly_raw")
        con.execute("create schema brevo_sync")
        con.execute("create table calendly_raw.invitees (_dlt_id varchar not null, uri varchar, email varchar, "
                    "reason varchar, tracking__utm_source varchar)")  # no event, name: canceled_by left alone
        con.execute("create table brevo_sync.rebook_links (invitee_uri varchar primary key, email varchar not null)")
        con.executemany("insert into calendly_raw.invitees values (%s, %s, %s, %s, null)", others)
        con.execute("insert into calendly_raw.invitees values ('a1', %s, 'Ann@Example.com', null, null), "
                    "('b1', 'https://api.calendly.com/scheduled_events/e9/invitees/inv-bob', 'bob@example.org', "
                    "'Ask ANN@example.com.', 'Ann@Example.com')", [INV])
        con.executemany("insert into brevo_sync.rebook_links values (%s, %s)", [(uri, email) for _, uri, email, _ in others])
        tables = rows.tables(con)
        with con.transaction():
            counts = rows.erase(con, tables, rows.needles_of(ANN, rows.invitee_uris(con, ANN, tables)))
        left = sorted(tuple(map(str, r)) for r in con.execute("select * from calendly_raw.invitees").fetchall())
        links = sorted(r[1] for r in con.execute("select * from brevo_sync.rebook_links").fetchall())
        assert rows.mentions(con, rows.tables(con), [ANN]) == {}
        assert rows.mentions(con, rows.tables(con), ["joann@example.com"]) == {"brevo_sync.rebook_links": 1,
                                                                              "calendly_raw.invitees": 1}
    assert left == sorted([tuple(map(str, (*o, None))) for o in others]
                          + [("b1", "https://api.calendly.com/scheduled_events/e9/invitees/inv-bob",
                              "bob@example.org", "None", "None")])
    assert links == sorted(LOOKALIKES)
    assert counts == {"calendly_raw.invitees": 1, "calendly_raw.invitees (cleared)": 1}
