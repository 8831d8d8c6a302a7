"""Builders of test documents: text PDFs with Japanese (no font on the machine needed), image
only and encrypted PDFs, Office files, a zip bomb dressed as DOCX, CP932 text.

``build_pdf`` writes the PDF by hand: a Type0 font with Identity-H encoding whose character
ids are the text's Unicode code points, and a ToUnicode map saying so. No glyphs are
embedded (nothing renders), but the text layer is exact, which is what parsers read. It is
plain string building, fast enough for a benchmark's hundreds of pages.
"""

from __future__ import annotations

import io
import zipfile
import zlib

_CMAP = """/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""

LINE_CHARS = 40


def _hex(text: str) -> str:
    return "".join(f"{ord(ch):04X}" for ch in text if ord(ch) <= 0xFFFF)


def _lines(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in text.split("\n"):
        out.extend(paragraph[i : i + LINE_CHARS] for i in range(0, len(paragraph), LINE_CHARS))
        if not paragraph:
            out.append("")
    return out


def _content(text: str) -> bytes:
    ops = ["BT", "/F1 10 Tf", "12 TL", "40 800 Td"]
    for line in _lines(text):
        ops.append(f"<{_hex(line)}> Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("ascii")


def _assemble(objects: list[bytes], extra_trailer: str = "") -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 2 0 R {extra_trailer}>>\n"
        f"startxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _stream(data: bytes) -> bytes:
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def _pdf_string(text: str) -> str:
    # UTF-16BE with a BOM, as a hex string: a title in Japanese.
    return "<FEFF" + _hex(text) + ">"


def build_pdf(pages: list[str], title: str | None = None, *, with_text: bool = True) -> bytes:
    """A PDF of one page per item of ``pages``; with_text=False draws a box instead."""
    first_page = 6
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    info = f"<< /Title {_pdf_string(title)} >>" if title else "<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 3 0 R >>",
        info.encode(),
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /MamoriTest /Encoding /Identity-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MamoriTest "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor << /Type /FontDescriptor /FontName /MamoriTest /Flags 4 "
        b"/FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 "
        b"/StemV 80 >> /DW 1000 /CIDToGIDMap /Identity >>] /ToUnicode 5 0 R >>",
        _stream(_CMAP.encode("ascii")),
    ]
    for i, text in enumerate(pages):
        content = _content(text) if with_text else b"0 0 0 RG 50 50 200 200 re S"
        objects.append(
            f"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 4 0 R >> >> "
            f"/Contents {first_page + 2 * i + 1} 0 R >>".encode()
        )
        objects.append(_stream(content))
    return _assemble(objects)


def build_image_only_pdf(pages: int = 2) -> bytes:
    return build_pdf(["" for _ in range(pages)], with_text=False)


def build_encrypted_pdf() -> bytes:
    """A PDF under the standard security handler that needs a user password.

    The /Encrypt dictionary's /U value does not match the empty password, so a reader must
    ask for one; the content is never reached, so it need not really be encrypted.
    """
    base = build_pdf(["秘密"])
    encrypt = (
        "/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -44 "
        f"/O <{'11' * 32}> /U <{'22' * 32}> >> /ID [<{'33' * 16}> <{'33' * 16}>] "
    )
    head, _, tail = base.rpartition(b"trailer\n<< ")
    return head + b"trailer\n<< " + encrypt.encode() + tail


def build_docx(paragraphs: list[tuple[str, str]], title: str | None = None) -> bytes:
    """(style, text) pairs; style "Heading 1", "Normal"..., or "table:a|b;c|d"."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for style, text in paragraphs:
        if style == "table":
            rows = [r.split("|") for r in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def build_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build_pptx(slides: list[tuple[str, list[str]]]) -> bytes:
    import pptx

    presentation = pptx.Presentation()
    layout = presentation.slide_layouts[1]  # title and content
    for title, bullets in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def build_zip_bomb_docx(unpacked_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A .docx-shaped zip whose document.xml unpacks to ``unpacked_bytes`` of zeros (about
    300 KB packed), built without ever holding them in memory."""
    block = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = b"".join(compressor.compress(block) for _ in range(unpacked_bytes // len(block)))
    packed += compressor.flush()
    crc = 0
    for _ in range(unpacked_bytes // len(block)):
        crc = zlib.crc32(block, crc)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # The member is written by hand: zipfile would compress 300 MB itself.
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = unpacked_bytes
        info.compress_size = len(packed)
        info.CRC = crc
        fp = archive.fp
        assert fp is not None
        info.header_offset = fp.tell()
        fp.write(info.FileHeader())
        fp.write(packed)
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
        archive.start_dir = fp.tell()
    return out.getvalue()


def cp932_text(text: str) -> bytes:
    return text.encode("cp932")
