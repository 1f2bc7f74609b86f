"""Scenarios for messages: email, SMS, reply, forward, save-to-note and relays between them.

See `scenarios.py` for what a scenario is; `builtin_scenarios.py` assembles the set.
"""

from __future__ import annotations

from pocketagent.data.generate.pools import load_pools
from pocketagent.data.generate.scenarios import (
    append_note,
    create_note,
    file_phrase,
    folder_phrase,
    read_note,
    summarize,
)
from pocketagent.data.generate.scene import Person, Scene, capitalized, say_list


def _content_np(scene: Scene) -> tuple[str, str, str] | None:
    """Take the last produced result: (reference, words for it, subject); None if there is none."""
    produced = scene.produced
    if produced is None:
        return None
    scene.produced = None
    return produced.ref, scene.rng.choice(produced.anaphors), produced.subject


def _cc(scene: Scene, p: float) -> tuple[str, list[str]]:
    if scene.small or not scene.chance(p):
        return "", []
    rng, b = scene.rng, scene.builder
    group = scene.new_people(rng.choice((1, 1, 2)), literal="email", literal_p=0.2)
    words = say_list(rng, [g.mention(rng) for g in group])
    phrase = rng.choice(
        (
            f", cc {words}",
            f" and cc {words}",
            f", loop in {words}",
            f" with {words} on cc",
            f", copy {words}",
            f", keep {words} in the loop",
        )
    )
    return phrase, [b.email_of(g) for g in group]


def _attachment(scene: Scene, p: float) -> tuple[str, list[str], str]:
    if scene.small or not scene.chance(p):
        return "", [], ""
    words, name = file_phrase(scene)
    return words, [scene.builder.once("open_and_get_file_path", name)], capitalized(name)


# First words of SMS texts that are full sentences ("I'm outside"), not fragments ("on my way"):
# only those read right after "tell Ana" / "a heads-up that".
_STATEMENT_STARTS = ("i", "i'm", "i'll", "the", "we're", "dinner's", "table's", "party's", "practice", "lunch")


_SUBJECT = {"her": "she", "him": "he", "them": "they"}


def _is_statement(message: str) -> bool:
    return message.split(" ", 1)[0].lower() in _STATEMENT_STARTS and not message.endswith(("?", "!"))


def email(scene: Scene) -> str:
    rng, b = scene.rng, scene.builder
    carried = _content_np(scene) if scene.must_consume or scene.chance(0.85) else None
    attach_words, attachments, file_subject = _attachment(scene, 0.0 if carried else 0.3)
    group, people = scene.pick_people(4, literal="email", literal_p=0.12)
    recipients = [b.email_of(p) for p in group]
    cc_words, cc = _cc(scene, 0.15)
    if carried:
        ref, it, subject = carried
        b.call("compose_new_email", recipients, cc, subject, ref, [])
        return rng.choice(
            (
                f"email {it} to {people}{cc_words}",
                f"send {it} to {people} by email{cc_words}",
                f"email {people} {it}{cc_words}",
                f"mail {it} over to {people}{cc_words}",
                f"make sure {people} {'gets' if len(group) == 1 else 'get'} {it} by email{cc_words}",
                f"share {it} with {people} over email{cc_words}",
            )
        )
    if attachments and scene.chance(0.6):
        b.call("compose_new_email", recipients, cc, file_subject, "", attachments)
        options = [
            f"email {attach_words} to {people}{cc_words}",
            f"send {people} {attach_words} by email{cc_words}",
            f"attach {attach_words} to an email to {people}{cc_words}",
            f"find {attach_words} and email it to {people}{cc_words}",
            f"shoot {people} an email with {attach_words} attached{cc_words}",
        ]
        if not any(p.is_literal for p in group):
            them = group[0].pronoun if len(group) == 1 else "them"
            needs = "needs" if len(group) == 1 else "need"
            have = "hasn't" if len(group) == 1 else "haven't"
            options += [
                f"{people} {needs} {attach_words}, can you email it to {them}{cc_words}",
                f"{people} {have} seen {attach_words} yet, email it to {them}{cc_words}",
                f"{people} asked for {attach_words}. Send it to {them} by email{cc_words}",
                f"can you make sure {people} {'gets' if len(group) == 1 else 'get'} {attach_words}? email it{cc_words}",
            ]
        return rng.choice(options)
    words, context, subject = rng.choice(load_pools().email_topics)
    scene.keep(context)
    b.call("compose_new_email", recipients, cc, subject, context, attachments)
    attached = f" and attach {attach_words}" if attachments else ""
    return rng.choice(
        (
            f"email {people} {words}{cc_words}{attached}",
            f"send an email to {people} {words}{attached}{cc_words}",
            f"shoot {people} an email {words}{cc_words}{attached}",
            f"write to {people} {words}{cc_words}{attached}",
            f"drop {people} a line {words}{cc_words}{attached}",
            f"compose an email to {people} {words}{cc_words}{attached}",
            f"send {people} an email {words}{cc_words}{attached}",
            f"get an email out to {people} {words}{cc_words}{attached}",
            f"can you write {people} an email {words}{cc_words}{attached}",
        )
    )


def sms(scene: Scene) -> str:
    rng, b = scene.rng, scene.builder
    carried = _content_np(scene) if scene.must_consume or scene.chance(0.85) else None
    group, people = scene.pick_people(4, literal="phone", literal_p=0.1)
    numbers = [b.phone_of(p) for p in group]
    if carried:
        ref, it, _subject = carried
        b.call("send_sms", numbers, ref)
        return rng.choice(
            (
                f"text {it} to {people}",
                f"text {people} {it}",
                f"send {it} to {people} as a text",
                f"shoot {people} a text with {it}",
                f"message {people} {it}",
                f"send {people} {it} by text",
                f"make sure {people} {'gets' if len(group) == 1 else 'get'} {it}, text it",
            )
        )
    message = rng.choice(load_pools().sms_messages)
    scene.keep(message)
    b.call("send_sms", numbers, message)
    m = message
    if m.endswith(("?", "!")):  # a question or exclamation reads badly after "that"
        options = [
            f"text {people}: {m}",
            f'text {people} "{m}"',
            f"ask {people} by text: {m}",
            f"sms {people}: {m}",
            f'shoot {people} a text: "{m}"',
            f"message {people}: {m}",
            f"ask {people}: {m}",
            f"text {people} and ask: {m}",
        ]
    else:
        options = [
            f"text {people} that {m}",
            f"text {people}: {m}",
            f"send a text to {people} saying {m}",
            f"shoot {people} a text, {m}",
            f"ping {people} that {m}",
            f"let {people} know {m}",
            f'text {people} "{m}"',
            f"message {people} that {m}",
            f"sms {people}: {m}",
            f"tell {people} by text {m}",
            f"send {people} a quick text: {m}",
        ]
        if _is_statement(m):
            them = group[0].pronoun if len(group) == 1 else "them"
            options += [
                f"tell {people} {m}",
                f"give {people} a heads-up that {m}",
                f"let {people} know that {m}",
                f"text {people} to let {them} know {m}",
                f"can you text {people} and make sure {_SUBJECT[them]} {'know' if them == 'them' else 'knows'} {m}",
            ]
    if len(group) > 1:
        options += [f"group text {people}: {m}", f"text everyone ({people}): {m}"]
    if len(group) == 1 and group[0].phone and group[0].owner and people == group[0].phone:
        owner = group[0].owner
        options = [
            f"{owner}'s number is {people}, text them: {m}",
            f"text {owner} at {people}: {m}",
            f"{owner} is at {people}. Send a text: {m}",
            f"here's {owner}'s number, {people} — text: {m}",
        ]
    elif len(group) == 1 and not group[0].is_literal and people == group[0].name and not m.endswith(("?", "!")):
        pron = group[0].pronoun
        options += [
            f"{people} is waiting on me, text {pron} {m}",
            f"{people} should know {m}, shoot {pron} a text",
            f"{people} doesn't know yet that {m}. Text {pron}",
            f"{people} needs to hear that {m} — let {pron} know by text",
        ]
    return rng.choice(options)


def reply(scene: Scene) -> str:
    rng, b = scene.rng, scene.builder
    carried = _content_np(scene) if scene.must_consume or scene.chance(0.7) else None
    attach_words, attachments, _ = _attachment(scene, 0.0 if carried else 0.2)
    cc_words, cc = _cc(scene, 0.2)
    if carried:
        ref, it, _subject = carried
        b.call("reply_to_email", cc, ref, [])
        return rng.choice(
            (
                f"reply to this email with {it}{cc_words}",
                f"answer this one with {it}{cc_words}",
                f"respond with {it}{cc_words}",
                f"write back with {it}{cc_words}",
                f"get back to them with {it}{cc_words}",
            )
        )
    if attachments and scene.chance(0.5):
        b.call("reply_to_email", cc, "", attachments)
        return rng.choice(
            (f"reply with {attach_words} attached{cc_words}", f"answer this email and attach {attach_words}{cc_words}")
        )
    context = rng.choice(load_pools().reply_contexts)
    scene.keep(context)
    b.call("reply_to_email", cc, context, attachments)
    attached = f", attach {attach_words}" if attachments else ""
    return rng.choice(
        (
            f"reply saying {context}{cc_words}{attached}",
            f"reply to this: {context}{cc_words}{attached}",
            f"respond to this email, tell them {context}{cc_words}{attached}",
            f"write back {context}{cc_words}{attached}",
            f"answer this one, say {context}{cc_words}{attached}",
            f'reply "{context}"{cc_words}{attached}',
            f"get back to them and say {context}{cc_words}{attached}",
            f"write back to this email: {context}{cc_words}{attached}",
            f"reply to the sender, {context}{cc_words}{attached}",
            f"answer the email I'm looking at: {context}{cc_words}{attached}",
        )
    )


def forward(scene: Scene) -> str:
    rng, b = scene.rng, scene.builder
    attach_words, attachments, _ = _attachment(scene, 0.1)
    group, people = scene.pick_people(3, literal="email", literal_p=0.15)
    recipients = [b.email_of(p) for p in group]
    cc_words, cc = _cc(scene, 0.25)
    note_words, note = "", ""
    if scene.chance(0.35):
        note = rng.choice(load_pools().forward_notes)
        scene.keep(note)
        note_words = rng.choice((f" with a note saying {note}", f", {note}", f' and add "{note}"'))
    b.call("forward_email", recipients, cc, note, attachments)
    attached = f" with {attach_words} attached" if attachments else ""
    return rng.choice(
        (
            f"forward this to {people}{attached}{note_words}{cc_words}",
            f"fwd this email to {people}{attached}{cc_words}{note_words}",
            f"pass this along to {people}{cc_words}{attached}{note_words}",
            f"send this email on to {people}{attached}{note_words}{cc_words}",
            f"forward the email I'm reading to {people}{note_words}{cc_words}{attached}",
            f"share this email with {people}{attached}{note_words}{cc_words}",
            f"send this one on to {people}{attached}{note_words}{cc_words}",
            f"pass this message along to {people}{attached}{cc_words}{note_words}",
            f"send the email I have open to {people}{note_words}{cc_words}{attached}",
            f"loop {people} in on this email{attached}{note_words}{cc_words}",
            f"send {people} a copy of this email{attached}{cc_words}{note_words}",
            f"get this email over to {people}{cc_words}{note_words}{attached}",
        )
        + _forward_context_first(group, people, attached + note_words + cc_words)
    )


def _forward_context_first(group: list[Person], people: str, extra: str) -> tuple[str, ...]:
    """Forward phrasings that say who should see the email before the command (none for pronouns)."""
    if people in ("her", "him", "them", "both of them", "all of them", "everyone"):
        return ()
    them = group[0].pronoun if len(group) == 1 else "them"
    one = len(group) == 1
    return (
        f"{people} {'hasn' if one else 'haven'}'t seen this email, forward it to {them}{extra}",
        f"{people} should see this email — forward it{extra}",
        f"can you make sure {people} {'gets' if one else 'get'} this email? forward it{extra}",
        f"{people} {'needs' if one else 'need'} this email, send it on to {them}{extra}",
    )


def save_to_note(scene: Scene) -> str:
    """Put a produced result into a new note or append it to one."""
    rng, b = scene.rng, scene.builder
    carried = _content_np(scene)
    if carried is None:
        return append_note(scene) if scene.chance(0.5) else create_note(scene)
    ref, it, _subject = carried
    name = rng.choice(load_pools().note_names)
    scene.keep(name)
    if scene.chance(0.5):
        folder_words, folder = folder_phrase(scene, 0.35)
        b.call("create_note", name, ref, folder or "Notes")
        return rng.choice(
            (
                f"save {it} in a note called {name}{folder_words}",
                f"put {it} in a new note {name}{folder_words}",
                f"make a note {name}{folder_words} with {it}",
                f"start a new note called {name}{folder_words} and put {it} in it",
                f"write {it} down in a new note, {name}{folder_words}",
            )
        )
    folder_words, folder = folder_phrase(scene, 0.25)
    b.call("append_note_content", name, ref, folder or "")
    return rng.choice(
        (
            f"add {it} to my {name} note{folder_words}",
            f"append {it} to the {name} note{folder_words}",
            f"tack {it} onto my {name} note{folder_words}",
            f"stick {it} in my {name} note{folder_words}",
            f"update my {name} note{folder_words} with {it}",
        )
    )


def relay(scene: Scene) -> str:
    """A producer (PDF summary, note) and a consumer (email, text, note, reply) that takes its result."""
    rng = scene.rng
    producer = summarize if scene.chance(0.65) else read_note
    first = producer(scene)
    consumer = rng.choices((email, sms, save_to_note, reply), weights=(40, 25, 25, 10))[0]
    if producer is read_note and consumer is save_to_note:
        consumer = email
    scene.must_consume = True
    second = consumer(scene)
    scene.must_consume = False
    scene.tags.append("relay")
    return rng.choice(
        (
            f"{first} and {second}",
            f"{first}, then {second}",
            f"{first}, {second}",
            f"{first}. {second}",
            f"{first} — {second}",
            f"{first}; once that's done, {second}",
            f"{first}. After that, {second}",
        )
    )


def share_summary(scene: Scene) -> str:
    """Someone needs a PDF's content, said before the command: "Ana hasn't read the SOW, send her the gist".

    The plan opens and summarizes the file first, then looks the people up and sends the summary,
    the same order as a relay said in plan order.
    """
    rng, b = scene.rng, scene.builder
    group, people = scene.pick_people(2, literal="email", literal_p=0.05)
    if people in ("her", "him", "them", "both of them", "all of them", "everyone"):
        group = scene.new_people(1)
        scene.people = group
        people = group[0].name
    words, name = file_phrase(scene)
    summary = b.call("summarize_pdf", b.once("open_and_get_file_path", name))
    one = len(group) == 1
    them = group[0].pronoun if one else "them"
    needs, has = ("needs", "hasn't") if one else ("need", "haven't")
    by_text = scene.chance(0.35) and not any(p.is_literal for p in group)
    if by_text:
        b.call("send_sms", [b.phone_of(p) for p in group], summary)
        how = rng.choice(("text", "text it to", "send it by text to"))
        options: tuple[str, ...] = (
            f"{people} {needs} the gist of {words} — summarize it and {how} {them}",
            f"{people} {has} read {words}. Summarize it and text {them} the summary",
            f"can you summarize {words}? {people} {needs} the key points, text them to {them}",
        )
    else:
        b.call("compose_new_email", [b.email_of(p) for p in group], [], f"{capitalized(name)} summary", summary, [])
        options = (
            f"{people} {needs} a summary of {words}, email it to {them}",
            f"{people} {has} read {words} yet — summarize it and email {them} the summary",
            f"{people} asked what {words} says. Summarize it and send {them} the summary by email",
            f"make sure {people} {'gets' if one else 'get'} the key points of {words}: summarize it and email {them}",
        )
    scene.tags.append("relay")
    return rng.choice(options)
