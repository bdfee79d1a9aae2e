"""A CSV's bytes to text: which encoding, and what was cleaned on the way.

UTF-8 (with or without BOM) and UTF-16 (with a BOM, or without one when its
zero bytes say so) are unambiguous. Otherwise the text is Chinese in a
legacy encoding: GB18030 (GBK, GB2312) from the mainland, or Big5. The same
short file often decodes both ways (新园 in GBK is 陔埶 in Big5), so the choice
is made with the language in mind: the reading whose header parkstat
recognises wins; else the reading in common Chinese characters; else GB18030,
the mainland's encoding — and a file that could be either gets a warning naming
the guess and the other reading. Every receipt names the encoding used.

Cleaned, with a note on the receipt: a DOS end-of-file mark (^Z, 0x1A) at
the end; zero-width characters (U+200B…) anywhere, which make a code or a
header look right and compare wrong.
"""

from __future__ import annotations

import csv
import io
import re

from charset_normalizer import from_bytes

from ingest import reference
from ingest.messages import Message, note, warning

UTF8_BOM = b"\xef\xbb\xbf"
# characters that print as nothing: stripped from every cell (a BOM inside the text is one of them)
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
_INVISIBLE = re.compile("[" + "".join(map(chr, INVISIBLE)) + "]")
class UnreadableFile(Exception):
    """The bytes are not a CSV or spreadsheet parkstat can read. ``code`` is the
    receipt's reason (``unreadable`` unless a sharper one applies)."""

    def __init__(self, zh: str, en: str, code: str = "unreadable"):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.code = zh, en, code

    def __reduce__(self):  # travels back from the sandboxed reader process
        return (UnreadableFile, (self.zh, self.en, self.code))


def encoding_name(codec: str | None) -> str | None:
    """How a receipt names a codec (``gb18030`` -> ``GB18030``)."""
    return None if codec is None else reference.encoding_names().get(codec, codec.upper())


def sniff_delimiter(sample: str) -> str:
    """The delimiter: the only candidate present; else the one under which
    parkstat finds the header (csv.Sniffer's guess first: a title line above a
    ``;`` table, or thousands separators in it, can mislead the sniffer)."""
    present = [d for d in ",\t;|" if d in sample]
    if len(present) <= 1:
        return present[0] if present else ","  # what the sniffer would answer, or its fallback
    try:
        first = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        first = ","
    for d in [first] + [d for d in present if d != first]:
        if _has_header(sample, d):
            return d
    return first


def _only_bom(rest: bytes) -> None:
    if not rest.strip(b" \t\r\n\x1a"):
        raise UnreadableFile("文件只有字节序标记（BOM），没有内容：请检查是否保存了空表",
                             "the file holds only a byte-order mark (BOM) and no content: was an empty table saved?")


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the zero bytes fall on one side of the byte
    pairs (ASCII digits and commas written in UTF-16 without a BOM)."""
    head = data[:8192]
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    if even + odd < max(4, len(head) // 10):
        return None
    codec = "utf-16-le" if odd > 9 * even else "utf-16-be" if even > 9 * odd else None
    if codec is None:
        return None
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return None
    return codec


def _common_share(text: str) -> float:
    """The share of a text's non-ASCII characters that are common Chinese
    characters (GB2312 level 1, read as Simplified): high for real text, low
    for mojibake (陔埶)."""
    from ingest.text import to_simplified

    chars = [c for c in to_simplified(text[:20_000]) if ord(c) > 127][:4000]
    if not chars:
        return 0.0
    common = 0
    for c in chars:
        try:
            b = c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 0xB0 <= b[0] <= 0xD7
    return common / len(chars)


def _has_header(text: str, delimiter: str | None = None) -> bool:
    from ingest.layout import SCAN_ROWS, Layout, find_layout

    head = "\n".join(text.split("\n", SCAN_ROWS + 1)[: SCAN_ROWS + 1])
    try:
        rows = list(csv.reader(io.StringIO(head), delimiter=delimiter or sniff_delimiter(head)))
    except csv.Error:
        return False
    return isinstance(find_layout(rows), Layout)


def _sample(text: str) -> str:
    return "".join(c for c in text if ord(c) > 127 and not c.isspace())[:8]


def _chinese(data: bytes, notes: list[Message]) -> tuple[str, str] | None:
    """GB18030 or Big5, decided with the language in mind (module docstring)."""
    readings = {}
    for codec in ("gb18030", "big5"):
        try:
            readings[codec] = data.decode(codec)
        except UnicodeDecodeError:
            pass
    if len(readings) < 2:
        return next(((t, c) for c, t in readings.items()), None)
    gb, b5 = readings["gb18030"], readings["big5"]
    gb_header, b5_header = _has_header(gb), _has_header(b5)
    if gb_header != b5_header:
        return (gb, "gb18030") if gb_header else (b5, "big5")
    gb_share, b5_share = _common_share(gb), _common_share(b5)
    codec = "big5" if b5_share > gb_share + 0.5 else "gb18030"
    if abs(gb_share - b5_share) <= 0.5:
        chosen, other = (gb, b5) if codec == "gb18030" else (b5, gb)
        other_name = "Big5" if codec == "gb18030" else "GB18030"
        notes.append(warning(
            "ambiguous_encoding",
            f"无法确定文件编码：已按 {encoding_name(codec)} 读取（读作“{_sample(chosen)}”；按 {other_name} "
            f"则为“{_sample(other)}”）。请核对名称和文字；最好另存为 UTF-8 编码",
            f"the text encoding is not certain: read as {encoding_name(codec)} (reading '{_sample(chosen)}'; as "
            f"{other_name} it would be '{_sample(other)}'). Check the names and words; better, save the file as UTF-8",
            value=encoding_name(codec)))
    return readings[codec], codec


def _guess(data: bytes, notes: list[Message]) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    found = _chinese(data, notes)
    if found is not None:
        return found
    best = from_bytes(data[:200_000], cp_isolation=["gb18030", "big5", "utf_16"]).best()
    if best is None:
        raise UnreadableFile("无法识别文件编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV",
                             "cannot detect the text encoding: save the file as CSV in UTF-8 or GB18030 (GBK)")
    codec = best.encoding
    try:
        return data.decode(codec), codec
    except (UnicodeDecodeError, LookupError) as exc:
        raise UnreadableFile(f"按 {codec} 解码失败", f"cannot decode as {codec}: {exc}") from exc


def decode(data: bytes) -> tuple[str, str, list[Message]]:
    """(text, codec, notes for the receipt) of a CSV's bytes."""
    notes: list[Message] = []
    if data.startswith(UTF8_BOM):
        rest = data[len(UTF8_BOM):]
        _only_bom(rest)
        try:
            text, codec = rest.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            text, codec = _guess(rest, notes)
            notes.append(note("encoding", f"文件以 UTF-8 的字节序标记（BOM）开头，内容却是 {encoding_name(codec)} 编码："
                                          f"已按 {encoding_name(codec)} 读取；请另存为 UTF-8",
                              f"the file starts with a UTF-8 byte-order mark (BOM) but its text is "
                              f"{encoding_name(codec)}: read as {encoding_name(codec)}; better, save it as UTF-8",
                              value=encoding_name(codec)))
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        _only_bom(data[2:].replace(b"\x00", b""))
        text, codec = _strict(data, "utf-16")
    elif (codec16 := _utf16_without_bom(data)) is not None:
        text, codec = data.decode(codec16), codec16
        notes.append(note("encoding", f"文件为无字节序标记（BOM）的 {encoding_name(codec16)}：已按此读取",
                          f"the file is {encoding_name(codec16)} without a byte-order mark (BOM): read as such",
                          value=encoding_name(codec16)))
    elif b"\x00" in data[:4096]:
        raise UnreadableFile("文件不是文本表格（含二进制内容）", "not a text table (binary content)")
    else:
        text, codec = _guess(data, notes)
    return clean(text, notes), codec, notes


def _strict(data: bytes, codec: str) -> tuple[str, str]:
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"按 {codec} 解码失败", f"cannot decode as {codec}: {exc}") from exc


def clean(text: str, notes: list[Message]) -> str:
    """Lines ending in a carriage return alone made lines (Excel's "CSV (Macintosh)"),
    drop a trailing ^Z and every zero-width character, each with a note."""
    if re.search(r"\r(?!\n)", text):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append(note("line_endings", "文件的行以单独的回车符（CR）结尾（如 Excel 另存的“CSV（Macintosh）”），已按行读取",
                          "the file's lines end in a carriage return alone (as Excel's 'CSV (Macintosh)' writes "
                          "them); read line by line"))
    stripped = text.rstrip(" \t\r\n\x1a")
    if stripped != text.rstrip(" \t\r\n"):
        text = stripped + "\n"
        notes.append(note("end_of_file_mark", "文件末尾的 DOS 文件结束符 ^Z（0x1A）已忽略",
                          "the DOS end-of-file mark ^Z (0x1A) at the end of the file was ignored"))
    found = [m.start() for m in _INVISIBLE.finditer(text)]
    if found:
        rows = sorted({text.count("\n", 0, i) + 1 for i in found[:1000]})
        text = text.translate(INVISIBLE)
        notes.append(invisible_note(rows))
    return text


def invisible_note(rows: list[int]) -> Message:
    where = "、".join(map(str, rows[:10])) + ("…" if len(rows) > 10 else "")
    where_en = ", ".join(map(str, rows[:10])) + ("…" if len(rows) > 10 else "")
    return note("invisible_characters", f"已删除第 {where} 行中的零宽字符（U+200B 等，看不见但会使代码和表头对不上）",
                f"zero-width characters (U+200B and the like: invisible, but they make codes and headers "
                f"compare wrong) were removed from row(s) {where_en}")
