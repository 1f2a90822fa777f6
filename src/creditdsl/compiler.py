"""The structure tree of one file to a ``model.Rulebook`` (not yet linked).

``compile_source(src)`` parses and compiles one file and returns the rulebook
(or ``None`` when it cannot be built) with the diagnostics it collected; it
never raises for bad input. Each block has a table of its keys; unknown keys
get a suggestion, duplicate keys and names a label at the first one.
Any key of a rule or trigger that is not a rule key is a ledger change; the
checker reports one that names no ledger.

Codes: E0201 duplicate key, E0202 unknown top-level key, E0203 unknown key,
E0204 missing required key, E0209 wrong kind of value, E0210 `rulebook` not
first, E0211 unknown timezone, E0212 duplicate name, E0213 reserved word,
plus those of ``value_compiler`` and ``parser``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from . import model as m
from .diagnostics import CreditDslError, Diagnostics, Label, suggest
from .entries import Entry, read_entries
from .parser import ValueText
from .source import SourceFile, Span
from .value_compiler import ValueCompiler, unquote
from .values import ValueError_, parse_date, zone

TOP_KEYS = (
    "rulebook", "jurisdiction", "effective", "until", "timezone", "currency", "source", "extends", "drop",
    "ledgers", "tiers", "sanctions", "privileges", "lists", "rules", "triggers", "tests",
)
RULE_KEYS = (
    "on", "where", "except", "limit", "cap", "group", "requires", "grace", "fine", "tier", "list", "unlist",
    "note", "source",
)
TRIGGER_KEYS = ("when", "fine", "tier", "list", "unlist", "note", "source")
LEDGER_KEYS = ("start", "floor", "ceiling", "reset", "expire", "note")
MAX_RULES = 20_000  # rules and triggers in one file (docs/language.md "Bounds")
LIST_KEYS = ("for", "tier", "sanctions", "privileges", "note")
TEST_KEYS = ("subject", "events", "expect", "as of")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def compile_source(src: SourceFile) -> tuple[m.Rulebook | None, list]:
    """Parse and compile one file. Returns (rulebook or None, diagnostics)."""
    diags = Diagnostics()
    try:
        entries = read_entries(src)
    except CreditDslError as exc:
        return None, list(exc.diagnostics)
    rulebook = FileCompiler(src, diags).compile(entries)
    return rulebook, diags.sorted()


class FileCompiler:
    def __init__(self, src: SourceFile, diags: Diagnostics):
        self.src = src
        self.diags = diags
        self.values = ValueCompiler(src, diags)
        self.currency: str | None = None

    # ------------------------------------------------------------ helpers

    def keyed(self, entries: list[Entry], allowed: tuple[str, ...] | None, where: str, code: str = "E0203",
              named: bool = False) -> dict[str, Entry]:
        """Entries by key: duplicates (E0201, or E0212 for names), unknown keys, stray items."""
        out: dict[str, Entry] = {}
        for e in entries:
            if e.key is None:
                self.diags.error("E0209", f"a `- item` is not allowed in {where}", e.value_span,
                                 help="write `key: value` lines here")
                continue
            if allowed is not None and e.key not in allowed:
                self.diags.error(code, f"unknown key `{e.key}` in {where}", e.key_span,
                                 help=suggest(e.key, allowed) or f"allowed here: {', '.join(allowed)}")
                continue
            if e.key in out:
                what = "name" if named else "key"
                self.diags.error("E0212" if named else "E0201", f"duplicate {what} `{e.key}` in {where}", e.key_span,
                                 labels=(Label(out[e.key].key_span, "first defined here"),))  # type: ignore[arg-type]
                continue
            out[e.key] = e
        return out

    def scalar(self, e: Entry, what: str) -> ValueText | None:
        if e.value is None:
            self.diags.error("E0209", f"`{e.key}` needs {what} on the same line", e.key_span,
                             help=f"write `{e.key}: ...`" if e.block is None else "this key takes no indented block")
            return None
        return e.value

    def block(self, e: Entry, what: str) -> list[Entry] | None:
        if e.value is not None:
            self.diags.error("E0209", f"`{e.key}` takes an indented block of {what}, not a value", e.value_span,
                             help=f"write `{e.key}:` and the {what} on the lines below, indented")
            return None
        return e.block or []

    def text(self, e: Entry) -> str | None:
        v = self.scalar(e, "text")
        return unquote(v.text) if v is not None else None

    def names(self, e: Entry) -> tuple[tuple[str, Span], ...]:
        """A name list: `[a, b]`, one name, or a block of `- a` items."""
        if e.value is not None:
            return self.values.compile("names", e.value) or ()
        out: list[tuple[str, Span]] = []
        for item in e.block or []:
            if item.key is not None:
                self.diags.error("E0209", f"`{e.key}` lists names as `- name` items", item.key_span)
                continue
            out.extend(self.values.compile("names", item.value) or ())  # type: ignore[arg-type]
        return tuple(out)

    def event_types(self, e: Entry) -> tuple[str, ...]:
        out = []
        for name, span in self.names(e):
            if not IDENTIFIER.match(name):
                self.diags.error("E0209", f"`{name}` is not an event type", span,
                                 help="event types are single words such as `failed_to_yield`")
                continue
            out.append(name)
        return tuple(out)

    def date_value(self, e: Entry) -> date | None:
        v = self.scalar(e, "a date")
        if v is None:
            return None
        try:
            return parse_date(v.text)
        except ValueError_ as exc:
            self.diags.error("E0206", str(exc), e.value_span, help="write a date as YYYY-MM-DD")
            return None

    # ------------------------------------------------------------ the file

    def compile(self, entries: list[Entry]) -> m.Rulebook | None:
        if not entries:
            self.diags.error("E0204", "the rulebook is empty", self.src.span(0, 0),
                             help="start with `rulebook: NAME`")
            return None
        keys = self.keyed(entries, TOP_KEYS, "a rulebook", code="E0202")
        first = next((e for e in entries if e.key is not None), None)
        if "rulebook" not in keys:
            self.diags.error("E0204", "missing `rulebook: NAME`", first.key_span if first else self.src.span(0, 0),
                             help="the first line of a rulebook is `rulebook: NAME`")
        elif first is not None and first.key != "rulebook":
            self.diags.error("E0210", "`rulebook` must be the first key", keys["rulebook"].key_span,
                             labels=(Label(first.key_span, "this comes first"),))  # type: ignore[arg-type]
        header: dict[str, Any] = {}
        tz = None
        if "timezone" in keys:
            name = self.text(keys["timezone"])
            if name is not None:
                try:
                    tz = zone(name)
                    header["timezone"] = name
                except ValueError_ as exc:
                    self.diags.error("E0211", str(exc), keys["timezone"].value_span,
                                     help=suggest_zone(name))
        self.values.tz = tz
        for key in ("rulebook", "jurisdiction", "source", "extends"):
            if key in keys:
                header[key if key != "rulebook" else "name"] = self.text(keys[key])
        if "currency" in keys:
            cur = self.text(keys["currency"])
            if cur is not None and not IDENTIFIER.match(cur):
                self.diags.error("E0209", f"`{cur}` is not a currency unit", keys["currency"].value_span,
                                 help="a currency is one word, such as `yuan`")
            header["currency"] = self.currency = cur
        for key in ("effective", "until"):
            if key in keys:
                header[key] = self.date_value(keys[key])
        if "drop" in keys:
            named = self.names(keys["drop"])
            header["drop"] = tuple(n for n, _ in named)
            header["drop_spans"] = tuple(span for _, span in named)
        if "extends" in keys:
            header["extends_span"] = keys["extends"].value_span
        parts: dict[str, Any] = {}
        for key, fn in (
            ("ledgers", self.ledgers),
            ("tiers", self.tiers),
            ("sanctions", self.labelsets),
            ("privileges", self.labelsets),
            ("lists", self.lists),
            ("rules", self.rules),
            ("triggers", self.triggers),
            ("tests", self.tests),
        ):
            if key in keys:
                body = self.block(keys[key], key)
                if body is not None:
                    parts[key] = fn(body, key)
                if body == [] and key == "ledgers":
                    self.diags.error("E0204", "`ledgers:` declares no ledger", keys[key].key_span,
                                     help="declare at least one ledger, e.g. `  credit: 1000` on the next line")
        misspelt = any(d.code == "E0202" and d.help == "did you mean `ledgers`?" for d in self.diags.items)
        if "ledgers" not in keys and "extends" not in keys and not misspelt:
            self.diags.error("E0204", "missing `ledgers:`", keys["rulebook"].key_span if "rulebook" in keys else None,
                             help="declare at least one ledger, e.g. `ledgers:` then `  credit: 1000`",
                             path=self.src.path)
        if header.get("name") is None:
            return None
        return m.Rulebook(**{k: v for k, v in header.items() if v is not None}, **parts,
                          path=self.src.path, span=keys["rulebook"].span)

    # ------------------------------------------------------------ blocks

    def ledgers(self, body: list[Entry], where: str) -> tuple[m.Ledger, ...]:
        out = []
        for name, e in self.keyed(body, None, "`ledgers:`", named=True).items():
            if not IDENTIFIER.match(name):
                self.diags.error("E0209", f"`{name}` is not a ledger name", e.key_span,
                                 help="ledger names are single words such as `credit`")
                continue
            if name in m.RESERVED_WORDS:
                self.diags.error("E0213", f"`{name}` is a reserved word and cannot name a ledger", e.key_span,
                                 help=f"choose another name, such as `{name}_points`")
                continue
            fields: dict[str, Any] = {}
            if e.value is not None:
                fields["start"] = self.values.compile("signed_number", e.value)
            else:
                opts = self.keyed(e.block or [], LEDGER_KEYS, f"ledger `{name}`")
                for key in ("start", "floor", "ceiling"):
                    if key in opts and (v := self.scalar(opts[key], "a number")) is not None:
                        fields[key] = self.values.compile("signed_number", v)
                if "reset" in opts and (v := self.scalar(opts["reset"], "`yearly` or `monthly`")) is not None:
                    fields["reset"] = self.values.compile("reset_spec", v)
                if "expire" in opts and (v := self.scalar(opts["expire"], "a duration")) is not None:
                    fields["expire"] = self.values.compile("duration", v)
                if "note" in opts:
                    fields["note"] = self.text(opts["note"])
            out.append(m.Ledger(name=name, **{k: v for k, v in fields.items() if v is not None}, span=e.key_span))
        return tuple(out)

    def tiers(self, body: list[Entry], where: str) -> tuple[m.Tier, ...]:
        out = []
        for name, e in self.keyed(body, None, "`tiers:`", named=True).items():
            v = self.scalar(e, "a condition or `otherwise`")
            if v is None:
                continue
            if v.text == "otherwise":
                out.append(m.Tier(name=name, span=e.key_span))
            elif (cond := self.values.compile("expr", v)) is not None:
                out.append(m.Tier(name=name, condition=cond, span=e.key_span))
        return tuple(out)

    def labelsets(self, body: list[Entry], where: str) -> tuple[m.LabelSet, ...]:
        return tuple(
            m.LabelSet(target=name, labels=tuple(n for n, _ in self.names(e)), span=e.key_span)
            for name, e in self.keyed(body, None, f"`{where}:`", named=True).items()
        )

    def lists(self, body: list[Entry], where: str) -> tuple[m.ListDef, ...]:
        out = []
        for name, e in self.keyed(body, None, "`lists:`", named=True).items():
            if e.value is not None:
                self.diags.error("E0209", f"list `{name}` takes an indented block (`for:`, `tier:`, `sanctions:`)",
                                 e.value_span, help=f"write `{name}:` alone for a list with no options")
                continue
            opts = self.keyed(e.block or [], LIST_KEYS, f"list `{name}`")
            fields: dict[str, Any] = {}
            if "for" in opts and (v := self.scalar(opts["for"], "a duration")) is not None:
                fields["term"] = self.values.compile("duration", v)
            if "tier" in opts and (v := self.scalar(opts["tier"], "a tier name")) is not None:
                cap = self.values.compile("tier_cap", v)
                if cap is not None:
                    if cap.duration is not None:
                        self.diags.error("E0209", "a list's `tier:` lasts as long as the membership",
                                         opts["tier"].value_span, help="put the duration in the list's `for:`")
                    fields["tier"] = cap.tier
                    fields["tier_span"] = cap.span
            for key in ("sanctions", "privileges"):
                if key in opts:
                    fields[key] = tuple(n for n, _ in self.names(opts[key]))
            if "note" in opts:
                fields["note"] = self.text(opts["note"])
            out.append(m.ListDef(name=name, **{k: v for k, v in fields.items() if v is not None}, span=e.key_span))
        return tuple(out)

    def effects(self, opts: dict[str, Entry], known: tuple[str, ...]) -> m.Effects:
        fields: dict[str, Any] = {}
        changes = []
        for key, e in opts.items():
            if key in known:
                continue
            if key in m.RESERVED_WORDS or key in TOP_KEYS:
                where = "a top-level key" if key in TOP_KEYS and key not in m.RESERVED_WORDS else "not allowed here"
                self.diags.error("E0203", f"`{key}` is {where}, not a key of this block", e.key_span,
                                 help=suggest(key, known) or f"allowed here: {', '.join(known)} and ledger names")
                continue
            v = self.scalar(e, "a change such as `-3`")
            if v is None:
                continue
            compiled = self.change_or_misspelt_key(key, e, v, known)
            if compiled is not None:
                amount, duration = compiled
                changes.append(m.LedgerChange(ledger=key, amount=amount, duration=duration, span=e.key_span))
        fields["changes"] = tuple(changes)
        if "fine" in opts and (v := self.scalar(opts["fine"], "an amount")) is not None:
            fields["fine"] = self.values.compile("fine", v)
        if "tier" in opts and (v := self.scalar(opts["tier"], "a tier name")) is not None:
            fields["tier_cap"] = self.values.compile("tier_cap", v)
        for key in ("list", "unlist"):
            if key in opts:
                named = self.names(opts[key])
                fields[key] = tuple(n for n, _ in named)
                fields[key + "_spans"] = tuple(span for _, span in named)
        return m.Effects(**{k: v for k, v in fields.items() if v is not None})

    def too_many(self, body: list[Entry], where: str) -> bool:
        if len(body) > MAX_RULES:
            self.diags.error("E0005", f"{len(body):,} entries in `{where}:`; the bound is {MAX_RULES:,}",
                             body[MAX_RULES].where, help="split the scheme into rulebooks that `extends` each other")
            return True
        return False

    def change_or_misspelt_key(self, key: str, e: Entry, v: ValueText, known: tuple[str, ...]):
        """A key that is not a rule key reads as a ledger change. When its value is
        no change and the key is close to a rule key (`limt: 2 per month`), the
        author misspelt the key: say that (E0203), not the value's syntax error."""
        mark = len(self.diags.items)
        compiled = self.values.compile("change", v)
        if compiled is None and (hint := suggest(key, known)) is not None:
            del self.diags.items[mark:]
            self.diags.error("E0203", f"unknown key `{key}`", e.key_span, help=hint,
                             notes=("a key that is not a rule key is read as a ledger change, "
                                    "and this value is not a change",))
        return compiled

    def rules(self, body: list[Entry], where: str) -> tuple[m.Rule, ...]:
        if self.too_many(body, where):
            return ()
        out = []
        for name, e in self.keyed(body, None, "`rules:`", named=True).items():
            body_ = self.block(e, "rule keys")
            if body_ is None:
                continue
            opts = self.keyed(body_, None, f"rule `{name}`")
            fields: dict[str, Any] = {}
            if "on" not in opts:
                self.diags.error("E0204", f"rule `{name}` has no `on:`", e.key_span,
                                 help="say which event type the rule reads, e.g. `on: littering`")
                continue
            fields["on"] = self.event_types(opts["on"])
            for key in ("where", "except"):
                if key in opts and (v := self.scalar(opts[key], "a condition")) is not None:
                    fields[key] = self.values.compile("expr", v)
            for key in ("limit", "cap", "requires", "grace"):
                if key in opts and (v := self.scalar(opts[key], key)) is not None:
                    fields[key] = self.values.compile(key, v)
            for key in ("group", "note", "source"):
                if key in opts:
                    fields[key] = self.text(opts[key])
            fields["effects"] = self.effects(opts, RULE_KEYS)
            out.append(m.Rule(name=name, **{k: v for k, v in fields.items() if v is not None},
                              origin=self.src.path, span=e.key_span))
        return tuple(out)

    def triggers(self, body: list[Entry], where: str) -> tuple[m.Trigger, ...]:
        if self.too_many(body, where):
            return ()
        out = []
        for name, e in self.keyed(body, None, "`triggers:`", named=True).items():
            body_ = self.block(e, "trigger keys")
            if body_ is None:
                continue
            opts = self.keyed(body_, None, f"trigger `{name}`")
            for key in ("on", "where", "except", "limit", "cap", "group", "requires", "grace"):
                if key in opts:
                    self.diags.error("E0203", f"`{key}` is not allowed in a trigger", opts[key].key_span,
                                     help="a trigger has `when:` and the effects of a rule")
                    del opts[key]
            if "when" not in opts:
                self.diags.error("E0204", f"trigger `{name}` has no `when:`", e.key_span,
                                 help="say when it fires, e.g. `when: licence <= 0`")
                continue
            v = self.scalar(opts["when"], "a condition")
            when = self.values.compile("expr", v) if v is not None else None
            if when is None:
                continue
            fields = {k: self.text(opts[k]) for k in ("note", "source") if k in opts}
            out.append(m.Trigger(name=name, when=when, effects=self.effects(opts, TRIGGER_KEYS),
                                 **{k: v for k, v in fields.items() if v is not None},
                                 origin=self.src.path, span=e.key_span))
        return tuple(out)

    def tests(self, body: list[Entry], where: str) -> tuple[m.TestCase, ...]:
        out = []
        for name, e in self.keyed(body, None, "`tests:`", named=True).items():
            body_ = self.block(e, "test keys")
            if body_ is None:
                continue
            opts = self.keyed(body_, TEST_KEYS, f"test `{name}`")
            fields: dict[str, Any] = {}
            if "subject" in opts and (b := self.block(opts["subject"], "subject fields")) is not None:
                fields["subject"] = self.test_pairs(b, "`subject:`")
            if "events" in opts and (b := self.block(opts["events"], "`- TYPE at DATE` lines")) is not None:
                events = []
                for item in b:
                    if item.key is not None:
                        self.diags.error("E0215", "test events are `- TYPE at DATE` lines", item.key_span)
                        continue
                    ev = self.values.compile("test_event", item.value)  # type: ignore[arg-type]
                    if ev is not None:
                        events.append(ev)
                fields["events"] = tuple(events)
            if "expect" in opts and (b := self.block(opts["expect"], "expectations")) is not None:
                fields["expect"] = tuple(
                    m.Expectation(key=k, value=v, span=span) for k, v, span in self.test_pairs(b, "`expect:`", True)
                )
            if "as of" in opts and (v := self.scalar(opts["as of"], "a date or datetime")) is not None:
                fields["as_of"] = self.values.compile("when", v)
            out.append(m.TestCase(name=name, **{k: v for k, v in fields.items() if v is not None}, span=e.key_span))
        return tuple(out)

    def test_pairs(self, body: list[Entry], where: str, spans: bool = False) -> tuple:
        out = []
        for key, e in self.keyed(body, None, where).items():
            v = self.scalar(e, "a value")
            if v is None:
                continue
            value = self.values.compile("test_value", v)
            if value is not None:
                out.append((key, value, e.key_span) if spans else (key, value))
        return tuple(out)


def suggest_zone(name: str) -> str | None:
    try:
        from zoneinfo import available_timezones

        hint = suggest(name, sorted(available_timezones()))
    except Exception:  # pragma: no cover - tzdata always ships the list
        hint = None
    return hint or "use an IANA name such as `Asia/Shanghai` or `Europe/Berlin`"
