"""Problems found in a submission, as the submitter will read them on the receipt."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Message:
    severity: str  # error | warning | note (what the file did, e.g. which earlier figures it replaced)
    code: str  # machine-readable reason, e.g. not_a_number
    zh: str
    en: str
    row: int | None = None  # as the submitter sees it (1-based line/row of the original file)
    column: str = ""  # the header as written in the file
    value: str = ""  # the offending cell text, verbatim

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """One line of a receipt: Chinese first, English beside."""
        where_zh = (f"第{self.row}行" if self.row else "文件") + (f"［{self.column}］" if self.column else "")
        where_en = (f"row {self.row}" if self.row else "file") + (f" [{self.column}]" if self.column else "")
        val = f" “{self.value}”" if self.value else ""
        tag = {"error": "错误", "warning": "警告"}.get(self.severity, "说明")
        return f"{tag} {where_zh}{val}：{self.zh} / {self.severity} {where_en}: {self.en}"


def error(code: str, zh: str, en: str, **kw) -> Message:
    return Message("error", code, zh, en, **kw)


def warning(code: str, zh: str, en: str, **kw) -> Message:
    return Message("warning", code, zh, en, **kw)


def note(code: str, zh: str, en: str, **kw) -> Message:
    return Message("note", code, zh, en, **kw)
