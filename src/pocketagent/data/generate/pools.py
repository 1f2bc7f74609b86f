"""Argument pools for the offline generator: people, places, files, notes, topics, messages.

The pools themselves are data, in `pools.toml` next to this module (shipped as package data);
this module gives them types. Order and repeats in a pool matter: picks are seeded random
choices, so the same seed gives the same dataset only while the pools stay the same.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pocketagent.data.package_files import load_package_toml

Pronoun = Literal["her", "him", "them"]
# A pool is never empty: the generator draws from every one.
Pool = Annotated[tuple[str, ...], Field(min_length=1)]


class PoolPerson(NamedTuple):
    """Someone as the user names them, with the object pronoun a later clause uses ("text her too")."""

    name: str
    pronoun: Pronoun


class EmailTopic(NamedTuple):
    """What an email is about: the request's words after "email X", the email's context, its subject."""

    words: str
    context: str
    subject: str


class Pools(BaseModel):
    """Every pool of `pools.toml`, typed; field names are the file's keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    people: Annotated[tuple[PoolPerson, ...], Field(min_length=1)]
    email_addresses: Pool
    phone_numbers: Pool
    literal_owners: Pool  # phrases that introduce a literal number ("my landlord at 415-...")
    places: Pool
    files: Pool
    file_suffixes: Pool  # how a file is called in speech: the argument is the name without these
    note_names: Pool
    note_folders: Pool
    note_contents: Pool
    reminder_tasks: Pool
    reminder_lists: Pool
    calendars: Pool
    events: Pool  # event titles as the user says them (the argument is title-cased)
    meeting_topics: Pool
    sms_messages: Pool
    email_topics: Annotated[tuple[EmailTopic, ...], Field(min_length=1)]
    reply_contexts: Pool
    forward_notes: Pool

    @field_validator("people", mode="before")
    @classmethod
    def _people_by_pronoun(cls, value: Any) -> Any:
        # The file groups names by pronoun ([people] her = [...]); the pool is (name, pronoun) pairs in that order.
        if isinstance(value, dict):
            return [(name, pronoun) for pronoun, names in value.items() for name in names]
        return value


@cache
def load_pools() -> Pools:
    """The generator's pools, read once from the packaged `pools.toml`."""
    return load_package_toml(Pools, __package__ or "pocketagent.data.generate", "pools.toml")
