"""The state a scenario writes into while one request is being made up.

A `Scene` holds the random source, `now`, the plan being built (`PlanBuilder`), the people
already mentioned (so a later clause can say "text her too"), the last produced result
(a summary, a note's text) that a later clause may send on, and the strings that must reach
the request unchanged (argument values: typos and casing tricks keep off them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from pocketagent.data.generate.pools import load_pools
from pocketagent.plan.language import JOIN, Action, Plan, Scalar, Value


@dataclass(frozen=True)
class Person:
    """Someone the request talks about: by name (looked up) or by a literal address/number."""

    name: str = ""
    pronoun: str = "them"
    email: str = ""
    phone: str = ""
    owner: str = ""  # "my landlord" for a literal number said with who it belongs to

    @property
    def is_literal(self) -> bool:
        return bool(self.email or self.phone)

    def mention(self, rng: random.Random) -> str:
        """How the request names this person."""
        literal = self.email or self.phone
        if not literal:
            return self.name
        if self.owner and rng.random() < 0.7:
            return rng.choice((f"{self.owner} at {literal}", f"{self.owner} ({literal})"))
        return literal


@dataclass(frozen=True)
class Produced:
    """A result a later clause may pass on (`ref` is "$N", or several refs for several results)."""

    ref: str
    kind: str  # "summary", "summaries", "note"
    anaphors: tuple[str, ...]
    subject: str


def _plan_value(arg: Value | list[str]) -> Value:
    # A list of addresses is a `list[str]`; the plan holds it as a list of scalars (a copy).
    if isinstance(arg, list):
        items: list[Scalar] = list(arg)
        return items
    return arg


class PlanBuilder:
    """Appends actions and hands back `$N` references; repeated lookups of the same thing are shared."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, tuple[Value, ...]]] = []
        self._memo: dict[tuple[str, tuple[str, ...]], str] = {}

    def __len__(self) -> int:
        return len(self.actions)

    def call(self, tool: str, *args: Value | list[str]) -> str:
        """Add an action; return the reference to its result."""
        self.actions.append((tool, tuple(_plan_value(a) for a in args)))
        return f"${len(self.actions)}"

    def once(self, tool: str, *args: str) -> str:
        """Add an action unless the same call was already made; return the reference either way."""
        key = (tool, args)
        if key not in self._memo:
            self._memo[key] = self.call(tool, *args)
        return self._memo[key]

    def email_of(self, person: Person) -> str:
        return person.email or self.once("get_email_address", person.name)

    def phone_of(self, person: Person) -> str:
        return person.phone or self.once("get_phone_number", person.name)

    def plan(self) -> Plan:
        """The finished plan, `join()` appended."""
        actions = [Action(i, tool, args) for i, (tool, args) in enumerate(self.actions, start=1)]
        actions.append(Action(len(actions) + 1, JOIN, ()))
        return Plan(tuple(actions))


@dataclass
class Scene:
    """Everything one made-up request shares across its clauses."""

    rng: random.Random
    now: datetime
    builder: PlanBuilder = field(default_factory=PlanBuilder)
    people: list[Person] = field(default_factory=list)  # the group most recently mentioned
    used_names: set[str] = field(default_factory=set)
    produced: Produced | None = None
    protected: set[str] = field(default_factory=set)
    small: bool = False  # prefer the fewest actions (literal contacts, no extras)
    crowd: bool = False  # prefer groups of people (bigger plans from fewer clauses)
    must_consume: bool = False  # the next message clause takes the produced result
    tags: list[str] = field(default_factory=list)

    def keep(self, *texts: str) -> None:
        """Mark request words that are argument values, so rendering leaves them alone."""
        self.protected.update(t for t in texts if t)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def new_people(self, n: int, literal: str = "", literal_p: float = 0.0) -> list[Person]:
        """`n` people not yet in this request; some may be literal addresses (`literal` = "email"/"phone")."""
        rng, pools = self.rng, load_pools()
        chosen: list[Person] = []
        for _ in range(n):
            if literal and rng.random() < literal_p:
                if literal == "email":
                    person = Person(email=rng.choice(pools.email_addresses))
                else:
                    person = Person(phone=rng.choice(pools.phone_numbers), owner=rng.choice(pools.literal_owners))
                if person.email in self.used_names or person.phone in self.used_names:
                    continue
                self.used_names.add(person.email or person.phone)
                self.keep(person.email, person.phone)
                chosen.append(person)
                continue
            for _attempt in range(10):
                name, pronoun = rng.choice(pools.people)
                if name not in self.used_names and not any(name in u or u in name for u in self.used_names):
                    break
            self.used_names.add(name)
            self.keep(name)
            chosen.append(Person(name=name, pronoun=pronoun))
        return chosen or self.new_people(n, literal, 0.0)

    def pick_people(self, n_max: int, literal: str = "", literal_p: float = 0.1) -> tuple[list[Person], str]:
        """People for a clause and how to say them: earlier people by pronoun sometimes, else new ones."""
        rng = self.rng
        earlier = [p for p in self.people if not p.is_literal]
        if earlier and rng.random() < 0.45:
            group = earlier
            if len(group) == 1:
                words = group[0].pronoun if rng.random() < 0.75 else group[0].name
            else:
                words = rng.choice(("them", "them", "both of them" if len(group) == 2 else "all of them", "everyone"))
            return group, words
        weights = ((25, 35, 25, 15) if self.crowd else (55, 25, 12, 8))[:n_max]
        n = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
        if self.small:
            n = 1
            literal_p = max(literal_p, 0.5) if literal else 0.0
        group = self.new_people(n, literal, literal_p)
        self.people = group
        return group, say_list(rng, [p.mention(rng) for p in group])


def say_list(rng: random.Random, items: list[str]) -> str:
    """ "A", "A and B", "A, B and C" (Oxford comma or "&" sometimes)."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return rng.choice((f"{items[0]} and {items[1]}", f"{items[0]} and {items[1]}", f"{items[0]} & {items[1]}"))
    head = ", ".join(items[:-1])
    return rng.choice((f"{head} and {items[-1]}", f"{head}, and {items[-1]}"))


def capitalized(text: str) -> str:
    """First letter upper-cased, the rest untouched ("1:1 with Ana" stays)."""
    return text[:1].upper() + text[1:]
