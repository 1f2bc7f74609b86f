"""The email body writer: turns a plan's `context` (and the user's request) into a short email.

With an LLM it asks for a greeting, a few sentences and a sign-off (one short call,
~200 tokens). The output is checked before use: it must be non-empty, free of template
placeholders, and it must keep every fact that has to travel verbatim (links, addresses,
phone numbers, figures, times) - a small model paraphrasing a Zoom link breaks it. When
the check fails, or without an LLM, a deterministic template is used instead, which puts
the context in the body as written. Long contexts (usually `$N` results such as a PDF
summary) always go in verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pocketagent.errors import PocketAgentError
from pocketagent.llm.base import GenerationOptions, LLMBackend, Message

Kind = Literal["new", "reply", "forward"]

LONG_CONTEXT_CHARS = 280
MAX_DRAFT_CHARS = 900
MIN_CONTEXT_COVERAGE = 0.5
MAX_QUOTED_CHARS = 800

_SIGN_OFF = re.compile(
    r"^(best|best regards|kind regards|warm regards|regards|thanks|thank you|many thanks|cheers|sincerely|"
    r"yours|all the best|take care)\b[ ,.!]*$",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[[^\]\n]{1,40}\]|\{[^}\n]{1,40}\}|<[A-Za-z ]{2,30}>")
_NAME_PLACEHOLDER = re.compile(r"\[(your|sender'?s?|my)\s*name\]", re.IGNORECASE)
# Facts that must survive rewriting exactly.
_MUST_KEEP = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ().-]{5,}\d|\b\d{1,2}[:.]\d{2}\b|\$?\d[\d,.]*\d|\b\d+\b"
)


@dataclass(frozen=True)
class OriginalEmail:
    """The email being replied to or forwarded, as the writer needs it."""

    sender: str  # "Name <addr>" or "addr"
    sender_name: str  # display name, "" if none
    date: str
    subject: str
    text: str


def first_name(display_name: str) -> str:
    """ "Sid Shah" → "Sid"; "Shah, Sid" → "Sid"; "" → ""."""
    name = display_name.strip().strip('"')
    if "," in name:
        name = name.split(",", 1)[1]
    parts = name.split()
    return parts[0] if parts else ""


_PERSON = r"(?:him|her|them|everyone|everybody|[A-Z][\w'-]+)"
# The user's instruction ("tell her I'll be late") turned into what the email says ("I'll be late.").
_INSTRUCTIONS = (
    (re.compile(rf"^(?:please\s+)?(?:tell|inform)\s+{_PERSON}\s+(?:that\s+)?(.+)$", re.DOTALL), r"\1"),
    (re.compile(rf"^(?:please\s+)?let\s+{_PERSON}\s+know\s+(?:that\s+)?(.+)$", re.DOTALL), r"\1"),
    (re.compile(r"^(?:say|saying|mention|mentioning|write|writing)\s+(?:that\s+)?(.+)$", re.DOTALL), r"\1"),
    (
        re.compile(rf"^ask(?:ing)?\s+{_PERSON}\s+(?:if|whether)\s+(.+?)[?.]?$", re.DOTALL),
        r"Could you let me know if \1?",
    ),
    (re.compile(rf"^ask(?:ing)?\s+{_PERSON}\s+to\s+(.+?)[?.]?$", re.DOTALL), r"Could you please \1?"),
)


def context_as_sentence(context: str) -> str:
    """A short instruction-like context as an email sentence: rephrased, capitalized, punctuated."""
    text = " ".join(context.split())
    for pattern, replacement in _INSTRUCTIONS:
        if pattern.match(text):
            text = pattern.sub(replacement, text, count=1)
            break
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] in ".!?:)\"'" or re.search(r"https?://\S+$", text):
        return text  # a period after a trailing link would end up in the link
    return text + "."


def must_keep_facts(context: str) -> list[str]:
    """The substrings of `context` a rewrite has to contain verbatim."""
    facts = []
    for match in _MUST_KEEP.finditer(context):
        fact = match.group(0).rstrip(".,;:)")
        if fact and fact not in facts:
            facts.append(fact)
    return facts


_CONTENT_WORD = re.compile(r"[^\W\d_]{4,}")
_FUNCTION_WORDS = frozenset(
    [
        "tell",
        "that",
        "them",
        "they",
        "their",
        "there",
        "this",
        "with",
        "from",
        "have",
        "about",
        "know",
        "asking",
        "saying",
        "say",
        "ask",
        "please",
        "would",
        "could",
        "should",
        "will",
        "just",
        "also",
        "been",
        "were",
        "what",
        "when",
        "where",
        "which",
        "your",
        "yours",
        "mine",
    ]
)


def _repeats(draft: str) -> bool:
    lines = [" ".join(line.split()).lower() for line in draft.splitlines() if len(line.strip()) > 20]
    return len(lines) != len(set(lines))


def _covers(draft: str, context: str) -> bool:
    """Whether the draft mentions most content words of the context (5-letter prefixes, so 'shipped' ~ 'shipping')."""
    wanted = {w[:5] for w in _CONTENT_WORD.findall(context.lower()) if w not in _FUNCTION_WORDS}
    if not wanted:
        return True
    present = {w[:5] for w in _CONTENT_WORD.findall(draft.lower())}
    return len(wanted & present) / len(wanted) >= MIN_CONTEXT_COVERAGE


class EmailWriter:
    """Writes the body of a new email, a reply or a forward note."""

    def __init__(
        self,
        llm: LLMBackend | None = None,
        sender_name: str = "",
        max_tokens: int = 200,
        seed: int = 0,
    ) -> None:
        self.llm = llm
        self.sender_name = sender_name.strip()
        self.max_tokens = max_tokens
        self.seed = seed

    # -- public -----------------------------------------------------------------------

    def write(
        self,
        kind: Kind,
        subject: str,
        context: str,
        recipient_names: Sequence[str] = (),
        original: OriginalEmail | None = None,
        request: str = "",
    ) -> str:
        """The body text (without quoted original) for `kind`."""
        context = (context or "").strip()
        greeting_name = ""
        if len(recipient_names) == 1:
            greeting_name = first_name(recipient_names[0])
        elif kind == "reply" and original is not None and not recipient_names:
            greeting_name = first_name(original.sender_name)
        if self.llm is not None and context and len(context) < LONG_CONTEXT_CHARS and "\n" not in context:
            drafted = self._draft_with_llm(kind, subject, context, recipient_names, original, request)
            if drafted is not None:
                return drafted
        return self.template(kind, subject, context, greeting_name)

    def template(self, kind: Kind, subject: str, context: str, greeting_name: str = "") -> str:
        """The deterministic body: greeting, the context as written, sign-off."""
        if context:
            middle = context if "\n" in context or len(context) >= LONG_CONTEXT_CHARS else context_as_sentence(context)
        elif kind == "reply":
            middle = "Thanks for your email."
        elif kind == "forward":
            middle = "Forwarding the message below."
        elif subject.strip():
            middle = f"I'm writing about {subject.strip().rstrip('.')}."
        else:
            middle = "I'm writing to follow up."
        greeting = f"Hi {greeting_name}," if greeting_name else "Hi,"
        return f"{greeting}\n\n{middle}\n\n{self._sign_off()}\n"

    # -- LLM --------------------------------------------------------------------------

    def _sign_off(self) -> str:
        return f"Best,\n{self.sender_name}" if self.sender_name else "Best regards"

    def _prompt(
        self,
        kind: Kind,
        subject: str,
        context: str,
        recipient_names: Sequence[str],
        original: OriginalEmail | None,
        request: str,
    ) -> list[Message]:
        who = f" for {self.sender_name}" if self.sender_name else ""
        system = (
            f"You write short, friendly, plain-text emails{who}. Answer with the email body only: a greeting "
            "line, one to three sentences, and a sign-off. No subject line. Do not invent facts."
        )
        task = {"new": "a new email", "reply": "a reply", "forward": "a short note to go above a forwarded email"}
        lines = [f"Write {task[kind]}."]
        if recipient_names:
            lines.append(f"To: {', '.join(recipient_names)}")
        if subject:
            lines.append(f"Subject: {subject}")
        lines.append(f"What it must say: {context}")
        if request:
            lines.append(f"The user's request: {request.strip()}")
        if original is not None:
            lines.append(
                f"The email from {original.sender_name or original.sender}:\n{original.text[:MAX_QUOTED_CHARS]}"
            )
        return [Message("system", system), Message("user", "\n".join(lines))]

    def _draft_with_llm(
        self,
        kind: Kind,
        subject: str,
        context: str,
        recipient_names: Sequence[str],
        original: OriginalEmail | None,
        request: str,
    ) -> str | None:
        if self.llm is None:
            return None
        options = GenerationOptions(max_tokens=self.max_tokens, temperature=0.0, seed=self.seed)
        try:
            text = self.llm.complete(
                self._prompt(kind, subject, context, recipient_names, original, request), options
            ).text
        except (PocketAgentError, RuntimeError, ValueError, OSError):
            return None  # a failing writer must not fail the email: the template is the fallback
        return self.clean_draft(text, context)

    def clean_draft(self, text: str, context: str) -> str | None:
        """Normalize an LLM draft (sign-off, placeholders); None if it is unusable or drops a fact."""
        lines = [line.rstrip() for line in text.strip().strip("`").splitlines()]
        while lines and (not lines[0].strip() or lines[0].lower().startswith("subject:")):
            lines.pop(0)
        body: list[str] = []
        for line in lines:
            if _SIGN_OFF.match(line.strip()):
                break  # our own sign-off replaces whatever the model wrote after this point
            body.append(line)
        draft = "\n".join(body).strip()
        if self.sender_name:
            draft = _NAME_PLACEHOLDER.sub(self.sender_name, draft)
        if len(draft) < 10 or _PLACEHOLDER.search(draft):
            return None
        if any(fact not in draft for fact in must_keep_facts(context)):
            return None
        if len(draft) > MAX_DRAFT_CHARS or _repeats(draft) or not _covers(draft, context):
            return None  # rambling, looping, or not about what the user asked
        draft = re.sub(r"\n{3,}", "\n\n", draft)
        return f"{draft}\n\n{self._sign_off()}\n"
