"""`pocketagent init` (create the workspace, optionally with demo data) and `pocketagent mail ...`.

Wire into the main app with `register(app)`. Errors are one-line messages: exit 2 for
configuration problems, 1 for everything else (an unknown message key, an unreadable file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.errors import CommandLineError, ConfigError, ToolError

if TYPE_CHECKING:
    from pocketagent.settings import Settings

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="Workspace folder (default: $POCKETAGENT_HOME or the config's home).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
EXAMPLE_REQUEST = "email Sid the summary of budget.pdf and put a review on Friday at 3"


def _settings(home: Path | None) -> Settings:
    from pocketagent.settings import load_settings

    return load_settings(home=home)


def _relative(path: Path, home: Path) -> str:
    try:
        text = path.relative_to(home).as_posix()
    except ValueError:
        return str(path)
    return f"{text}/" if path.is_dir() else text


# -- init -------------------------------------------------------------------------------


@reports_errors
def init(
    demo: Annotated[
        bool, typer.Option("--demo", help="Also write demo contacts, calendars, notes, mail and files.")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Create the workspace folders (contacts, calendars, notes, mail, files, sms); never overwrites files."""
    from rich.console import Console
    from rich.markup import escape

    from pocketagent.backends.provider import WorkspaceLayout, create_workspace

    out = Console(highlight=False, soft_wrap=True)
    settings = _settings(home)
    layout = WorkspaceLayout.of(settings)
    created = create_workspace(settings)
    demo_files = _write_demo(settings) if demo else []
    out.print(f"Workspace: [bold]{escape(str(layout.home))}[/]")
    for path in created:
        if path != layout.home:
            out.print(f"  created {escape(_relative(path, layout.home))}")
    if demo:
        out.print(_demo_report(demo_files, layout.home))
    elif not created:
        out.print("  already set up; nothing changed")
    if home is not None:
        out.print(f'Use it with: export POCKETAGENT_HOME={escape(str(layout.home))}  (or home = "..." in the config)')
    if demo and demo_files:
        out.print(f'Try: pocketagent run "{EXAMPLE_REQUEST}"')


def _write_demo(settings: Settings) -> list[Path]:
    from pocketagent.backends.dates import DateRules
    from pocketagent.backends.demo_contacts import write_demo_personal_data
    from pocketagent.backends.demo_mail_files import DEMO_USER, write_demo_mail_and_files
    from pocketagent.backends.provider import WorkspaceLayout, mail_identity

    home = WorkspaceLayout.of(settings).home
    now = settings.current_time()
    rules = DateRules.from_names(settings.timezone, "allow")
    user = mail_identity(settings) if settings.mail_address else DEMO_USER
    return write_demo_personal_data(home, now, rules) + write_demo_mail_and_files(home, now, user=user)


def _demo_report(written: list[Path], home: Path) -> str:
    if not written:
        return "  demo data: already there; nothing changed"
    counts: dict[str, int] = {}
    for path in written:
        top = path.relative_to(home).parts[0] if path.is_relative_to(home) else str(path.parent)
        counts[top] = counts.get(top, 0) + 1
    shown = ", ".join(f"{count} in {name}/" for name, count in sorted(counts.items()))
    return f"  demo data: {len(written)} files ({shown})"


# -- mail -------------------------------------------------------------------------------


def _mailbox(settings: Settings) -> Any:
    from pocketagent.backends.provider import WorkspaceLayout, open_maildir

    if settings.mail_backend.strip().lower() != "local":
        raise ConfigError(
            f"`pocketagent mail` works on the workspace Maildir; mail_backend is {settings.mail_backend!r}"
        )
    layout = WorkspaceLayout.of(settings)
    if not layout.mail.is_dir():
        raise ConfigError(f"no mail folder at {layout.mail}; create the workspace with `pocketagent init`")
    return open_maildir(settings)


def _summary_json(number: int, summary: Any) -> dict[str, Any]:
    return {
        "number": number,
        "key": summary.key,
        "date": summary.date.isoformat() if summary.date else None,
        "from": summary.sender,
        "subject": summary.subject,
        "message_id": summary.message_id,
        "selected": summary.selected,
    }


@reports_errors
def mail_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many messages.")] = 20,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """List inbox messages, newest first; * marks the selected email (replies and forwards use it)."""
    from rich.console import Console
    from rich.markup import escape

    summaries = _mailbox(_settings(home)).inbox_summaries()
    shown = summaries[:limit]
    if as_json:
        typer.echo(
            json.dumps(
                {"messages": [_summary_json(i, s) for i, s in enumerate(shown, 1)]}, ensure_ascii=False, indent=2
            )
        )
        return
    if not shown:
        typer.echo("The inbox is empty.")
        return
    selected_any = any(s.selected for s in summaries)
    out = Console(highlight=False, soft_wrap=True)
    for number, summary in enumerate(shown, 1):
        mark = "*" if summary.selected or (not selected_any and number == 1) else " "
        when = summary.date.strftime("%a %d %b %H:%M") if summary.date else "(no date)"
        out.print(f"{mark}{number:>3}  {when}  {escape(_short(summary.sender, 32)):<32}  {escape(summary.subject)}")
        out.print(f"       [dim]key {escape(summary.key)}[/]")
    if not selected_any:
        out.print('[dim]* = the newest message, used as "this email" until you `pocketagent mail select` one[/]')


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _resolve_key(mail: Any, key: str) -> str:
    """A list number ("2") becomes that message's key; anything else is a key or Message-ID."""
    wanted = key.strip()
    if wanted.isdigit():
        summaries = mail.inbox_summaries()
        number = int(wanted)
        if not 1 <= number <= len(summaries):
            raise ToolError(f"there is no message number {number}; the inbox has {len(summaries)}")
        found: str = summaries[number - 1].key
        return found
    return wanted


@reports_errors
def mail_select(
    key: Annotated[str | None, typer.Argument(help="Number from `mail list`, Maildir key or Message-ID.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Forget the selection (the newest message is used).")] = False,
    home: HomeOpt = None,
) -> None:
    """Mark the email that "reply to this" and "forward this" mean."""
    if (key is None) == (not clear):
        raise CommandLineError("give a KEY to select, or --clear")
    mail = _mailbox(_settings(home))
    if clear:
        mail.clear_selection()
        typer.echo('Selection cleared: "this email" is the newest inbox message.')
        return
    summary = mail.select_message(_resolve_key(mail, key or ""))
    typer.echo(f"Selected: {summary.subject!r} from {summary.sender}")


@reports_errors
def mail_show(
    key: Annotated[
        str | None, typer.Argument(help="Number from `mail list`, key or Message-ID (default: the selected email).")
    ] = None,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Show a message (by default the selected email): headers, text and attachment names."""
    from pocketagent.backends.local.mail import plain_text

    mail = _mailbox(_settings(home))
    if key is None:
        found_key, message = mail.selected_message()
    else:
        found_key = _resolve_key(mail, key)
        message = _message_by_key_or_id(mail, found_key)
    attachments = [part.get_filename() or "attachment" for part in message.iter_attachments()]
    text = plain_text(message)
    headers = {name: str(message[name]) for name in ("From", "To", "Cc", "Date", "Subject") if message[name]}
    if as_json:
        payload = {"key": found_key, "headers": headers, "text": text, "attachments": attachments}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for name, value in headers.items():
        typer.echo(f"{name}: {value}")
    if attachments:
        typer.echo(f"Attachments: {', '.join(attachments)}")
    typer.echo("")
    typer.echo(text)


def _message_by_key_or_id(mail: Any, wanted: str) -> Any:
    for summary in mail.inbox_summaries():
        if wanted in (summary.key, summary.message_id, summary.message_id.strip("<>")):
            return mail.message(summary.key)
    raise ToolError(f"no inbox message with key or Message-ID {wanted!r}; see `pocketagent mail list`")


def register(app: typer.Typer) -> None:
    """Add `init` and the `mail` command group to the main CLI app."""
    app.command("init")(init)
    mail = typer.Typer(help='The workspace inbox: list messages, select "this email", show one.', no_args_is_help=True)
    mail.command("list")(mail_list)
    mail.command("select")(mail_select)
    mail.command("show")(mail_show)
    app.add_typer(mail, name="mail")
