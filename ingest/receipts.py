"""Receipts: what became of a file, written for the submitter (Chinese first,
English beside) as ``receipts/<submitter>/<time>_<sha12>_<file id>.txt`` and ``.json``."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ingest import reference
from ingest.messages import Message
from ingest.settings import display_zone

STATUS_ZH = {"accepted": "已接收", "accepted_with_warnings": "已接收（有警告）", "rejected": "已退回",
             "duplicate": "重复文件（已处理过，不再处理）"}
KIND_ZH = reference.kind_names()  # report kind -> Chinese name (reference/kind_names.csv)
_SAFE = re.compile(r"^\d{6}$")


@dataclass
class Receipt:
    file_sha256: str
    submitter_code: str
    file_name: str
    received_at: str
    report_kind: str | None
    status: str
    row_count: int
    messages: list[Message]
    file_id: int | None = None
    preview: bool = False  # from ``parkstat check``: nothing was stored
    encoding: str | None = None  # how a CSV was decoded (GB18030, UTF-8…), as the receipt names it
    sheet: str | None = None  # the sheet of a workbook that was read


    @property
    def error_count(self) -> int:
        return sum(m.severity == "error" for m in self.messages)

    @property
    def warning_count(self) -> int:
        return sum(m.severity == "warning" for m in self.messages)

    def text(self) -> str:
        lines = [
            "parkstat 预检回执（未入库）/ pre-submission check (nothing stored)" if self.preview
            else "parkstat 报送回执 / submission receipt",
            f"文件 / file:          {self.file_name!r}",
            f"报送单位 / submitter: {self.submitter_code}",
            f"接收时间 / received:  {self.received_at} ({display_zone()})",
            f"SHA-256:              {self.file_sha256}",
            *([f"编码 / encoding:      {self.encoding}"] if self.encoding else []),
            *([f"工作表 / sheet:       {self.sheet!r}"] if self.sheet is not None else []),
            f"报表类型 / kind:      {KIND_ZH.get(self.report_kind, self.report_kind)} / {self.report_kind or 'unrecognised'}",
            f"结果 / status:        {STATUS_ZH[self.status]} / {self.status}",
            f"数据行 / rows:        {self.row_count}",
            f"错误 / errors:        {self.error_count}",
            f"警告 / warnings:      {self.warning_count}",
        ]
        if self.status == "rejected" and self.preview:
            lines.append("按现状报送将被整体退回；请改正下列全部问题。/ Sent as it is, this file would be rejected "
                         "whole; correct every problem below.")
        elif self.status == "rejected":
            lines.append("整个文件未入库，请改正下列全部问题后重新报送。/ Nothing from this file was stored; "
                         "correct every problem below and send it again.")
        if self.messages:
            lines.append("")
            lines.extend(m.line() for m in self.messages)
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict:
        return {"file_sha256": self.file_sha256, "submitter_code": self.submitter_code,
                "file_name": self.file_name, "received_at": self.received_at, "report_kind": self.report_kind,
                "encoding": self.encoding, "sheet": self.sheet,
                "status": self.status, "row_count": self.row_count, "error_count": self.error_count,
                "warning_count": self.warning_count, "messages": [m.as_dict() for m in self.messages]}

    def path(self, receipts_dir: Path) -> Path:
        """Where the .txt receipt goes; the folder name is checked, never taken from a file."""
        folder = receipts_dir / (self.submitter_code if _SAFE.match(self.submitter_code) else "_unknown")
        stem = re.sub(r"[^0-9T]", "", self.received_at)[:15] + "_" + self.file_sha256[:12]
        if self.file_id is not None:  # the same bytes again (a duplicate) get their own receipt
            stem += f"_{self.file_id}"
        return folder / f"{stem}.txt"

    def write(self, receipts_dir: Path) -> Path:
        """Write the .txt and .json receipt."""
        txt = self.path(receipts_dir)
        folder = txt.parent
        folder.mkdir(parents=True, exist_ok=True)
        stem = txt.stem
        for path, body in ((txt, self.text()),
                           (folder / f"{stem}.json", json.dumps(self.as_json(), ensure_ascii=False, indent=2))):
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(body, encoding="utf-8")
            os.replace(tmp, path)
        return txt
