"""pipelines/erasure/address.py: one rule, the same answer wherever it runs – the warehouse's regex (DuckDB's
RE2, PostgreSQL's), Python's, and the candidates the extract's filter hashes."""

from __future__ import annotations

import random

import duckdb

from pipelines.erasure.address import candidates, found, pattern, prefilter

ADDRESSES = ["ann@example.com", "a.n@x.co", "o'b+1@ex-ample.com"]
ALPHABET = "ann@examplco.\\ntj .-_+%'\"()<>:,;!AÉé\n/@"


def texts(n: int = 1500) -> list[str]:
    rng = random.Random(7)
    out = ["joann@example.com", "jo.ann@example.com", "ann@example.com.au", "ann@example.community",
           "ann@example.com-x", "Write to ANN@example.com.", "\"ann@example.com\"", "x\\nann@example.com", ""]
    for _ in range(n):
        out.append("".join(rng.choice(ADDRESSES + ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(5)))])
                           for _ in range(rng.randrange(1, 6))))
    return out


def test_the_rule_by_example():
    assert [found(t, ["ann@example.com"]) for t in texts(0)] == [False, False, False, False, False, True, True, True,
                                                                 False]
    assert found("/scheduled_events/e/invitees/ab12 ", ["/invitees/ab12"]) and not found("/invitees/ab123", ["/invitees/ab12"])


def test_sql_python_and_the_filter_agree(any_warehouse):
    if any_warehouse.kind == "duckdb":
        any_warehouse.path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(any_warehouse.path)).close()
    sample = texts()
    with any_warehouse.connect() as con:
        for address in ADDRESSES:
            if con.kind == "duckdb":
                sql = "select regexp_matches(lower(x), ?) and regexp_matches(lower(x), ?) from unnest(?) with ordinality t(x, i) order by i"
            else:
                sql = "select lower(x) ~ %s and lower(x) ~ %s from unnest(%s::text[]) with ordinality t(x, i) order by i"
            in_sql = [row[0] for row in con.execute(sql, [prefilter([address]), pattern([address]), sample]).fetchall()]
            in_python = [found(t, [address]) for t in sample]
            hashed = [address in set(candidates(t)) for t in sample]
            assert in_sql == in_python == hashed, address
            assert any(in_python) and not all(in_python)
