"""What kind of Calendly account the sandbox generates: the shape knobs and the named profiles.

Real accounts differ from the one the sandbox generated at first (a team with custom questions,
UTM links and some churn), and the pipeline broke on ones we had not generated. A :class:`Shape`
says how an account differs; ``Shape()`` is that first account, byte for byte. A :class:`Profile`
names a shape with the number of events and the rate limit a real account of that kind has, for
``calendly-elt sandbox --profile NAME`` and ``calendly-elt demo --profile NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

CANCELLATIONS = ("some", "none", "only")


@dataclass(frozen=True)
class Shape:
    """How the generated organization looks. The defaults give the original "team" account."""

    hosts: int = 5  # users in the organization; 1 = a solo user who owns their own organization
    routing_forms: int = 2  # published routing forms (0 = none, and no submissions)
    routing_forms_on_plan: bool = True  # False: a plan without routing forms: listing them answers 403
    # True: the Enterprise plan, whose owners and admins may request invitee data deletion (other plans: 403)
    data_deletion_on_plan: bool = False
    # The status of that refusal on other plans: 403 as the spec's example; Calendly's reference also
    # lists 400 and 404 for the endpoint, with the same {title, message} body
    data_deletion_refusal: int = 403
    custom_questions: bool = True  # False: event types ask nothing, every questions_and_answers is []
    utm: bool = True  # False: every tracking.* value is null (invitees and routing-form submissions)
    null_timezones: float = 0.0  # share of invitees whose timezone is null (the spec allows it)
    unknown_timezones: float = 0.0  # share whose timezone is a string no time zone database knows ("", ...)
    cancellations: str = "some"  # "some" (~10%, plus reschedules), "none" (neither), "only" (every invitee)
    no_shows: bool = True  # False: no invitee of the history is marked as a no-show
    deleted_event_types: int = 0  # event types with bookings deleted later: fetchable, no longer listed
    departed_hosts: int = 0  # hosts (never the owner) who left: membership gone, their events stay
    long_answers: bool = False  # some names, companies and answers ≥ 5,000 characters or non-Latin
    unknown_fields: bool = False  # every resource and a nested object of each carry undocumented fields
    group_size: tuple[int, int] | None = None  # (lo, hi) invitees of the big group type (default 3-18)

    def __post_init__(self):
        if self.hosts < 1:
            raise ValueError("hosts must be >= 1 (the owner)")
        if self.routing_forms < 0 or self.deleted_event_types < 0 or self.departed_hosts < 0:
            raise ValueError("routing_forms, deleted_event_types and departed_hosts must be >= 0")
        if not self.routing_forms_on_plan and self.routing_forms:
            raise ValueError("a plan without routing forms has none: routing_forms must be 0")
        if self.departed_hosts > self.hosts - 1:
            raise ValueError("departed_hosts must leave the owner: at most hosts - 1")
        if not 0.0 <= self.null_timezones <= 1.0 or not 0.0 <= self.unknown_timezones <= 1.0:
            raise ValueError("null_timezones and unknown_timezones are shares: 0.0 to 1.0")
        if self.data_deletion_refusal not in (400, 403, 404):
            raise ValueError("data_deletion_refusal must be 400, 403 or 404")
        if self.cancellations not in CANCELLATIONS:
            raise ValueError(f"cancellations must be one of {', '.join(CANCELLATIONS)}")
        if self.group_size is not None:
            lo, hi = self.group_size
            if not 1 <= lo <= hi:
                raise ValueError("group_size must be (lo, hi) with 1 <= lo <= hi")

    def knobs(self) -> dict:
        """The knobs that differ from the defaults (what makes this shape special)."""
        default = Shape()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}


@dataclass(frozen=True)
class Profile:
    """A kind of account: its shape, how many events it has by default, and the rate limit
    (requests per minute per token) Calendly gives its plan."""

    shape: Shape
    events: int
    rate_limit: int
    description: str


PROFILES: dict[str, Profile] = {
    "empty": Profile(Shape(hosts=1, routing_forms=0), events=0, rate_limit=50,
                     description="a brand-new account: the owner and their event types, nothing booked yet"),
    "solo": Profile(Shape(hosts=1, routing_forms=0, custom_questions=False), events=300, rate_limit=50,
                    description="one user on Calendly Free: no routing forms, no custom questions"),
    "team": Profile(Shape(), events=3000, rate_limit=500,
                    description="5 hosts, custom questions, 2 routing forms, UTM links, some churn"),
    "enterprise": Profile(Shape(hosts=25, routing_forms=4, group_size=(101, 160), deleted_event_types=1,
                                departed_hosts=2, data_deletion_on_plan=True), events=2000, rate_limit=500,
                          description="25 hosts (2 departed), webinars of 100+ invitees, 4 routing forms, "
                                      "a deleted event type"),
    "messy": Profile(Shape(hosts=8, routing_forms=3, utm=False, null_timezones=0.2, unknown_timezones=0.05,
                           deleted_event_types=2, departed_hosts=2, long_answers=True, unknown_fields=True),
                     events=1000, rate_limit=500,
                     description="every rough edge at once: null and unknown timezones, no UTM, deleted types, "
                                 "departed hosts, long and non-Latin text, fields the API reference does not "
                                 "document"),
}
