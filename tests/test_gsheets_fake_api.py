"""The fake Sheets API answers the real gspread client the way Google does (so the store tests mean something)."""
from __future__ import annotations

import pytest
import requests
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

from sheets_schema.gsheets.api import SheetsApi

APPEND_RAW = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}


@pytest.fixture
def api(fake_sheets, service_account_file, waits):
    api = SheetsApi(fake_sheets.spreadsheet_id, str(service_account_file), api_base=fake_sheets.url, sleep=waits)
    yield api
    api.close()


@pytest.fixture
def sheet(api):
    return api.client.open_by_key(api.spreadsheet_id)


def test_user_entered_turns_a_zip_into_a_number_and_a_form_value_into_a_formula_raw_keeps_both_text(sheet):
    ws = sheet.sheet1
    ws.update([["02134", '=IMPORTXML("http://x","//a")']], "A1", value_input_option="USER_ENTERED")
    ws.update([["02134", '=IMPORTXML("http://x","//a")']], "A2", value_input_option="RAW")
    assert ws.get("A1:B2", value_render_option="FORMULA") == [[2134, '=IMPORTXML("http://x","//a")'],
                                                               ["02134", '=IMPORTXML("http://x","//a")']]
    assert ws.cell(2, 2, value_render_option="UNFORMATTED_VALUE").value == '=IMPORTXML("http://x","//a")'


def test_quoted_tab_names_open_ranges_and_batch_get(sheet, api):
    sheet.add_worksheet("Form Fields", rows=100, cols=5).update([["Key", "Field"], ["1.3", "first_name"]], "A1")
    assert api.batch_get(["'Form Fields'!A1:Z", "'Form Fields'!2:2", "Sheet1"]) == [
        [["Key", "Field"], ["1.3", "first_name"]], [["1.3", "first_name"]], []]


def test_append_finds_the_table_and_inserts_rows_after_it(sheet, api, fake_sheets):
    ws = sheet.sheet1
    ws.update([["Lead ID", "Name"], ["L-1", "Ann"], ["L-2", "Bo"]], "A1")
    ws.update([["total"]], "A6")  # a person's note below the table, after a blank row
    answer = sheet.values_append("Sheet1!A1:B", APPEND_RAW, {"values": [["L-3", "Cy"]]})
    assert answer["tableRange"] == "Sheet1!A1:B3"
    assert answer["updates"]["updatedRange"] == "Sheet1!A4:B4"
    assert [row[0] for row in fake_sheets.table("Sheet1") if row] == ["Lead ID", "L-1", "L-2", "L-3", "total"]


def test_formatted_and_unformatted_values_follow_the_number_format(sheet, api, fake_sheets):
    ws = sheet.sheet1
    ws.update([["$1,200", "12%", "2026-11-24 10:30:00"]], "A1", value_input_option="USER_ENTERED")
    assert ws.get("A1:C1") == [["$1,200.00", "12.00%", "2026-11-24 10:30:00"]]
    unformatted = api.batch_get(["Sheet1!A1:C1"])[0][0]
    assert unformatted[:2] == [1200, 0.12] and isinstance(unformatted[2], float)


def test_errors_have_googles_shape(sheet, api, fake_sheets):
    with pytest.raises(APIError) as bad_range:
        sheet.values_get("'No Such Tab'!A1")
    assert bad_range.value.code == 400 and bad_range.value.error["status"] == "INVALID_ARGUMENT"
    fake_sheets.fail_next(1, 429)
    with pytest.raises(APIError) as quota:
        sheet.values_get("Sheet1!A1")
    assert quota.value.code == 429 and "Quota exceeded" in quota.value.error["message"]
    r = requests.get(f"{fake_sheets.url}/v4/spreadsheets/{fake_sheets.spreadsheet_id}", timeout=5)
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_a_write_batch_is_atomic(sheet, fake_sheets):
    with pytest.raises(APIError):
        sheet.batch_update({"requests": [{"addSheet": {"properties": {"title": "New"}}},
                                         {"addSheet": {"properties": {"title": "Sheet1"}}}]})
    assert "New" not in fake_sheets.sheets


def test_append_writes_from_the_tables_first_column_and_reports_the_tables_columns(sheet, api, fake_sheets):
    ws = sheet.sheet1
    ws.update([["Lead ID", "Name"], ["L-1", "Ann"]], "B1")  # column A has no header and no values
    answer = sheet.values_append("Sheet1!A1:C", APPEND_RAW, {"values": [["L-2", "Bo"]]})
    assert answer["tableRange"] == "Sheet1!B1:C2"  # as Google: the table starts at B ...
    assert answer["updates"]["updatedRange"] == "Sheet1!B3:C3"  # ... and so does the appended row
    assert fake_sheets.table("Sheet1")[2] == ["", "L-2", "Bo"]


def test_typed_text_starting_with_plus_or_minus_is_a_formula_unless_it_is_a_number(sheet, fake_sheets):
    fake_sheets.type("Sheet1", "A1", "+1+1")
    fake_sheets.type("Sheet1", "A2", "-1+1")
    fake_sheets.type("Sheet1", "A3", "-5")
    fake_sheets.type("Sheet1", "A4", "+1 201 555 0142")
    cells = [fake_sheets.sheets["Sheet1"].cell(r, 0) for r in range(4)]
    assert [c.formula for c in cells] == ["=+1+1", "=-1+1", None, "=+1 201 555 0142"]
    assert cells[2].value == -5


def test_a_gateway_error_is_an_html_page_on_which_gspread_sets_code_minus_one(sheet, fake_sheets):
    fake_sheets.fail_next(1, 502, html=True)
    with pytest.raises(APIError) as gateway:
        sheet.values_get("Sheet1!A1")
    assert gateway.value.code == -1 and gateway.value.response.status_code == 502
    assert gateway.value.response.headers["Content-Type"].startswith("text/html")


def test_quota_is_a_sliding_minute_per_user_metered_separately_for_reads_and_writes(sheet, fake_sheets):
    from tests.fake_sheets_api import Quota
    now = [1000.0]
    fake_sheets.quota = Quota(limit=3, clock=lambda: now[0])
    ws = sheet.sheet1
    for i in range(3):
        ws.update([[i]], "A1")
        now[0] += 10
    with pytest.raises(APIError) as refused:
        ws.update([["x"]], "A1")
    error = refused.value.response.json()["error"]
    assert error["code"] == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert "'Write requests per minute per user'" in error["message"]
    assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert error["details"][0]["metadata"]["quota_limit"] == "WriteRequestsPerMinutePerUser"
    assert ws.get("A1") == [["2"]]  # reads have their own allowance; the refused write did nothing
    now[0] += 31  # 61 s after the first write: it has left the window, the other two have not
    ws.update([["y"]], "A1")
    with pytest.raises(APIError):
        ws.update([["z"]], "A1")
    assert fake_sheets.statuses("values.update") == {200: 4, 429: 2}


def test_a_person_dragging_a_column_or_inserting_one_moves_the_cells_as_the_ui_does(sheet, fake_sheets):
    ws = sheet.sheet1
    ws.update([["Lead ID", "Email", "Phone", "ZIP"], ["L-1", "a@x.com", "201", "07030"]], "A1", raw=True)
    sheet_id = fake_sheets.sheets["Sheet1"].sheet_id
    fake_sheets.person({"moveDimension": {"source": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 1,
                                                     "endIndex": 2}, "destinationIndex": 4}})
    assert fake_sheets.table("Sheet1")[0] == ["Lead ID", "Phone", "ZIP", "Email"]
    fake_sheets.person({"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 1,
                                                      "endIndex": 2}}})
    assert ws.get("A1:E2") == [["Lead ID", "", "Phone", "ZIP", "Email"], ["L-1", "", "201", "07030", "a@x.com"]]


def test_a_write_the_client_gave_up_on_still_lands(api, fake_sheets):
    import time
    api.http.set_timeout(0.2)
    fake_sheets.latency = 0.5
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        api.http.values_update(fake_sheets.spreadsheet_id, "Sheet1!A1", params={"valueInputOption": "RAW"},
                               body={"values": [["landed"]]})
    assert time.monotonic() - started < 0.45
    fake_sheets.wait_idle()
    assert fake_sheets.table("Sheet1")[0] == ["landed"]


def test_a_batch_update_answers_with_the_spreadsheet_after_it_trimmed_to_the_fields_asked(sheet, api, fake_sheets):
    ws = sheet.sheet1
    ws.update([["Lead ID", "Name"], ["L-1", "Ann"]], "A1")
    ws.update([["note"]], "D9")  # a person's note far below: appendCells goes after the last row with data
    fake_sheets.move_column("Sheet1", "Name", 0)  # a person drags Name to column A just before our write
    rows = [{"values": [{"userEnteredValue": {"stringValue": "L-2"}}, {"userEnteredValue": {"stringValue": "Bo"}}]}]
    answer = api.append_rows(fake_sheets.sheets["Sheet1"].sheet_id, rows, read_back=["Sheet1!1:1", "Sheet1!A2:A"])
    header, tail = answer["Sheet1"]
    assert "startRow" not in header  # proto3 JSON leaves a 0 out, as Google does
    assert [c.get("formattedValue") for c in header["rowData"][0]["values"]] == ["Name", "Lead ID"]  # after the move
    assert tail["startRow"] == 1 and [r.get("values", [{}])[0].get("formattedValue") for r in tail["rowData"]] == \
        ["Ann"] + [None] * 7 + ["L-2"]  # the new row is row 10, under the headers as they were when we wrote
    assert set(header["rowData"][0]["values"][0]) == {"formattedValue"}  # the fields mask: nothing else


def test_a_bad_fields_mask_is_refused_before_anything_is_written(api, fake_sheets):
    with pytest.raises(APIError) as refused:
        api.http.request("post", SPREADSHEET_BATCH_UPDATE_URL % fake_sheets.spreadsheet_id,
                                  params={"fields": "replies,(oops"},
                                  json={"requests": [{"appendCells": {"sheetId": fake_sheets.sheets["Sheet1"].sheet_id,
                                                                      "rows": [{"values": [{"userEnteredValue": {
                                                                          "stringValue": "x"}}]}],
                                                                      "fields": "userEnteredValue"}}]})
    assert refused.value.code == 400
    assert fake_sheets.table("Sheet1") == []
