"""What ``explain`` returns: plain records with stable JSON keys (docs/cli.md "explain")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .values import Duration

# ---------------------------------------------------------------- results


@dataclass
class Step:
    seq: int
    at: datetime | None
    line: int | None
    event: str | None
    rule: str | None
    location: str | None
    source: str | None
    outcome: str
    reason: str | None
    changes: dict
    ledgers: dict | None
    tier: str | None
    fine: Decimal | None = None
    listed: tuple = ()
    unlisted: tuple = ()

    def to_json(self) -> dict:
        return {
            "seq": self.seq, "at": _iso(self.at), "line": self.line, "event": self.event, "rule": self.rule,
            "location": self.location, "source": self.source, "outcome": self.outcome, "reason": self.reason,
            "changes": self.changes, "ledgers": self.ledgers, "tier": self.tier, "fine": self.fine,
            "listed": list(self.listed), "unlisted": list(self.unlisted),
        }


@dataclass
class PendingWork:
    at: datetime
    kind: str  # revert | list end | cap end | grace deadline | reset
    effect: str
    rule: str | None = None
    event: str | None = None

    def to_json(self) -> dict:
        return {"at": _iso(self.at), "kind": self.kind, "effect": self.effect, "rule": self.rule, "event": self.event}


@dataclass
class Deed:
    at: datetime
    type: str
    rule: str
    fields: dict
    evidence: tuple[str, ...]

    def to_json(self) -> dict:
        return {"at": _iso(self.at), "type": self.type, "rule": self.rule, "fields": dict(self.fields),
                "evidence": list(self.evidence)}

    def event_json(self, event_id: str, subject: str) -> dict:
        out: dict = {"id": event_id, "subject": subject, "type": self.type, "at": self.at.isoformat()}
        if self.evidence:
            out["evidence"] = list(self.evidence)
        out.update(self.fields)
        return out


@dataclass
class PathBack:
    tier: str
    waiting_at: datetime | None
    waiting_reason: str | None
    deeds: list[Deed] | None
    deeds_reached_at: datetime | None
    deeds_reason: str | None
    considered: list[str] = field(default_factory=list)  # "rule (event type)"
    equivalent: dict = field(default_factory=dict)  # rule → rules that would do the same
    left_out: list[dict] = field(default_factory=list)  # {"rule", "reason"}
    plans_verified: int = 0

    def to_json(self) -> dict:
        return {
            "tier": self.tier,
            "by_waiting": {"reachable": self.waiting_at is not None, "at": _iso(self.waiting_at),
                           "reason": self.waiting_reason},
            "by_deeds": {
                "reachable": self.deeds is not None,
                "count": None if self.deeds is None else len(self.deeds),
                "reached_at": _iso(self.deeds_reached_at),
                "deeds": None if self.deeds is None else deed_groups(self.deeds),
                "reason": self.deeds_reason,
                "considered": list(self.considered),
                "equivalent": {k: list(v) for k, v in self.equivalent.items()},
                "left_out": list(self.left_out),
                "plans_verified": self.plans_verified,
            },
        }


@dataclass
class Explanation:
    rulebook: str
    subject: str
    as_of: datetime | None
    horizon: Duration
    ledger_names: tuple[str, ...]
    starts: dict
    tiers: tuple[str, ...]
    timeline: list[Step]
    now: dict
    pending: list[PendingWork]
    paths: list[PathBack]
    bands: dict = field(default_factory=dict)  # ledger → [(tier, lower, upper)] for charts

    def to_json(self) -> dict:
        return {
            "rulebook": self.rulebook,
            "subject": self.subject,
            "as_of": _iso(self.as_of),
            "horizon": str(self.horizon),
            "tiers": list(self.tiers),
            "timeline": [s.to_json() for s in self.timeline],
            "now": self.now,
            "pending": [p.to_json() for p in self.pending],
            "path_back": [p.to_json() for p in self.paths],
        }


def deed_groups(deeds: list[Deed]) -> list[dict]:
    """Consecutive equal deeds at one instant as one entry with a ``count``."""
    out: list[dict] = []
    for d in deeds:
        doc = d.to_json()
        if out and {k: v for k, v in out[-1].items() if k != "count"} == doc:
            out[-1]["count"] += 1
        else:
            out.append({"count": 1, **doc})
    return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


