"""The columns of each kind of factory dataset: our name, the Korean and English labels, the
header synonyms an import recognises, the value type and whether the column is required.

Process datasets keep every column they are given: the named ones below, and each other column as
a process parameter (a number where the whole column reads as numbers, else text)."""

from __future__ import annotations

from dataclasses import dataclass

from sangsaeng.core.imports.mapping import Column
from sangsaeng.factory.models import INSPECTION, ORDERS, PROCESS, PRODUCTION

TEXT, NUMBER, DATE, DATETIME = "text", "number", "date", "datetime"


@dataclass(frozen=True)
class Field:
    column: Column
    type: str

    @property
    def key(self) -> str:
        return self.column.key


def _f(key, ko, en, synonyms, type_=TEXT, required=False) -> Field:
    return Field(Column(key, ko, en, tuple(synonyms), required), type_)


_DATE = _f(
    "date", "일자", "date", ("날짜", "생산일", "생산일자", "검사일", "검사일자", "day"), DATE, True
)
_TIME = _f(
    "time", "일시", "datetime", ("시각", "측정시각", "timestamp", "time", "측정일시"), DATETIME
)
_LINE = _f("line", "라인", "line", ("공정", "생산라인", "line_name"))
_MACHINE = _f("machine", "설비", "machine", ("기계", "설비명", "설비번호", "equipment"))
_PRODUCT = _f("product", "제품", "product", ("품목", "품번", "제품명", "item", "part"))
_SHIFT = _f("shift", "근무조", "shift", ("조", "교대", "shift_name"))
_LOT = _f("lot", "로트", "lot", ("로트번호", "lot no", "lot_no", "lotno", "batch"))
_DEFECT_TYPE = _f("defect_type", "불량유형", "defect type", ("불량 유형", "불량명", "defect"))

FIELDS: dict[str, tuple[Field, ...]] = {
    PRODUCTION: (
        _DATE,
        _f("start", "시작시각", "start", ("작업시작", "시작", "start_time")),
        _f("end", "종료시각", "end", ("작업종료", "종료", "end_time")),
        _SHIFT,
        _LINE,
        _f("machine", "설비", "machine", ("기계", "설비명", "설비번호", "equipment"), TEXT, True),
        _f("product", "제품", "product", ("품목", "품번", "제품명", "item", "part"), TEXT, True),
        _f("planned_qty", "계획수량", "planned quantity", ("목표수량", "planned_qty"), NUMBER),
        _f(
            "total_count",
            "생산수량",
            "produced",
            ("총생산수량", "투입수량", "total_count", "produced quantity"),
            NUMBER,
            True,
        ),
        _f("good_count", "양품수량", "good", ("양품", "good_count", "good quantity"), NUMBER, True),
        _f(
            "defect_count",
            "불량수량",
            "defects",
            ("불량", "defect_count", "defect quantity"),
            NUMBER,
        ),
        _DEFECT_TYPE,
        _f("run_minutes", "가동시간(분)", "run minutes", ("가동시간", "run_minutes"), NUMBER),
        _f(
            "downtime_minutes",
            "비가동시간(분)",
            "downtime minutes",
            ("비가동시간", "정지시간(분)", "정지시간", "downtime_minutes"),
            NUMBER,
        ),
        _f("downtime_reason", "비가동사유", "downtime reason", ("정지사유", "downtime_reason")),
        _f("planned_minutes", "계획시간(분)", "planned minutes", ("계획가동시간(분)",), NUMBER),
        _f("minor_stop_minutes", "순간정지(분)", "minor stops", ("minor_stop_minutes",), NUMBER),
        _f("startup_rejects", "초기불량", "start-up rejects", ("startup_rejects",), NUMBER),
        _f(
            "ideal_cycle_seconds",
            "이상사이클타임(초)",
            "ideal cycle seconds",
            ("표준사이클타임(초)", "ideal_cycle_seconds"),
            NUMBER,
        ),
    ),
    INSPECTION: (
        _DATE,
        _f("lot", "로트", "lot", ("로트번호", "lot no", "lot_no", "lotno", "batch"), TEXT, True),
        _PRODUCT,
        _MACHINE,
        _f("characteristic", "검사항목", "characteristic", ("특성", "측정항목", "항목")),
        _f("value", "측정값", "value", ("측정치", "measurement", "measured"), NUMBER),
        _f("lsl", "하한규격", "LSL", ("규격하한", "lower spec", "lsl"), NUMBER),
        _f("usl", "상한규격", "USL", ("규격상한", "upper spec", "usl"), NUMBER),
        _f("result", "판정", "result", ("합부판정", "검사결과", "pass/fail", "결과")),
        _DEFECT_TYPE,
    ),
    PROCESS: (
        _f("date", "일자", "date", ("날짜", "생산일", "생산일자", "day"), DATE),  # or from 일시
        _TIME,
        _LOT,
        _SHIFT,
        _LINE,
        _MACHINE,
        _PRODUCT,
        _f("result", "판정", "result", ("합부판정", "검사결과", "pass/fail", "결과", "불량여부")),
    ),
    ORDERS: (
        _f("product", "제품", "product", ("품목", "품번", "제품명", "item", "part"), TEXT, True),
        _f("order_date", "주문일", "order date", ("수주일", "발주일", "order_date"), DATE, True),
        _f("quantity", "수량", "quantity", ("주문수량", "수주수량", "qty"), NUMBER, True),
        _f("due_date", "납기일", "due date", ("납기", "납기일자", "due_date"), DATE),
        _f(
            "delivery_date",
            "납품일",
            "delivery date",
            ("출하일", "납품일자", "delivery_date"),
            DATE,
        ),
        _f(
            "delivered_qty", "납품수량", "delivered quantity", ("출하수량", "delivered_qty"), NUMBER
        ),
        _f("customer", "고객사", "customer", ("거래처", "납품처", "customer_name")),
    ),
}
KEEPS_EXTRA_COLUMNS = frozenset({PROCESS})


def columns(kind: str) -> tuple[Column, ...]:
    return tuple(f.column for f in FIELDS[kind])


def field_types(kind: str) -> dict[str, str]:
    return {f.key: f.type for f in FIELDS[kind]}
