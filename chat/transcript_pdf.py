"""A transcript (chat.transcripts) as a PDF, with fpdf2.

fpdf2's core fonts cover Latin-1 only (no ğ ş ı İ), so the PDF needs a Unicode
TrueType font, read from SOHBET_PDF_FONT (Debian's fonts-dejavu-core by default; the
repository ships no font). Without it there is no PDF: ``is_available`` is False,
the download links offer HTML only, and ``manage.py check`` warns (chat.W006).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from fpdf import FPDF

from chat.transcripts import Transcript

FONT = "sohbet"


class PdfUnavailable(Exception):
    """SOHBET_PDF_FONT names no readable TrueType font."""


def font_files() -> tuple[Path, Path] | None:
    """The regular font and its bold (``<name>-Bold.ttf`` beside it, else the
    regular again); None when SOHBET_PDF_FONT is not a file."""
    regular = Path(settings.SOHBET_PDF_FONT)
    if not regular.is_file():
        return None
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    return regular, bold if bold.is_file() else regular


def is_available() -> bool:
    return font_files() is not None


def render_pdf(transcript: Transcript) -> bytes:
    """The transcript as PDF bytes, in the active language. Message text is drawn
    as text (no markup is read from it). Raises PdfUnavailable."""
    fonts = font_files()
    if fonts is None:
        raise PdfUnavailable(settings.SOHBET_PDF_FONT)
    pdf = FPDF(format="A4")
    pdf.set_title(_("Conversation #%(id)s") % {"id": transcript.thread.pk})
    pdf.set_creator(transcript.site_name)
    pdf.add_font(FONT, "", str(fonts[0]))
    pdf.add_font(FONT, "B", str(fonts[1]))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    _header(pdf, transcript)
    for line in transcript.lines:
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(82, 96, 109)
        pdf.multi_cell(0, 5, f"{line.name} · {line.at}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(31, 41, 51)
        pdf.set_font(FONT, "", 11)
        if line.body:
            pdf.multi_cell(0, 5.5, line.body, align="L", new_x="LMARGIN", new_y="NEXT")
        if line.file is not None:
            pdf.set_text_color(29, 78, 216)
            label = f"{_('File')}: {line.file.name} ({filesizeformat(line.file.size)})"
            pdf.multi_cell(
                0, 5.5, label, link=line.file.url, new_x="LMARGIN", new_y="NEXT"
            )
            pdf.set_text_color(31, 41, 51)
        pdf.ln(3)
    if transcript.truncated:
        count = len(transcript.lines)
        pdf.multi_cell(
            0, 6, _("Only the first %(count)d messages are shown.") % {"count": count}
        )
    _files(pdf, transcript)
    return bytes(pdf.output())


def _header(pdf: FPDF, transcript: Transcript) -> None:
    pdf.set_font(FONT, "B", 16)
    title = _("Conversation #%(id)s") % {"id": transcript.thread.pk}
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    visitor = transcript.visitor
    who = visitor.display_name + (f" <{visitor.email}>" if visitor.email else "")
    rows = [(_("Visitor"), who), (_("Started at"), transcript.started_at)]
    if transcript.closed_at:
        rows.append((_("Closed at"), transcript.closed_at))
    rows.append((_("Time zone"), transcript.time_zone))
    for label, value in rows:
        pdf.multi_cell(0, 5.5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _files(pdf: FPDF, transcript: Transcript) -> None:
    files = transcript.files
    if not files:
        return
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, _("Files"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for file in files:
        text = f"{file.name} · {file.content_type} · {filesizeformat(file.size)}"
        pdf.set_text_color(29, 78, 216)
        pdf.multi_cell(0, 5.5, text, link=file.url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(31, 41, 51)
