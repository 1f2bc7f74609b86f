"""The 16 built-in tools of the contract (docs/plan-language.md), as typed functions.

Each function is the single source of the tool's name, positional signature, description
and argument docs. The work is delegated to an app backend (`ctx.apps.<app>`), chosen per
app in the settings; see `pocketagent.tools.apps`.
"""

from __future__ import annotations

from typing import Annotated

from pocketagent.tools.registry import MOMENT, VERBATIM, ToolContext, ToolRegistry

# Arguments the user says in so many words (names, files, places, addresses): the planner's
# grammar makes the model copy them from the request instead of retyping them.
Said = Annotated[str, VERBATIM]
SaidOrNone = Annotated[str | None, VERBATIM]
SaidList = Annotated[list[str], VERBATIM]
# "YYYY-MM-DD HH:MM:SS" on a day the request names: the model picks the day, never types it.
When = Annotated[str, MOMENT]


def get_phone_number(ctx: ToolContext, name: Said) -> str:
    """Looks a contact up by (fuzzy) name and returns a phone number.

    Args:
        name: the person's name as the user said it.
    """
    return ctx.apps.contacts.get_phone_number(name)


def get_email_address(ctx: ToolContext, name: Said) -> str:
    """Looks a contact up by (fuzzy) name and returns an email address.

    Args:
        name: the person's name as the user said it.
    """
    return ctx.apps.contacts.get_email_address(name)


def create_calendar_event(
    ctx: ToolContext,
    title: Said,
    start_date: When,
    end_date: When,
    location: Said,
    invitees: SaidList,
    notes: str,
    calendar: SaidOrNone,
) -> str:
    """Creates a calendar event (60 minutes unless told); invitees are email addresses; calendar None = default.

    Args:
        title: short title of the event.
        start_date: "YYYY-MM-DD HH:MM:SS".
        end_date: "YYYY-MM-DD HH:MM:SS".
        location: place or meeting link, "" if none.
        invitees: email addresses of people to invite, [] if none.
        notes: extra notes, "" if none.
        calendar: calendar name, None for the default calendar.
    """
    return ctx.apps.calendar.create_calendar_event(title, start_date, end_date, location, invitees, notes, calendar)


def open_and_get_file_path(ctx: ToolContext, file_name: Said) -> str:
    """Finds a file by (fuzzy) name, opens it and returns its path.

    Args:
        file_name: the file's name or a few words of it.
    """
    return ctx.apps.files.open_and_get_file_path(file_name)


def summarize_pdf(ctx: ToolContext, pdf_path: str) -> str:
    """Returns a summary of a PDF file.

    Args:
        pdf_path: path of the PDF, normally "$N" from open_and_get_file_path.
    """
    return ctx.apps.pdf.summarize_pdf(pdf_path)


def compose_new_email(
    ctx: ToolContext,
    recipients: SaidList,
    cc: SaidList,
    subject: str,
    context: Said,
    attachments: list[str],
) -> str:
    """Drafts a new email; context is what it should say (or "$N" results); attachments are file paths.

    Args:
        recipients: email addresses.
        cc: email addresses to copy, [] if none.
        subject: the subject line.
        context: what the email should say, or "$N" results to include.
        attachments: file paths ("$N" from open_and_get_file_path), [] if none.
    """
    return ctx.apps.mail.compose_new_email(recipients, cc, subject, context, attachments)


def reply_to_email(ctx: ToolContext, cc: SaidList, context: Said, attachments: list[str]) -> str:
    """Drafts a reply to the currently selected email; context is what it should say.

    Args:
        cc: email addresses to copy, [] if none.
        context: what the reply should say.
        attachments: file paths, [] if none.
    """
    return ctx.apps.mail.reply_to_email(cc, context, attachments)


def forward_email(
    ctx: ToolContext, recipients: SaidList, cc: SaidList, context: Said, attachments: list[str]
) -> str:
    """Forwards the currently selected email.

    Args:
        recipients: email addresses.
        cc: email addresses to copy, [] if none.
        context: a note to add above the forwarded message, "" if none.
        attachments: extra file paths, [] if none.
    """
    return ctx.apps.mail.forward_email(recipients, cc, context, attachments)


def maps_open_location(ctx: ToolContext, location: Said) -> str:
    """Shows a place on a map.

    Args:
        location: place name or address.
    """
    return ctx.apps.maps.maps_open_location(location)


def maps_show_directions(ctx: ToolContext, start_location: Said, end_location: Said, transport: str) -> str:
    """Shows directions; start "" = current location; transport "d" drive, "w" walk, "r" transit.

    Args:
        start_location: start place, "" for the current location.
        end_location: destination.
        transport: "d" driving, "w" walking, "r" public transit.
    """
    return ctx.apps.maps.maps_show_directions(start_location, end_location, transport)


def create_note(ctx: ToolContext, name: Said, content: Said, folder: str) -> str:
    """Creates a note in a folder ("Notes" unless the user names one).

    Args:
        name: the note's title.
        content: the note's text.
        folder: folder name, "Notes" by default.
    """
    return ctx.apps.notes.create_note(name, content, folder)


def open_note(ctx: ToolContext, name: Said, folder: Said) -> str:
    """Returns a note's content; folder "" = any folder.

    Args:
        name: the note's title.
        folder: folder name, "" for any folder.
    """
    return ctx.apps.notes.open_note(name, folder)


def append_note_content(ctx: ToolContext, name: Said, content: Said, folder: Said) -> str:
    """Appends text to an existing note; folder "" = any folder.

    Args:
        name: the note's title.
        content: text to append.
        folder: folder name, "" for any folder.
    """
    return ctx.apps.notes.append_note_content(name, content, folder)


def create_reminder(
    ctx: ToolContext, name: Said, due_date: When, notes: str, list_name: Said, priority: int, all_day: bool
) -> str:
    """Creates a reminder; due_date "" if no time; priority 0 none, 1 high, 5 medium, 9 low; all_day only if asked.

    Args:
        name: what to be reminded of.
        due_date: "YYYY-MM-DD HH:MM:SS", "" if no time was given.
        notes: extra notes, "" if none.
        list_name: reminder list, "" for the default list.
        priority: 0 none, 1 high, 5 medium, 9 low.
        all_day: True only for an all-day reminder.
    """
    return ctx.apps.reminders.create_reminder(name, due_date, notes, list_name, priority, all_day)


def send_sms(ctx: ToolContext, recipients: SaidList, message: Said) -> str:
    """Sends a text message to phone numbers (one message to all of them).

    Args:
        recipients: phone numbers ("$N" from get_phone_number).
        message: the text to send.
    """
    return ctx.apps.sms.send_sms(recipients, message)


def get_zoom_meeting_link(
    ctx: ToolContext, topic: Said, start_time: When, duration: int, meeting_invitees: SaidList
) -> str:
    """Creates a video meeting (60 minutes unless told) and returns its join link.

    Args:
        topic: the meeting's topic.
        start_time: "YYYY-MM-DD HH:MM:SS".
        duration: minutes, 60 by default.
        meeting_invitees: email addresses, [] if none.
    """
    return ctx.apps.meetings.get_zoom_meeting_link(topic, start_time, duration, meeting_invitees)


BUILTIN_FUNCTIONS = (
    get_phone_number,
    get_email_address,
    create_calendar_event,
    open_and_get_file_path,
    summarize_pdf,
    compose_new_email,
    reply_to_email,
    forward_email,
    maps_open_location,
    maps_show_directions,
    create_note,
    open_note,
    append_note_content,
    create_reminder,
    send_sms,
    get_zoom_meeting_link,
)

# Tools that change the user's data or send something; `--dry-run` skips them.
SIDE_EFFECT_TOOLS = frozenset(
    {
        "create_calendar_event",
        "compose_new_email",
        "reply_to_email",
        "forward_email",
        "create_note",
        "append_note_content",
        "create_reminder",
        "send_sms",
        "get_zoom_meeting_link",
    }
)


def register_builtin_tools(registry: ToolRegistry) -> ToolRegistry:
    """Add the 16 built-in tools to a registry (in the contract's order) and return it."""
    for func in BUILTIN_FUNCTIONS:
        registry.register(func, side_effect=func.__name__ in SIDE_EFFECT_TOOLS)
    return registry


def builtin_registry() -> ToolRegistry:
    """A new registry holding the 16 built-in tools."""
    return register_builtin_tools(ToolRegistry())
