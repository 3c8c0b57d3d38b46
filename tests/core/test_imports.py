"""Imports of organizations and supplier links: encodings, xlsx (and its bombs), column mapping,
row errors, the two modes, upserts, permissions, export → import round trips, fuzzing and the CLI.

Every test runs against the real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import signal
import time
import zipfile
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from sangsaeng.cli import app as cli_app
from sangsaeng.core import i18n
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.errors import Forbidden, InvalidInput
from sangsaeng.core.exports import to_csv, to_xlsx
from sangsaeng.core.ids import business_no_check_digit
from sangsaeng.core.imports import reader
from sangsaeng.core.imports import service as imports
from sangsaeng.core.models import Organization, SupplierLink
from sangsaeng.core.orgs import graph
from sangsaeng.core.orgs import service as orgs
from sangsaeng.core.policy import SYSTEM_ACTOR
from sangsaeng.db import Base
from tests.factories import make_org, make_user

KO = ["사업자등록번호", "기업명", "업종코드", "지역", "기업규모", "종업원수", "매출액", "설립연도"]
EN = ["business_no", "name", "ksic", "region", "size", "employees", "revenue", "founded"]
# Hangul syllables only CP949 (not plain EUC-KR/KS X 1001) encodes as two bytes.
CP949_ONLY = "똠쀍뷁햏"

# ---------------------------------------------------------------- builders


def business_no(seed: int) -> str:
    """Valid numbers apart from tests.factories' (middle digits 87, not 81)."""
    first = f"{100 + seed % 800:03d}87{seed % 10000:04d}"
    return first + str(business_no_check_digit(first))


def row(seed: int, name: str | None = None, **over: object) -> list[str]:
    values = {
        "business_no": business_no(seed),
        "name": f"가나기업{seed}" if name is None else name,
        "ksic": "C29",
        "region": "경기",
        "size": "중소",
        "employees": str(10 + seed),
        "revenue": f"{1_000_000 * seed:,}",
        "founded": "2001",
    }
    values.update({k: str(v) for k, v in over.items()})
    return [values[k] for k in EN]


def csv_bytes(headers, rows, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([headers, *rows])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(headers, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for values in [headers, *rows]:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def replace_entry(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info))
        if name not in source.namelist():
            target.writestr(name, content)
    return out.getvalue()


def run(db, data: bytes, *, actor=SYSTEM_ACTOR, mode="all", encoding="auto", filename="", **kw):
    table = reader.read_table(data, filename, encoding)
    return imports.import_organizations(db, actor, table, mode=mode, **kw)


def file_error(exc: pytest.ExceptionInfo) -> str:
    assert set(exc.value.fields) == {"file"}, exc.value.fields
    return str(exc.value.fields["file"])


def org_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Organization))


def stored(db) -> dict[str, tuple]:
    return {
        o.business_no: (o.name_ko, o.ksic_code, o.region_code, o.size_class, o.employees)
        for o in db.scalars(select(Organization))
    }


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table (the audit log included: a refused import writes nothing)."""
    state = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            state[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return state


def actor_with(db, org, role: str):
    user = make_user(db, roles=[(org, role)])
    return accounts.load_actor(db, user)


class TookTooLong(BaseException):
    """A BaseException, so that no ``except Exception`` in the code under test swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def expired(_signum, _frame):
        raise TookTooLong(f"took longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def locale(name: str):
    token = i18n.set_locale(name)
    try:
        yield
    finally:
        i18n.reset_locale(token)


# ---------------------------------------------------------------- 1. encodings


def test_cp949_only_syllables_are_really_outside_euc_kr():
    for ch in CP949_ONLY:
        encoded = ch.encode("cp949")
        assert len(encoded) == 2
        with pytest.raises(UnicodeDecodeError):
            encoded.decode("euc-kr")


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp949", "cp949")],
)
def test_encodings_are_detected_and_cp949_only_hangul_survives(db, encoding, reported):
    rows = [row(i, name=f"{ch}방각하{i}") for i, ch in enumerate(CP949_ONLY, start=1)]
    data = csv_bytes(KO, rows, encoding)
    result = run(db, data)
    assert (result.encoding, result.committed, result.created) == (reported, True, len(rows))
    assert result.rejected == []
    names = sorted(db.scalars(select(Organization.name_ko)))
    assert names == sorted(r[1] for r in rows)


def test_forced_encoding_is_honoured_and_a_wrong_one_is_a_clear_korean_error(db):
    data = csv_bytes(KO, [row(1, name="똠방각하")], "cp949")
    assert reader.read_table(data, "x.csv", "cp949").encoding == "cp949"
    with pytest.raises(InvalidInput) as exc:
        reader.read_table(data, "x.csv", "utf-8")
    assert "utf-8 형식으로 읽을 수 없습니다" in file_error(exc)
    with pytest.raises(InvalidInput) as exc:
        reader.read_table(data, "x.csv", "latin-1")
    assert "auto" in file_error(exc)
    assert org_count(db) == 0


def test_non_text_bytes_are_neither_utf8_nor_cp949():
    noise = random.Random(4).randbytes(4096).replace(b"PK", b"..")
    for data in (b"\xff" * 64, noise):
        with pytest.raises(InvalidInput) as exc:
            reader.read_table(data, "x.csv")
        assert "UTF-8 또는 CP949(EUC-KR)" in file_error(exc)


def test_empty_file_and_headerless_file_are_refused():
    for data in (b"", b"\n\n  \n,,,\n"):
        with pytest.raises(InvalidInput):
            reader.read_table(data, "x.csv")


# ---------------------------------------------------------------- 2. xlsx


def test_xlsx_imports_with_numbers_stored_as_floats(db):
    number = business_no(7)
    rows = [[float(number), "똠엑셀기업", 291.0, "서울", "중소", 40.0, 7_000_000_000.0, 2001.0]]
    result = run(db, xlsx_bytes(KO, rows), filename="orgs.xlsx")
    assert (result.encoding, result.committed, result.created, result.rejected) == (
        "xlsx",
        True,
        1,
        [],
    )
    org = db.scalar(select(Organization))
    assert (org.business_no, org.name_ko, org.ksic_code, org.employees) == (
        number,
        "똠엑셀기업",
        "291",
        40,
    )
    assert (org.revenue_krw, org.founded_year, org.region_code) == (7_000_000_000, 2001, "11")


def test_truncated_xlsx_is_damaged():
    data = xlsx_bytes(KO, [row(1)])
    for cut in (len(data) // 2, len(data) - 30, 10):
        with pytest.raises(InvalidInput) as exc:
            reader.read_table(data[:cut], "orgs.xlsx")
        assert "손상" in file_error(exc)


def test_a_csv_named_xlsx_and_a_zip_that_is_no_workbook_are_damaged():
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    for data in (csv_bytes(KO, [row(1)]), other.getvalue()):
        with pytest.raises(InvalidInput) as exc:
            reader.read_table(data, "orgs.xlsx")
        assert "손상" in file_error(exc)


@cache
def zip_bomb() -> bytes:
    """An xlsx-looking zip with one entry of 400 MB of zeros (about 400 KB compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        chunk = bytes(1 << 20)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(400):
                entry.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_it_is_opened():
    data = zip_bomb()
    assert len(data) < 5 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(InvalidInput) as exc:
        reader.read_table(data, "bomb.xlsx")
    assert "허용된 크기를 초과" in file_error(exc)
    assert time.monotonic() - started < 2


def test_a_zip_with_too_many_entries_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(reader.MAX_XLSX_ENTRIES + 1):
            zf.writestr(f"x/{i}", b"")
    with pytest.raises(InvalidInput):
        reader.read_table(buffer.getvalue(), "many.xlsx")


_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    + "]>\n"
)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_xml_bomb_is_refused_by_defusedxml(part):
    import defusedxml

    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    base = xlsx_bytes(["a"], [["b"]])
    if part.endswith("sharedStrings.xml"):
        # openpyxl writes inline strings; point the workbook at a shared-strings part.
        base = xlsx_bytes(KO, [row(1)])
        source = zipfile.ZipFile(io.BytesIO(base))
        types = source.read("[Content_Types].xml").decode()
        if "sharedStrings" not in types:
            types = types.replace(
                "</Types>",
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )
            base = replace_entry(base, "[Content_Types].xml", types.encode())
        data = replace_entry(base, part, (_LAUGHS + strings).encode())
    else:
        data = replace_entry(base, part, (_LAUGHS + sheet).encode())
    with time_limit(10), pytest.raises(InvalidInput) as exc:
        reader.read_table(data, "laughs.xlsx")
    assert "손상" in file_error(exc)
    causes, error = [], exc.value
    while error is not None and len(causes) < 10:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, defusedxml.DefusedXmlException) for e in causes), causes


def test_xlsx_that_claims_a_huge_sheet_is_read_quickly():
    """A tiny sheet whose dimension claims A1:XFD1048576 and whose last row sits at 1,048,576
    (a 'cell bomb'): openpyxl pads every row to the claimed width."""
    data = xlsx_bytes(KO, [row(1)])
    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    sheet = sheet.replace('<dimension ref="A1:H2"', '<dimension ref="A1:XFD1048576"')
    sheet = sheet.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'
    )
    data = replace_entry(data, "xl/worksheets/sheet1.xml", sheet.encode())
    with time_limit(10):
        try:
            table = reader.read_table(data, "wide.xlsx")
        except InvalidInput:
            return
    assert table.headers == KO
    assert table.rows[0] == row(1)


# ---------------------------------------------------------------- 3. mapping


def test_english_headers_map_automatically(db):
    result = run(db, csv_bytes(EN, [row(1), row(2)]))
    assert (result.committed, result.created) == (True, 2)


def test_korean_synonyms_map_automatically(db):
    headers = [
        "사업자번호",
        "업체명",
        "업종",
        "시도",
        "규모",
        "상시근로자수",
        "매출액(원)",
        "설립년도",
    ]
    result = run(db, csv_bytes(headers, [row(1, revenue="5,000,000,000")]))
    assert (result.committed, result.created, result.rejected) == (True, 1, [])
    org = db.scalar(select(Organization))
    assert org.revenue_krw == 5_000_000_000 and org.employees == 11 and org.founded_year == 2001


def test_a_missing_required_column_is_named_in_korean_and_english(db):
    headers = [h for h in KO if h != "업종코드"]
    data = csv_bytes(headers, [[v for h, v in zip(KO, row(1), strict=True) if h != "업종코드"]])
    with pytest.raises(InvalidInput) as exc:
        run(db, data)
    assert "업종코드" in str(exc.value.fields["mapping"])
    assert "필수 열" in str(exc.value.message)
    with locale("en"), pytest.raises(InvalidInput) as exc:
        run(db, data)
    assert "ksic" in str(exc.value.fields["mapping"])
    assert org_count(db) == 0


def test_an_explicit_mapping_is_used(db):
    headers = ["A", "B", "C", "D", "E", "F"]
    values = row(1)
    cells = [values[1], values[0], "x", values[2], values[3], values[4]]
    mapping = {"business_no": 1, "name_ko": 0, "ksic": 3, "region": 4, "size_class": 5}
    result = run(db, csv_bytes(headers, [cells]), mapping=mapping)
    assert (result.committed, result.created) == (True, 1)
    assert db.scalar(select(Organization.name_ko)) == values[1]
    with pytest.raises(InvalidInput) as exc:
        run(db, csv_bytes(headers, [cells]), mapping={**mapping, "ksic": 9})
    assert set(exc.value.fields) == {"mapping"}


# ---------------------------------------------------------------- 4. row errors


def test_row_errors_name_row_file_column_and_korean_reason(db):
    headers = ["사업자 번호", "업체명", "업종 코드", "지역", "규모", "직원수", "매출", "설립"]
    rows = [row(1), row(2, ksic="Z99"), row(3, business_no="123", region="화성")]
    result = run(db, csv_bytes(headers, rows))
    assert not result.committed
    found = {(e.row, e.column): e.reason for e in result.rejected}
    assert set(found) == {(3, "업종 코드"), (4, "사업자 번호"), (4, "지역")}
    assert "알 수 없는 표준산업분류 코드" in found[(3, "업종 코드")]
    assert "사업자등록번호" in found[(4, "사업자 번호")]
    with locale("en"):
        result = run(db, csv_bytes(headers, rows))
    found = {(e.row, e.column): e.reason for e in result.rejected}
    assert "Unknown KSIC industry code" in found[(3, "업종 코드")]


def test_row_numbers_count_blank_rows_like_a_spreadsheet(db):
    """Row 1 is the header; a blank line still occupies a row number in the user's file."""
    text = (
        csv_bytes(KO, [row(1)]) + b"\r\n" + csv_bytes(KO, [row(2, ksic="Z99")]).split(b"\r\n", 1)[1]
    )
    result = run(db, text)
    assert [(e.row, e.column) for e in result.rejected] == [(4, "업종코드")]
    data = xlsx_bytes(KO, [row(1), [None] * 8, row(2, ksic="Z99")])
    result = run(db, data, filename="x.xlsx")
    assert [(e.row, e.column) for e in result.rejected] == [(4, "업종코드")]


def test_ragged_rows_are_reported(db):
    result = run(db, csv_bytes(KO, [row(1), [*row(2), "extra"], row(3)[:3]]), mode="good")
    assert [(e.row, e.column) for e in result.rejected[:1]] == [(3, "")]
    assert "칸 수가 머리글보다 많습니다" in result.rejected[0].reason
    # the short row lacks required cells
    assert {e.row for e in result.rejected} == {3, 4}
    assert result.created == 1


# ---------------------------------------------------------------- 5. modes


def _seed_existing(db, count: int = 3) -> list[list[str]]:
    rows = [row(100 + i) for i in range(count)]
    run(db, csv_bytes(KO, rows))
    db.commit()
    return rows


_BAD = [
    {"ksic": "Z99"},
    {"business_no": "123-45-67890"},
    {"region": "아틀란티스"},
    {"size": "huge"},
    {"employees": "many"},
    {"revenue": "-5"},
    {"founded": "1700"},
    {"name": ""},
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(0, 9), bad=st.sampled_from(_BAD))
def test_all_mode_bad_row_anywhere_leaves_every_table_unchanged(db, engine, position, bad):
    if org_count(db) == 0:
        _seed_existing(db)
    before = snapshot(engine)
    rows = [row(200 + i) for i in range(9)]
    rows[2] = row(100, name="바뀐이름")  # an update among the good rows
    rows.insert(position, row(300, **bad))
    result = run(db, csv_bytes(KO, rows))
    assert not result.committed
    assert result.created == result.updated == 0
    assert [e.row for e in result.rejected] and {e.row for e in result.rejected} == {position + 2}
    db.commit()  # whatever the import left in the session would now be stored
    assert snapshot(engine) == before


def test_good_mode_keeps_good_rows_and_reports_each_bad_one(db):
    rows = [row(1), row(2, ksic="Z99"), row(3), row(4, region="x"), row(5)]
    result = run(db, csv_bytes(KO, rows), mode="good")
    assert result.committed and result.mode == "good"
    assert result.created == 3
    assert [e.row for e in result.rejected] == [3, 5]
    assert set(stored(db)) == {business_no(i) for i in (1, 3, 5)}


def test_a_duplicate_business_no_in_the_file_names_the_earlier_row(db):
    rows = [row(1), row(2), row(1, name="다른이름")]
    hyphenated = row(2)
    hyphenated[0] = f"{hyphenated[0][:3]}-{hyphenated[0][3:5]}-{hyphenated[0][5:]}"
    rows.append(hyphenated)
    result = run(db, csv_bytes(KO, rows), mode="good")
    assert [(e.row, e.column) for e in result.rejected] == [
        (4, "사업자등록번호"),
        (5, "사업자등록번호"),
    ]
    assert "2행" in result.rejected[0].reason and "3행" in result.rejected[1].reason
    assert result.created == 2 and org_count(db) == 2
    result = run(db, csv_bytes(KO, rows), mode="all")
    assert not result.committed


# ---------------------------------------------------------------- 6. upsert


def test_reimport_is_an_upsert_and_is_audited(db):
    rows = [row(i) for i in range(1, 6)]
    first = run(db, csv_bytes(KO, rows))
    db.commit()
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    second = run(db, csv_bytes(KO, rows, "cp949"))
    db.commit()
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 5, [])
    assert org_count(db) == 5
    rows[3] = row(4, employees=999)
    third = run(db, csv_bytes(KO, rows))
    db.commit()
    assert (third.created, third.updated, third.unchanged) == (0, 1, 4)
    assert stored(db)[business_no(4)][4] == 999 and org_count(db) == 5
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "import.organizations")
        .order_by(AuditEvent.id)
    ).all()
    assert [
        (e.details["created"], e.details["updated"], e.details["unchanged"]) for e in events
    ] == [
        (5, 0, 0),
        (0, 0, 5),
        (0, 1, 4),
    ]
    assert events[-1].details["rejected"] == 0 and events[-1].details["mode"] == "all"


# ---------------------------------------------------------------- 7. permissions


def test_operator_creates_but_cannot_change_other_organizations(db):
    home = make_org(db, kind="operator")
    foreign = make_org(db, name_ko="남의기업")
    operator = actor_with(db, home, "operator")
    db.commit()
    foreign_row = row(1, name="바꾼이름")
    foreign_row[0] = foreign.business_no
    result = run(db, csv_bytes(KO, [row(2), foreign_row]), actor=operator, mode="good")
    assert result.created == 1
    assert [(e.row, e.column) for e in result.rejected] == [(3, "사업자등록번호")]
    assert "변경할 권한이 없습니다" in result.rejected[0].reason
    db.expire_all()
    assert db.get(Organization, foreign.id).name_ko == "남의기업"
    result = run(db, csv_bytes(KO, [row(3), foreign_row]), actor=operator)
    assert not result.committed


def test_sme_cannot_import_organizations(db):
    sme = actor_with(db, make_org(db), "sme")
    db.commit()
    before = org_count(db)
    with pytest.raises(Forbidden):
        run(db, csv_bytes(KO, [row(1)]), actor=sme)
    assert org_count(db) == before


LINK_HEADERS = ["구매기업 사업자등록번호", "협력사 사업자등록번호"]


def test_operator_imported_links_are_active_and_tiers_follow(db):
    sponsor = make_org(db, kind="sponsor")
    first, second = make_org(db), make_org(db)
    operator = actor_with(db, make_org(db, kind="operator"), "operator")
    db.commit()
    pairs = [
        [sponsor.business_no, first.business_no],
        [first.business_no, second.business_no],
        [first.business_no, second.business_no],  # the same pair twice
    ]
    table = reader.read_table(csv_bytes(LINK_HEADERS, pairs))
    result = imports.import_links(db, operator, table)
    db.commit()
    assert result.committed and result.rejected == []
    links = db.scalars(select(SupplierLink)).all()
    assert len(links) == 2
    assert all(lk.buyer_confirmed_at and lk.supplier_confirmed_at for lk in links)
    assert graph.supplier_tiers(db, sponsor.id) == {first.id: 1, second.id: 2}
    assert (result.created, result.unchanged) == (2, 1)
    again = imports.import_links(db, operator, reader.read_table(csv_bytes(LINK_HEADERS, pairs)))
    assert (again.created, again.unchanged) == (0, 3)


def test_link_rows_are_checked(db):
    own, other, supplier = make_org(db), make_org(db), make_org(db)
    sme = actor_with(db, own, "sme")
    db.commit()
    pairs = [
        [own.business_no, supplier.business_no],
        [other.business_no, supplier.business_no],
        [own.business_no, own.business_no],
        [own.business_no, "124-81-00999"],
    ]
    table = reader.read_table(csv_bytes(LINK_HEADERS, pairs))
    result = imports.import_links(db, sme, table)
    assert not result.committed
    found = {(e.row, e.column): e.reason for e in result.rejected}
    assert set(found) == {
        (3, "구매기업 사업자등록번호"),
        (4, "협력사 사업자등록번호"),
        (5, "협력사 사업자등록번호"),
    }
    db.commit()
    assert db.scalar(select(func.count()).select_from(SupplierLink)) == 0


# ---------------------------------------------------------------- 8. round trip


def _round_trip_orgs(db) -> None:
    names = [
        "똠방각하 주식회사",
        '쀍 "따옴표" 상사',
        "뷁, 쉼표; 세미콜론",
        "햏\n두 줄 기업",
        "보통기업",
    ]
    sizes = ["large", "midsize", "sme", "micro", "sme"]
    regions = ["11", "26", "41", "50", "36"]
    for i, (name, size, region) in enumerate(zip(names, sizes, regions, strict=True)):
        make_org(
            db,
            name_ko=name,
            size_class=size,
            region_code=region,
            ksic_code=["291", "29", "10", "62", "47"][i],
            employees=None if i == 4 else 10 * (i + 1),
            revenue_krw=None if i == 3 else 10**9 * (i + 1),
            founded_year=None if i == 2 else 1990 + i,
        )
    db.commit()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_export_then_import_is_unchanged_in_utf8_bom_cp949_and_xlsx(db, lang):
    _round_trip_orgs(db)
    before = stored(db)
    with locale(lang):
        headers, rows = orgs.export_orgs(db, SYSTEM_ACTOR, orgs.OrgFilters())
        assert tuple(headers) == orgs.EXPORT_HEADERS[lang]
        exported = to_csv(headers, rows)
        assert exported.startswith(b"\xef\xbb\xbf")
        # As Excel saves it: what CP949 lacks (the band column's "—", "₩") becomes "?".
        cp949 = exported.decode("utf-8-sig").encode("cp949", errors="replace")
        files = [
            (exported, "orgs.csv", "utf-8-sig"),
            (cp949, "orgs.csv", "cp949"),
            (to_xlsx(headers, rows), "orgs.xlsx", "xlsx"),
        ]
        for data, filename, encoding in files:
            result = run(db, data, filename=filename)
            assert result.rejected == [], (encoding, result.rejected)
            assert (result.encoding, result.created, result.updated, result.unchanged) == (
                encoding,
                0,
                0,
                len(before),
            )
    db.commit()
    assert stored(db) == before


# ---------------------------------------------------------------- 9. fuzzing


def _import_never_crashes(db, data: bytes, mode: str = "all", filename: str = "") -> None:
    count = org_count(db)
    try:
        result = run(db, data, mode=mode, filename=filename)
    except InvalidInput:
        assert org_count(db) == count
        return
    finally:
        pass
    if mode == "all":
        if result.committed:
            assert result.rejected == []
            assert result.created + result.updated + result.unchanged == result.total_rows
        else:
            assert result.rejected and org_count(db) == count and not db.new and not db.dirty
    db.rollback()


_FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(data=st.binary(max_size=2048))
def test_fuzz_arbitrary_bytes(db, data):
    _import_never_crashes(db, data)
    _import_never_crashes(db, data, filename="x.xlsx")


@_FUZZ
@given(text=st.text(max_size=600), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp949"]))
def test_fuzz_arbitrary_text(db, text, encoding):
    _import_never_crashes(db, text.encode(encoding, errors="ignore"))


_cell = st.one_of(
    st.sampled_from(
        ["=1+1", "+82", "-3", "@SUM(A1)", '"', '""', "\n", "\r\n", "\t", "\x00", "똠", ",", ";"]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.builds(lambda s, n: s * n, st.sampled_from(["가", "x", "="]), st.integers(150, 5000)),
    st.sampled_from([business_no(1), business_no(2), "C29", "경기", "중소", "12", "2001"]),
)


@_FUZZ
@given(
    headers=st.lists(st.sampled_from(KO + EN + ["", "=x", "기타"]), min_size=1, max_size=10),
    rows=st.lists(st.lists(_cell, max_size=12), max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp949"]),
    mode=st.sampled_from(["all", "good"]),
    dialect=st.sampled_from([",", ";", "\t"]),
)
def test_fuzz_csv_cells(db, headers, rows, encoding, mode, dialect):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=dialect).writerows([headers, *rows])
    data = buffer.getvalue().encode(encoding, errors="ignore")
    _import_never_crashes(db, data, mode=mode)


@_FUZZ
@given(rows=st.lists(st.lists(_cell, max_size=10), max_size=6))
def test_fuzz_good_rows_with_formulas_in_all_mode(db, rows):
    """Valid rows with random extra rows: either all are stored, or nothing."""
    body = [row(1), row(2), *[(r + [""] * 8)[:8] for r in rows], row(3)]
    _import_never_crashes(db, csv_bytes(KO, body))


@_FUZZ
@given(cells=st.lists(st.lists(_cell, max_size=8), max_size=5))
def test_fuzz_xlsx_cells(db, cells):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    clean = [[ILLEGAL_CHARACTERS_RE.sub("", c)[:32_000] for c in r] for r in cells]
    _import_never_crashes(db, xlsx_bytes(KO, clean), filename="f.xlsx")


def test_a_million_empty_rows_finish_quickly(db):
    for data in (
        csv_bytes(KO, []) + b"\n" * 1_000_000,
        csv_bytes(KO, [row(1)]) + b",,,,,,,\r\n" * 200_000 + csv_bytes(KO, [row(2)])[-60:],
    ):
        started = time.monotonic()
        with time_limit(30):
            try:
                result = run(db, data)
            except InvalidInput:
                continue
        assert result.rejected == [] or not result.committed
        assert time.monotonic() - started < 15
        db.rollback()


def test_too_many_rows_are_refused(db, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ROWS", 10)
    with pytest.raises(InvalidInput) as exc:
        run(db, csv_bytes(KO, [row(i) for i in range(1, 13)]))
    assert "행" in file_error(exc)


# ---------------------------------------------------------------- 10. CLI

runner = CliRunner()


def cli(*args: str) -> tuple[int, dict]:
    result = runner.invoke(cli_app, ["import", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_cli_import_orgs(cli_env, db, tmp_path, engine):
    path = tmp_path / "orgs.csv"
    path.write_bytes(csv_bytes(KO, [row(1, name="똠기업"), row(2)], "cp949"))
    code, out = cli("orgs", str(path))
    assert code == 0, out
    assert {"encoding", "created", "updated", "rejected"} <= set(out)
    assert (out["encoding"], out["created"], out["updated"], out["rejected"]) == ("cp949", 2, 0, [])
    assert out["committed"] is True
    code, out = cli("orgs", str(path), "--encoding", "cp949")
    assert (code, out["encoding"], out["unchanged"]) == (0, "cp949", 2)
    code, out = cli("orgs", str(path), "--encoding", "utf-8")
    assert code == 2 and out["code"] == "invalid_input" and "file" in out["details"]

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(KO, [row(3), row(4, ksic="Z99"), row(5)]))
    before = snapshot(engine)
    code, out = cli("orgs", str(bad))
    assert code == 2 and out["committed"] is False
    assert out["rejected"] == [
        {"row": 3, "column": "업종코드", "reason": out["rejected"][0]["reason"]}
    ]
    assert "표준산업분류" in out["rejected"][0]["reason"]
    assert snapshot(engine) == before
    code, out = cli("orgs", str(bad), "--mode", "good")
    assert code == 0 and out["created"] == 2 and [r["row"] for r in out["rejected"]] == [3]
    assert org_count(db) == 4


def test_cli_refuses_missing_file_and_bad_mode(cli_env, tmp_path):
    code, out = cli("orgs", str(tmp_path / "nope.csv"))
    assert code == 2 and out["code"] == "invalid_input"
    path = tmp_path / "orgs.csv"
    path.write_bytes(csv_bytes(KO, [row(1)]))
    code, out = cli("orgs", str(path), "--mode", "some")
    assert code == 2 and out["code"] == "invalid_input"


def test_cli_import_links(cli_env, db, tmp_path):
    buyer, supplier = make_org(db, kind="sponsor"), make_org(db)
    db.commit()
    path = tmp_path / "links.csv"
    path.write_bytes(csv_bytes(LINK_HEADERS, [[buyer.business_no, supplier.business_no]]))
    code, out = cli("links", str(path))
    assert code == 0 and out["created"] == 1
    assert graph.supplier_tiers(db, buyer.id) == {supplier.id: 1}
