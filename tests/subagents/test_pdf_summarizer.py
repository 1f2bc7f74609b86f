"""The PDF summarizer on real PDFs: extraction, bad files, caching, map-reduce, grounding, the real model."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter

from pocketagent.backends.demo_mail_files import demo_documents, text_pdf
from pocketagent.errors import ToolError
from pocketagent.subagents.pdf_summarizer import (
    PdfSummarizer,
    extractive_summary,
    grounded,
    read_pdf_text,
    split_chunks,
)


def write_pdf(directory: Path, relative: str) -> Path:
    title, paragraphs = demo_documents()[relative]
    path = directory / Path(relative).name
    path.write_bytes(text_pdf(title, paragraphs))
    return path


@pytest.fixture
def sublease(tmp_path) -> Path:
    return write_pdf(tmp_path, "Documents/Housing/sublease.pdf")


@pytest.fixture
def policy(tmp_path) -> Path:
    return write_pdf(tmp_path, "Documents/Insurance/insurance policy.pdf")


def test_extractive_summary_without_a_model(sublease):
    summary = PdfSummarizer().summarize_pdf(str(sublease))
    assert summary.startswith("Sublease Agreement: This sublease is made between Alex Kim (sublessor) and Jordan Ellis")
    assert "$2,350 per month" in summary and len(summary) <= 600


def test_repeated_boilerplate_does_not_crowd_out_content(policy):
    text = read_pdf_text(policy)
    assert text.count("General condition") == 12  # three pages of near-identical conditions
    summary = extractive_summary(text)
    assert summary.count("General condition") <= 1
    assert "2209 Fulton Street" in summary


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda d: d / "missing.pdf", "no such file: .*missing.pdf; find the file with open_and_get_file_path"),
        (lambda d: d, "is a folder, not a PDF"),
        (lambda d: _write(d / "notes.txt", b"just text"), r"notes.txt is not a PDF \(it is a .txt file\)"),
        (lambda d: _docx(d / "offer.docx"), r"offer.docx is not a PDF \(it is a .docx file\)"),
        (lambda d: _write(d / "bad.pdf", b"%PDF-1.4\n1 0 obj garbage"), "bad.pdf is damaged or not a valid PDF"),
        (lambda d: _blank(d / "scan.pdf"), "scan.pdf has no text layer .*run OCR"),
        (lambda d: _encrypted(d / "locked.pdf", "secret"), "locked.pdf is encrypted and needs a password"),
        (lambda d: _aes256(d / "aes.pdf"), "aes.pdf is encrypted"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path, make, error):
    path = make(tmp_path)
    with pytest.raises(ToolError, match=error):
        PdfSummarizer().summarize_pdf(str(path))


def test_empty_path_and_quoted_path(sublease):
    with pytest.raises(ToolError, match="no PDF path given"):
        PdfSummarizer().summarize_pdf("  ")
    assert PdfSummarizer().summarize_pdf(f'"{sublease}"').startswith("Sublease Agreement")


def test_owner_password_only_pdf_is_readable(tmp_path, sublease):
    locked = _encrypted(tmp_path / "restricted.pdf", "", source=sublease)
    assert "Jordan Ellis" in PdfSummarizer().summarize_pdf(str(locked))


def test_map_reduce_over_chunks(policy, scripted):
    def reply(messages):
        prompt = messages[-1].content
        if prompt.startswith("These are notes"):
            return "The policy covers the dwelling for $850,000 with a $2,500 deductible. Flood is excluded."
        return "This part sets out conditions for claims under policy HO-4471-2026."

    llm = scripted(reply)
    summarizer = PdfSummarizer(llm, chunk_chars=1200, max_chunks=4)
    summary = summarizer.summarize_pdf(str(policy))
    assert summary == "The policy covers the dwelling for $850,000 with a $2,500 deductible. Flood is excluded."
    assert len(split_chunks(read_pdf_text(policy), 1200)) > 4  # so the chunks were sampled
    assert summarizer.llm_calls == 5 and len(llm.prompts) == 5  # 4 map calls + 1 reduce
    assert all(options.max_tokens == 160 for options in llm.options)


def test_invented_numbers_are_dropped(sublease, scripted):
    invented = (
        "The sublease has a 22-year term. Rent is $2,350 per month. Rent is $2,350 per month. "
        "The landlord approved it in writing."
    )
    summary = PdfSummarizer(scripted(lambda m: invented)).summarize_pdf(str(sublease))
    assert summary == "Rent is $2,350 per month. The landlord approved it in writing."
    assert grounded("It costs $99 and lasts 7 years.", "no numbers here") == ""


def test_unusable_model_output_falls_back_to_extractive(sublease, scripted):
    summary = PdfSummarizer(scripted(lambda m: "  ")).summarize_pdf(str(sublease))
    assert summary == extractive_summary(read_pdf_text(sublease))


def test_cache_per_file_version(tmp_path, sublease, scripted):
    llm = scripted(lambda m: "The sublease for 2209 Fulton Street runs to June 30, 2027 at $2,350 a month.")
    summarizer = PdfSummarizer(llm, cache_dir=tmp_path / "cache")
    first = summarizer.summarize_pdf(str(sublease))
    assert summarizer.summarize_pdf(str(sublease)) == first and len(llm.prompts) == 1
    (cached,) = (tmp_path / "cache").glob("*.json")
    assert json.loads(cached.read_text())["summary"] == first
    title, paragraphs = demo_documents()["Documents/Housing/sublease.pdf"]
    sublease.write_bytes(text_pdf(title + " (amended)", paragraphs))  # new size: a new cache entry
    summarizer.summarize_pdf(str(sublease))
    assert len(llm.prompts) == 2 and len(list((tmp_path / "cache").glob("*.json"))) == 2
    assert PdfSummarizer(cache_dir=tmp_path / "cache").summarize_pdf(str(sublease)) != first  # extractive: own key


@pytest.mark.model
def test_real_model_summary_is_grounded_and_cached(tmp_path, sublease, small_model):
    summarizer = PdfSummarizer(small_model, cache_dir=tmp_path / "cache", max_tokens=96)
    summary = summarizer.summarize_pdf(str(sublease))
    source = read_pdf_text(sublease)
    assert len(summary) >= 40
    for number in re.findall(r"\d[\d,]*", summary):
        assert number.rstrip(",").replace(",", "") in source.replace(",", "")
    calls = summarizer.llm_calls
    assert summarizer.summarize_pdf(str(sublease)) == summary and summarizer.llm_calls == calls


# -- bad files ---------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return path


def _blank(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _encrypted(path: Path, user_password: str, source: Path | None = None) -> Path:
    if source is None:
        source = _write(path.with_suffix(".src.pdf"), text_pdf("Secret", ["Quarterly numbers, not for sharing."]))
    writer = PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _aes256(path: Path) -> Path:
    """A PDF that declares AES-256 (R6) encryption; opening it needs a password or AES support."""
    data = text_pdf("Secret", ["AES protected."])
    encrypt = (
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 "
        b"/CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV3 /Length 32 >> >> /StmF /StdCF /StrF /StdCF "
        b"/O <" + b"11" * 48 + b"> /U <" + b"22" * 48 + b"> /OE <" + b"33" * 32 + b"> /UE <" + b"44" * 32
        + b"> /Perms <" + b"55" * 16 + b"> >>"
    )  # fmt: skip
    data = data.replace(
        b"trailer\n<< ",
        b"trailer\n<< /Encrypt "
        + encrypt
        + b" /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] ",
    )
    return _write(path, data)
