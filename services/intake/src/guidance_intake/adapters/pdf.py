"""Printable documents as PDF/A, rendered by WeasyPrint from the same templates the HTML views print.

A document in Chinese needs a CJK font on the machine that renders it, and a plain Debian server has
none (Debian's ``fonts-noto-cjk`` brings Noto Serif/Sans CJK; ``./run-tests`` and the image install it).
Without one the characters would come out as empty boxes with nothing said: instead the renderer
asks fontconfig for a font covering Chinese first, and when there is none it still renders, with a
notice printed at the head of the document and returned to the caller, so a package made on
such a machine says so in its manifest and in the answer to whoever asked for it.

WeasyPrint (and pango, through it) is imported on first use, not at import.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

# PDF/A-2u: archival PDF with every font embedded and every character mapped to Unicode (text stays searchable).
PDF_VARIANT = "pdf/a-2u"
PDFA_PART, PDFA_CONFORMANCE = "2", "U"
# The package's templates/ folder, which the HTML views use too.
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FONT_MISSING_ZH = "本机未安装中文字体（如 Debian 的 fonts-noto-cjk），本件中的汉字可能无法显示，请安装字体后重新生成。"
FONT_MISSING_EN = (
    "No CJK font is installed where this PDF was rendered (e.g. Debian's fonts-noto-cjk): Chinese text may not "
    "show; install one and produce the package again."
)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def cjk_fonts() -> tuple[str, ...]:
    """The font families fontconfig offers for Chinese (``fc-list :lang=zh``); empty when there are none.

    Asked each time (it takes milliseconds): a font installed while a service runs counts from the next package.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:  # no fontconfig tools: nothing can be said to cover Chinese
        return ()
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False)
    families = {line.split(",")[0].strip() for line in found.stdout.splitlines() if line.strip()}
    return tuple(sorted(families))


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    cjk_font: bool  # False: rendered without a CJK font, with the notice printed on it


class PdfRenderer:
    """Renders a template of ``templates/`` to PDF/A-2u; one instance per package (it checks the fonts once)."""

    def __init__(self) -> None:
        self.fonts = cjk_fonts()

    @property
    def font_notice(self) -> str | None:
        return None if self.fonts else FONT_MISSING_ZH

    def render(self, template: str, **context: Any) -> Rendered:
        """The template rendered with ``context`` (and the font notice, if any) as PDF/A-2u."""
        html = _environment().get_template(template).render(font_notice=self.font_notice, **context)
        return Rendered(_pdf(html), cjk_font=bool(self.fonts))


def _pdf(html: str) -> bytes:
    import weasyprint  # loads pango: on first use, not at import

    # WeasyPrint's warnings quote the document's text (a glyph missing from the fonts names its character, a
    # person's name among them): personal data never goes to the logs, so only its errors are let through.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    # The page's <title> becomes the PDF's title (metadata and XMP); no resource is fetched (the templates load none).
    pdf: bytes = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
