"""The content behind two shape knobs, kept apart from the vocabulary of the default account:
text that breaks naive assumptions (``long_answers``) and fields the API reference does not
document (``unknown_fields``). Every function draws from the RNG it is given, so generation stays
deterministic."""

from __future__ import annotations

import random

LONG = 5000  # characters: past Brevo's attribute limits and any VARCHAR(255) a warehouse may guess

# Names as people type them: other scripts, accents, emoji, an apostrophe.
NAMES = (("王", "伟"), ("さくら", "山田"), ("ليلى", "حداد"), ("Иван", "Петров"), ("Zoë", "Ångström-Núñez"),
         ("Sam 🚀", "O'Connor"), ("Ngọc Anh", "Nguyễn"), ("Αλέξης", "Παπαδόπουλος"), ("François", "Lefèvre"))
COMPANIES = ("株式会社サクラ", "شركة النور للتقنية", "ООО «Ромашка»", "Café Société ☕", "Müller & Söhne GmbH",
             "北京数据科技有限公司", "Ζήτα Α.Ε.")
TEXTS = ("我们想了解团队版的价格。\n另外，是否支持单点登录？",
         "نود مناقشة التكامل مع نظام إدارة علاقات العملاء لدينا.",
         "Нужна помощь с маршрутизацией.\nСпасибо! 🙏",
         "Déjà vu: réunion reportée…\n— à bientôt 😊",
         "Line one\r\nLine two\n\n\tindented, \"quoted\", and a trailing backslash \\")


def very_long(unit: str) -> str:
    """``unit`` repeated past LONG characters."""
    return (unit * (LONG // len(unit) + 1))[:LONG + len(unit)]


def roughen_people(rng: random.Random, persons: list) -> None:
    """Give some people names and companies in other scripts, and one person each a name and a
    company of LONG characters. Emails stay as they were (ASCII), as they mostly are."""
    for i, p in enumerate(persons):
        if i == 0:
            p["company"] = very_long("Internationale Handelsgesellschaft für Terminplanung ")
        elif i == 1:
            p["last"] = very_long("Wolfeschlegelsteinhausenbergerdorff ")
        elif rng.random() < 0.25:
            p["first"], p["last"] = rng.choice(NAMES)
        if i > 0 and rng.random() < 0.15:
            p["company"] = rng.choice(COMPANIES)


def roughen_answers(rng: random.Random, questions: list, qa: list) -> None:
    """Some free-text answers become multi-line text in other scripts, or LONG characters."""
    kinds = {q["name"]: q["type"] for q in questions}
    for item in qa:
        if kinds.get(item["question"]) == "text" and rng.random() < 0.3:
            item["answer"] = very_long("We need help with routing.\n") if rng.random() < 0.2 else rng.choice(TEXTS)


# Time zone strings that are strings (the spec asks no more) but name no zone a warehouse knows.
UNKNOWN_TIMEZONES = ("", "Mars/Olympus_Mons", "GMT+05:30", "Eastern Time")


# ---------------------------------------------------------------------------- undocumented fields
# What a field Calendly added last month looks like: a string, an object, a list of objects, and
# one whose JSON type is a number on most rows and a string on a few (schema drift).
NEW_STRING, NEW_OBJECT, NEW_LIST, DRIFTING = "locale", "integration_sync", "labels", "priority_score"
NESTED = "legacy_id"  # a new string inside a nested object of each resource
TOP_LEVEL = (NEW_STRING, NEW_OBJECT, NEW_LIST, DRIFTING)
LABELS = (("vip", "#ff4f00"), ("partner", "#0069ff"), ("renewal", "#17e885"), ("emea", "#a3a3a3"))


def _nested(resource: dict, kind: str) -> list:
    """The nested objects of a resource that get the new nested field."""
    if kind == "event_type":
        return [resource["profile"], *resource["custom_questions"]]
    if kind == "scheduled_event":
        return resource["event_memberships"]
    if kind in ("invitee", "routing_form_submission"):
        return [resource["tracking"]]
    if kind == "organization_membership":
        return [resource["user"]]
    if kind == "routing_form":
        return resource["questions"]
    raise ValueError(f"unknown resource kind {kind}")


def add_unknown_fields(rng: random.Random, resource: dict, kind: str, as_text: bool) -> None:
    """Add the undocumented fields to ``resource`` (of ``kind``); ``as_text``: the drifting field
    is a string on this row."""
    score = rng.randrange(100)
    resource[NEW_STRING] = rng.choice(("en", "de", "fr", "ja", "pt-BR"))
    resource[NEW_OBJECT] = {"provider": rng.choice(("hubspot", "salesforce")), "state": "synced",
                            "attempts": rng.randint(1, 3)}
    resource[NEW_LIST] = [{"name": n, "color": c} for n, c in rng.sample(LABELS, rng.randint(0, 2))]
    resource[DRIFTING] = f"{score}%" if as_text else score
    for obj in _nested(resource, kind):
        if obj is not None:  # setdefault: objects shared with a copy (a reschedule's tracking) keep one value
            obj.setdefault(NESTED, f"LGC-{rng.getrandbits(32):08X}")
