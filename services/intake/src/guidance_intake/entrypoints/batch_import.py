"""Batch import (批量导入) of guidance acts from a spreadsheet, with a report for every row.

便民原则: a county office keeps its guidance in Excel; it uploads the sheet and learns, row by row, what
was issued and what is wrong, in the words of its own columns. Each row goes through the same command
as ``POST /v1/guidance`` (``handlers.issue_guidance``), inside its own savepoint: a row is issued whole
or not at all, and a bad row never undoes a good one. A dry run issues every row and rolls each back,
so it checks everything the real import would (competence, related cases, the contract) and takes no
document number.

Cells are Chinese text or codes: 企业 or ``enterprise``, 2025年3月12日 or 2025-03-12. Naive times are
Beijing time (a spreadsheet has no time zones).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from marshmallow import ValidationError
from sqlalchemy import Connection

from guidance_intake import handlers
from guidance_intake.adapters import queries
from guidance_intake.adapters.spreadsheets import ReadCell, Sheet, file_problem
from guidance_intake.domain.commands import IssueGuidance
from guidance_intake.domain.identifiers import USCC_OVERRIDE_FIELD
from guidance_intake.entrypoints import import_cells
from guidance_intake.entrypoints.http.schemas import IssueGuidanceRequest, issue_guidance_command
from guidance_shared.errors import FieldProblem, GuidanceError
from guidance_shared.web.messages import FALLBACK_ZH, field_problems

MAX_ROWS = 2000
WHOLE_ROW = "（整行）"

DEPARTMENT = "部门编号"
KIND = "相对人类型"
NAME = "相对人名称"
USCC = "统一社会信用代码"
ID_TYPE = "证件类型"
ID_NO = "证件号码"
REPRESENTATIVE = "法定代表人"
CONTENT_TYPE = "指导类型"
METHODS = "指导方式"
DOMAIN = "执法领域"
FORM = "指导形式"
INITIATED = "启动方式"
APPLIED_AT = "申请时间"
WRITTEN_REQUESTED = "要求书面指导"
MATTER = "指导事项"
LEGAL_BASIS = "法律依据"
CONTENT = "指导内容"
RIGHTS_NOTICE = "权利告知"
DEADLINE = "改正期限"
RELATED_CASE = "关联案件编号"
DISCLOSURE = "公开"
WITHHELD_REASON = "不公开理由"
ISSUED_AT = "作出时间"
OFFICERS = "执法人员"
HELD_AT = "约谈时间"
PLACE = "约谈地点"
SUMMONED = "被约谈人"
SUMMONED_ROLE = "被约谈人身份"
RECTIFICATION = "整改事项"
REMINDER_CATEGORY = "提示违法类别"
PERIOD_FROM = "提示时段起"
PERIOD_TO = "提示时段止"
ADVICE = "建议内容"
OVERRIDE_REASON = "代码校验例外理由"

REQUIRED_COLUMNS = (
    DEPARTMENT,
    KIND,
    NAME,
    CONTENT_TYPE,
    METHODS,
    DOMAIN,
    FORM,
    MATTER,
    LEGAL_BASIS,
    CONTENT,
    RIGHTS_NOTICE,
    DISCLOSURE,
    OFFICERS,
)
OPTIONAL_COLUMNS = (
    USCC,
    ID_TYPE,
    ID_NO,
    REPRESENTATIVE,
    INITIATED,
    APPLIED_AT,
    WRITTEN_REQUESTED,
    DEADLINE,
    RELATED_CASE,
    WITHHELD_REASON,
    ISSUED_AT,
    HELD_AT,
    PLACE,
    SUMMONED,
    SUMMONED_ROLE,
    RECTIFICATION,
    REMINDER_CATEGORY,
    PERIOD_FROM,
    PERIOD_TO,
    ADVICE,
    OVERRIDE_REASON,
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The ledger's header for the same thing, accepted so a ledger's columns can be reused.
ALIASES: Mapping[str, str] = {"作出日期": ISSUED_AT}
# Ledger columns an import cannot take, and why.
NOT_IMPORTED: Mapping[str, tuple[str, str]] = {
    "文号": ("intake assigns the 文号 when it issues the act", "文号由系统在作出时编排，请删除该列"),
    "状态": ("the status follows from later records", "状态由后续记录决定，请删除该列"),
    "补录登记日期": (
        "intake marks a back-dated entry itself, with the day it records it",
        "补录由系统在登记时自动标注，请删除该列",
    ),
}

# Where a field of the command is shown to the uploader: the longest matching dotted prefix wins.
COLUMN_OF: Mapping[str, str] = {
    "department_id": DEPARTMENT,
    "officers": OFFICERS,
    "counterpart": KIND,
    "counterpart.kind": KIND,
    "counterpart.name": NAME,
    "counterpart.uscc": USCC,
    "counterpart.id_type": ID_TYPE,
    "counterpart.id_no": ID_NO,
    "counterpart.legal_representative": REPRESENTATIVE,
    "content_type": CONTENT_TYPE,
    "methods": METHODS,
    "domain": DOMAIN,
    "form": FORM,
    "initiated": INITIATED,
    "applied_at": APPLIED_AT,
    "written_requested": WRITTEN_REQUESTED,
    "matter": MATTER,
    "legal_basis": LEGAL_BASIS,
    "content": CONTENT,
    "rights_notice": RIGHTS_NOTICE,
    "correction_deadline": DEADLINE,
    "related_case_id": RELATED_CASE,
    "interview": HELD_AT,
    "interview.held_at": HELD_AT,
    "interview.place": PLACE,
    "interview.summoned": SUMMONED,
    "interview.summoned.name": SUMMONED,
    "interview.summoned.role": SUMMONED_ROLE,
    "interview.rectification_items": RECTIFICATION,
    "reminder": REMINDER_CATEGORY,
    "reminder.violation_category": REMINDER_CATEGORY,
    "reminder.period": PERIOD_TO,
    "reminder.period.from": PERIOD_FROM,
    "reminder.period.to": PERIOD_TO,
    "advice": ADVICE,
    "identifier_override_reason": OVERRIDE_REASON,
    "disclosure": WITHHELD_REASON,
    "disclosure.exemption": WITHHELD_REASON,
    "disclosure.level": DISCLOSURE,
    "issued_at": ISSUED_AT,
}
#: Each column's code, the field of ``POST /v1/guidance`` it fills (the most specific path that names it):
#: the template's second header row, which an import recognises and skips.
CODE_OF: Mapping[str, str] = {
    column: max((path for path, named in COLUMN_OF.items() if named == column), key=len) for column in COLUMNS
}
#: The template's example row: a 轻微问题警示 as a county office would write it (Chinese words, Chinese
#: dates); the columns it leaves blank are those of other kinds of act or of a person counterpart.
EXAMPLE_ROW: Mapping[str, str] = {
    KIND: "企业",
    NAME: "某县宏达食品有限公司",
    USCC: "91410000MA3X7K2P55",
    REPRESENTATIVE: "赵建国",
    CONTENT_TYPE: "轻微问题警示",
    METHODS: "警告告诫、规劝提示",
    DOMAIN: "行政检查",
    FORM: "书面",
    MATTER: "食品经营许可证未在经营场所显著位置悬挂",
    LEGAL_BASIS: "《中华人民共和国行政处罚法》第三十三条第一款；《食品经营许可管理办法》第二十六条",
    CONTENT: "请于2025年3月12日前将许可证悬挂于显著位置。",
    RIGHTS_NOTICE: "本指导不具有强制力，你单位可以自愿接受；有异议的可以陈述意见。",
    DEADLINE: "2025年3月12日",
    DISCLOSURE: "公开",
    ISSUED_AT: "2025-03-05 10:30",
    OFFICERS: "王立新:豫A0310021；刘晓燕：豫A0310057",
}


def template(department: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The import template: the header the importer reads (every column, the required ones first), the
    codes row, and the example row, issued by ``department`` (a name or id the importer takes)."""
    example = {**EXAMPLE_ROW, DEPARTMENT: department}
    return COLUMNS, tuple(CODE_OF[c] for c in COLUMNS), tuple(example.get(c, "") for c in COLUMNS)


def is_codes_row(columns: Sequence[str], cells: Sequence[ReadCell]) -> bool:
    """The template's second header row: under each named column, that column's code (or nothing)."""
    named = [(column, cell) for column, cell in zip(columns, cells, strict=False) if column in CODE_OF]
    return bool(named) and all(cell == CODE_OF[column] for column, cell in named)


_BILINGUAL = re.compile(r"^(.*?[.)])\s+([\u3000-\u303f\u4e00-\u9fff\uff00-\uffef《“].*)$", re.DOTALL)
_CONTRACT_ZH: Mapping[str, str] = {
    "Not a 统一社会信用代码 (18 characters, GB 32100-2015).": "不是有效的统一社会信用代码（18位，GB 32100-2015）。",
}


class RowReport(TypedDict):
    """One row's fate in the report (``ImportRow``): only the keys that apply are present."""

    row: int
    status: str  # issued, valid (dry run) or rejected
    guidance_id: NotRequired[str]
    doc_no: NotRequired[str]
    code: NotRequired[str]
    errors: NotRequired[list[dict[str, str]]]


class ImportResult(TypedDict):
    """The report of one import (``ImportReport``)."""

    accepted: int
    rejected: int
    dry_run: bool
    rows: list[RowReport]


@dataclass
class Draft:
    """A row read into a command, with what was wrong in which column."""

    number: int
    command: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)
    related_case: str | None = None

    def problem(self, column: str, en: str, zh: str) -> None:
        self.problems.append(FieldProblem(column, en, zh))

    def columns_with_problems(self) -> set[str]:
        return {p.field for p in self.problems}


@dataclass(frozen=True)
class Importer:
    """One import run: whose it is, and the transaction its rows take savepoints in."""

    deps: handlers.IntakeDeps
    conn: Connection
    may_access: Callable[[str], bool]
    dry_run: bool = False

    def run(self, sheet: Sheet) -> ImportResult:
        """The report: counts, and one entry per non-blank row in file order."""
        columns = check_headers(sheet.headers)
        lines = sheet.rows
        if lines and is_codes_row(columns, lines[0][1]):
            lines = lines[1:]  # the template's codes, under the Chinese header
        if not lines:
            raise file_problem("The file has no data rows below the header.", "文件在表头下没有数据行。")
        rows = [self.row(number, cells_by_column(columns, cells)) for number, cells in lines]
        accepted = sum(1 for r in rows if r["status"] != "rejected")
        return {"accepted": accepted, "rejected": len(rows) - accepted, "dry_run": self.dry_run, "rows": rows}

    def row(self, number: int, cells: Mapping[str, ReadCell] | import_cells.CellError) -> RowReport:
        """One row's fate: rejected with every problem found, or issued (checked, in a dry run) in a savepoint."""
        draft = Draft(number)
        if isinstance(cells, import_cells.CellError):
            draft.problem(WHOLE_ROW, cells.en, cells.zh)
            return _rejected(draft)
        read_row(draft, cells, self.deps)
        department_id = draft.command.get("department_id")
        if department_id and not self.may_access(department_id):
            return _forbidden(number)
        if department_id and draft.related_case is not None:
            self._resolve_case(draft, department_id)
        checked = _checked(draft)
        if checked is None or draft.problems:
            return _rejected(draft)
        try:
            with self.conn.begin_nested() as savepoint:
                guidance = handlers.issue_guidance(self.deps, self.conn, checked)
                if self.dry_run:
                    savepoint.rollback()
        except GuidanceError as error:
            _add_error(draft, error)
            return _rejected(draft, error.code)
        if self.dry_run:
            return {"row": number, "status": "valid"}
        return {
            "row": number,
            "status": "issued",
            "guidance_id": guidance.guidance_id,
            "doc_no": guidance.details["doc_no"],
        }

    def _resolve_case(self, draft: Draft, department_id: str) -> None:
        """关联案件编号 is the case's id, or its 案件编号 within the row's department."""
        text = draft.related_case or ""
        try:
            draft.command["related_case_id"] = str(uuid.UUID(text))
            return
        except ValueError:
            pass
        found = queries.case_ids_numbered(self.conn, department_id, text)
        if len(found) == 1:
            draft.command["related_case_id"] = found[0]
        elif not found:
            draft.problem(
                RELATED_CASE,
                "No case of this department has this number or id.",
                "本部门没有该编号的案件。",
            )
        else:
            draft.problem(
                RELATED_CASE,
                "Several cases of this department have this number; give the case id.",
                "本部门有多个案件使用该编号，请填写案件的系统编号（UUID）。",
            )


# -- the header --------------------------------------------------------------------------------
def check_headers(headers: Sequence[str]) -> tuple[str, ...]:
    """The column of each position ("" for an unnamed one); unknown, repeated or missing columns refuse the file."""
    columns = tuple(ALIASES.get(h, h) for h in headers)
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for header, column in zip(headers, columns, strict=True):
        if not column:
            continue
        if column in NOT_IMPORTED:
            en, zh = NOT_IMPORTED[column]
            problems.append(FieldProblem(header, f"Column {header} is not imported: {en}.", f"{zh}。"))
        elif column not in COLUMNS:
            problems.append(
                FieldProblem(
                    header,
                    f"Unknown column {header!r}; columns are {'、'.join(COLUMNS)}.",
                    f"无法识别的列“{header}”；可用的列为：{'、'.join(COLUMNS)}。",
                )
            )
        elif column in seen:
            problems.append(FieldProblem(header, f"Column {header} appears twice.", f"列“{header}”重复。"))
        seen.add(column)
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            problems.append(FieldProblem(column, f"Column {column} is missing.", f"缺少必需的列“{column}”。"))
    if problems:
        raise GuidanceError(
            code="import-columns-invalid",
            title_en="The header row is not usable",
            title_zh="表头不符合要求",
            status=422,
            detail_en="Fix the header row (the first row); see errors.",
            detail_zh="请修改表头（第一行），详见 errors。",
            fields=problems,
        )
    return columns


def cells_by_column(columns: Sequence[str], cells: Sequence[ReadCell]) -> dict[str, ReadCell] | import_cells.CellError:
    """The row's cells under their columns; data outside the named columns means the row is misaligned."""
    stray = [i + 1 for i, cell in enumerate(cells) if cell != "" and (i >= len(columns) or not columns[i])]
    if stray:
        return import_cells.CellError(
            f"Values in column position(s) {', '.join(map(str, stray))}, which have no header: "
            "is a comma or a cell out of place?",
            f"第{'、'.join(map(str, stray))}列没有表头却有内容：是否有多余的逗号或错位的单元格？",
        )
    return {column: cell for column, cell in zip(columns, cells, strict=False) if column}


# -- reading a row ------------------------------------------------------------------------------
def read_row(draft: Draft, cells: Mapping[str, ReadCell], deps: handlers.IntakeDeps) -> None:
    """Fill ``draft.command``; a blank cell leaves its field out, so the contract says what is missing."""

    def put(target: dict[str, Any], key: str, column: str, parse: Callable[[ReadCell], Any]) -> None:
        cell = cells.get(column, "")
        if cell == "":
            return
        try:
            target[key] = parse(cell)
        except import_cells.CellError as error:
            draft.problem(column, error.en, error.zh)

    command = draft.command
    put(command, "department_id", DEPARTMENT, lambda c: import_cells.department(c, deps.departments))
    counterpart: dict[str, Any] = {}
    put(counterpart, "kind", KIND, import_cells.choice("counterpart_kinds"))
    put(counterpart, "name", NAME, import_cells.text)
    put(counterpart, "uscc", USCC, lambda c: import_cells.text(c).upper())
    put(counterpart, "id_type", ID_TYPE, import_cells.choice("id_types"))
    put(counterpart, "id_no", ID_NO, lambda c: import_cells.text(c).upper())
    put(counterpart, "legal_representative", REPRESENTATIVE, import_cells.text)
    command["counterpart"] = counterpart
    put(command, "content_type", CONTENT_TYPE, import_cells.choice("content_types"))
    put(command, "methods", METHODS, import_cells.choices("methods"))
    put(command, "domain", DOMAIN, import_cells.choice("domains"))
    put(command, "form", FORM, import_cells.choice("forms"))
    command["initiated"] = "own_initiative"  # 依职权 unless the sheet says otherwise
    put(command, "initiated", INITIATED, import_cells.choice("initiated"))
    put(command, "applied_at", APPLIED_AT, import_cells.moment)
    put(command, "written_requested", WRITTEN_REQUESTED, import_cells.yes_no)
    put(command, "matter", MATTER, import_cells.text)
    put(command, "legal_basis", LEGAL_BASIS, import_cells.legal_basis)
    put(command, "content", CONTENT, import_cells.text)
    put(command, "rights_notice", RIGHTS_NOTICE, import_cells.text)
    put(command, "correction_deadline", DEADLINE, import_cells.day)
    put(command, "advice", ADVICE, import_cells.text)
    put(command, "identifier_override_reason", OVERRIDE_REASON, import_cells.text)
    put(command, "issued_at", ISSUED_AT, import_cells.moment)
    put(command, "officers", OFFICERS, import_cells.officers)
    disclosure: dict[str, Any] = {}
    put(disclosure, "level", DISCLOSURE, import_cells.choice("disclosure_levels"))
    put(disclosure, "withheld", WITHHELD_REASON, import_cells.withheld)
    disclosure.update(disclosure.pop("withheld", {}))
    command["disclosure"] = disclosure
    if cells.get(RELATED_CASE, "") != "":
        draft.related_case = import_cells.text(cells[RELATED_CASE])
    _details(draft, cells, put)


def _details(draft: Draft, cells: Mapping[str, ReadCell], put: Callable[..., None]) -> None:
    """约谈 and 提示 details: built when the content type needs them or any of their cells is filled."""
    content_type = draft.command.get("content_type")
    if content_type == "supervisory_admonition" or any(
        cells.get(c, "") != "" for c in (HELD_AT, PLACE, SUMMONED, SUMMONED_ROLE, RECTIFICATION)
    ):
        interview: dict[str, Any] = {}
        summoned: dict[str, Any] = {}
        put(interview, "held_at", HELD_AT, import_cells.moment)
        put(interview, "place", PLACE, import_cells.text)
        put(summoned, "name", SUMMONED, import_cells.text)
        put(summoned, "role", SUMMONED_ROLE, import_cells.choice("summoned_roles"))
        put(interview, "rectification_items", RECTIFICATION, import_cells.items)
        interview["summoned"] = summoned
        draft.command["interview"] = interview
    if content_type == "enforcement_reminder" or any(
        cells.get(c, "") != "" for c in (REMINDER_CATEGORY, PERIOD_FROM, PERIOD_TO)
    ):
        reminder: dict[str, Any] = {}
        period: dict[str, Any] = {}
        put(reminder, "violation_category", REMINDER_CATEGORY, import_cells.text)
        put(period, "from", PERIOD_FROM, import_cells.day)
        put(period, "to", PERIOD_TO, import_cells.day)
        reminder["period"] = period
        draft.command["reminder"] = reminder


def _checked(draft: Draft) -> IssueGuidance | None:
    """The command as ``POST /v1/guidance`` builds it; contract problems join the draft's (and give None)."""
    schema = IssueGuidanceRequest()
    try:
        return issue_guidance_command(schema.dump(schema.load(draft.command)))
    except ValidationError as error:
        already = draft.columns_with_problems()
        for problem in _in_columns(field_problems(error.messages)):
            if problem.field not in already:
                draft.problems.append(problem)
        return None


def _add_error(draft: Draft, error: GuidanceError) -> None:
    problems = _in_columns(error.fields) or [FieldProblem(WHOLE_ROW, error.detail_en, error.detail_zh)]
    draft.problems.extend(problems)


def _in_columns(problems: Iterable[FieldProblem]) -> list[FieldProblem]:
    """Event field paths (``legal_basis.1.article``) told as the uploader's columns (法律依据, 第2项)."""
    return [_in_column(p) for p in problems]


def _in_column(problem: FieldProblem) -> FieldProblem:
    steps = problem.field.split(".") if problem.field else []
    names = [s for s in steps if not s.isdigit()]
    column = WHOLE_ROW
    for length in range(len(names), 0, -1):
        if (found := COLUMN_OF.get(".".join(names[:length]))) is not None:
            column = found
            break
    en, zh = _split_bilingual(problem.message_en, problem.message_zh)
    index = next((int(s) + 1 for s in steps if s.isdigit()), None)
    if index is not None:
        en, zh = f"Item {index}: {en}", f"第{index}项：{zh}"
    for name in (USCC_OVERRIDE_FIELD, "identifier_override_reason"):
        en, zh = en.replace(name, f"the column {OVERRIDE_REASON}"), zh.replace(name, f"“{OVERRIDE_REASON}”列")
    return FieldProblem(column, en, zh)


def _split_bilingual(en: str, zh: str) -> tuple[str, str]:
    """The contract writes some messages in both languages in one string; give each language its own."""
    if en in _CONTRACT_ZH:
        return en, _CONTRACT_ZH[en]
    if zh == FALLBACK_ZH and (match := _BILINGUAL.match(en)):
        return match[1], match[2]
    return en, zh


def _rejected(draft: Draft, code: str = "validation-failed") -> RowReport:
    return {
        "row": draft.number,
        "status": "rejected",
        "code": code,
        "errors": [p.as_dict() for p in draft.problems],
    }


def _forbidden(number: int) -> RowReport:
    """As ``POST /v1/guidance`` answers 403: the caller may not act for that department (which is not named)."""
    problem = FieldProblem(
        DEPARTMENT,
        "You may not issue guidance for this department; it is not one of your departments.",
        "您无权以该部门名义作出行政指导：该部门不在您的权限范围内。",
    )
    return {"row": number, "status": "rejected", "code": "forbidden-department", "errors": [problem.as_dict()]}
