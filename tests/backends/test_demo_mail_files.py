"""The demo mail and files: real PDFs with text, an inbox with threads, safe to run twice, usable by the tools."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from pocketagent.backends.demo_mail_files import demo_documents, text_pdf, write_demo_mail_and_files
from pocketagent.backends.local.files import LocalFiles
from pocketagent.backends.local.mail import MaildirMail, plain_text
from pocketagent.backends.opener import DesktopOpener
from pocketagent.subagents.pdf_summarizer import PdfSummarizer, read_pdf_text

NOW = datetime(2026, 11, 23, 10, 0, 0)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    write_demo_mail_and_files(home, NOW)
    return home


def test_every_demo_pdf_is_valid_with_its_text(home):
    for relative, (title, paragraphs) in demo_documents().items():
        path = home / "files" / relative
        reader = PdfReader(str(path))
        assert reader.metadata.title == title
        text = read_pdf_text(path)
        assert text.startswith(title)
        last_words = paragraphs[-1].split()[-4:]
        assert " ".join(last_words) in " ".join(text.split())


def test_long_pdfs_span_pages_and_non_latin1_text_survives(tmp_path):
    assert len(PdfReader(_write(tmp_path / "long.pdf", "Long", ["word " * 2000])).pages) > 1
    text = read_pdf_text(_write(tmp_path / "cafe.pdf", "Café (draft) \\ notes", ["Crème brûlée — 5 € – “quoted”"]))
    assert "Café (draft) \\ notes" in text and "Crème brûlée — 5 € – “quoted”" in text


def _write(path: Path, title: str, paragraphs: list[str]) -> Path:
    path.write_bytes(text_pdf(title, paragraphs))
    return path


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("insurance policy", "insurance policy.pdf"),
        ("sublease", "sublease.pdf"),
        ("offsite budget", "offsite budget.pdf"),
        ("budget", "budget.pdf"),
        ("itinerary", "itinerary.pdf"),
        ("NDA", "NDA.pdf"),
        ("hackathon rules", "hackathon rules.pdf"),
        ("RFP", "RFP.pdf"),
        ("technical annex", "technical annex.pdf"),
        ("signed offer letter", "signed offer letter.pdf"),
        ("headcount spreadsheet", "headcount.csv"),
        ("transcript", "transcript.pdf"),
    ],
)
def test_the_planner_file_names_find_demo_files(home, query, name):
    files = LocalFiles([home / "files"], opener=DesktopOpener(enabled=False))
    assert Path(files.open_and_get_file_path(query)).name == name


def test_summaries_of_demo_pdfs(home):
    files = LocalFiles([home / "files"], opener=DesktopOpener(enabled=False))
    summary = PdfSummarizer().summarize_pdf(files.open_and_get_file_path("insurance policy"))
    assert summary.startswith("Homeowners Insurance Policy:") and "2209 Fulton Street" in summary


def test_inbox_threads_and_newest_message(home):
    mail = MaildirMail(home / "mail", identity="Alex Kim <alex.kim@example.com>", state_file=home / "state.json")
    summaries = mail.inbox_summaries()
    assert len(summaries) == 7
    assert summaries[0].subject == "Design review Wednesday"  # the newest is "the selected email"
    _, newest = mail.selected_message()
    assert "Maëlle" in str(newest["From"])
    thread = [s for s in summaries if "Q4 budget review" in s.subject]
    assert [s.subject for s in thread] == ["Re: Q4 budget review", "Q4 budget review"]
    assert mail.message(thread[0].key)["In-Reply-To"] == thread[1].message_id
    sublease = next(s for s in summaries if s.subject.startswith("Sublease"))
    (attachment,) = mail.message(sublease.key).iter_attachments()
    assert attachment.get_filename() == "sublease.pdf" and attachment.get_content().startswith(b"%PDF-1.4")
    assert "Thursday" in plain_text(newest)


def test_running_twice_adds_nothing_and_keeps_user_edits(tmp_path):
    first = write_demo_mail_and_files(tmp_path, NOW)
    assert len([p for p in first if p.suffix == ".pdf"]) == len(demo_documents())
    assert sum(1 for p in first if "mail" in p.parts) == 7
    edited = tmp_path / "files" / "Work" / "headcount.csv"
    edited.write_text("mine\n")
    assert write_demo_mail_and_files(tmp_path, NOW) == []
    assert edited.read_text() == "mine\n"
    assert len(MaildirMail(tmp_path / "mail", identity="a@example.com").inbox_summaries()) == 7
