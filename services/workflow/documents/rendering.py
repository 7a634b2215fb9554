"""A document as a printable PDF (A4), Chinese text embedded and extractable.

fpdf2 embeds a subset of the TrueType font (Identity-H, with a ToUnicode map), so the
text can be searched, copied and read back (the tests extract it with pypdf). The font
is WenQuanYi Micro Hei (文泉驿微米黑, TrueType outlines) from the `paperang-p2-fonts-cjk`
wheel: installed by pip with the project, no system font package on any machine or
image. (An OpenType/CFF font such as Noto Sans SC makes fpdf2 write a custom encoding
CMap that pypdf and pdfminer cannot read the text back from.)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from services.workflow.documents.service import Document

_FONT = "WenQuanYiMicroHei"


@lru_cache
def _font_path() -> Path:
    import paperang_p2_fonts_cjk

    return Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"


def render(document: Document) -> bytes:
    # Imported here, not at the top: fpdf2 (with fontTools and its image parsers) adds
    # ~30 MB to every workflow process, and most never render a PDF (bench/idle.py).
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(document.title)
    pdf.set_creator("Sanshe workflow")
    pdf.add_font(_FONT, fname=str(_font_path()), collection_font_number=0)
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(_FONT, size=20)
    pdf.cell(width, 14, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=11)
    pdf.cell(width, 8, document.number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in (
        ("申请人", document.applicant),
        ("办件编号", document.case_number),
        ("申请事项", document.case_title),
    ):
        pdf.multi_cell(width, 7, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(_FONT, size=12)
    for paragraph in document.paragraphs:
        pdf.multi_cell(width, 8, paragraph, new_x="LMARGIN", new_y="NEXT")
    for number, item in enumerate(document.items, start=1):
        pdf.multi_cell(width, 8, f"{number}. {item}", new_x="LMARGIN", new_y="NEXT")
    for paragraph in document.closing:
        pdf.multi_cell(width, 8, paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.cell(width, 8, "庐阳区民政局（印章）", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 8, f"{document.issued_on:%Y年%m月%d日}", align="R")
    return bytes(pdf.output())
