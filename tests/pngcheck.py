"""tests/pngcheck.py - what the tests ask of a PNG, read without a library.

png_info(path) -> (width, height, verdict): verdict is "ok", "blank" (the
decoded rows hold fewer than 16 distinct byte values: a flat image) or
"not whole" (no PNG signature or no IEND chunk at the end: a file cut
short); width and height come from IHDR (0 when not whole).
"""
import struct
import zlib


def png_info(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[-8:-4] != b"IEND":
        return 0, 0, "not whole"
    w, h = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    # rows of filtered bytes: a blank image compresses to a few values
    return w, h, "blank" if len(set(zlib.decompress(idat))) < 16 else "ok"
