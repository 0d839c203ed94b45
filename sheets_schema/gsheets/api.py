"""The Sheets v4 calls leadrouter makes, through gspread's HTTP client, with our retry policy.

gspread's own BackOffHTTPClient is not meant for production (its counter is shared across
instances), so the policy lives here (tenacity, keyed on the HTTP status):
- 429 means the request was refused before it ran: always safe to retry after a wait.
- 5xx and timeouts may have been applied: reads and idempotent writes are retried, an
  append is not (`SheetsUnavailable.uncertain` tells the caller to look for it first).
  Google's front end answers some 502/504s with an HTML page, on which gspread sets
  `APIError.code = -1`: the status is then taken from the response itself.
- other 4xx (not shared, tab deleted, bad range) are not retried.
- the append on the form's request path has a time budget instead (`append_rows(budget=...)`):
  one short retry after a 429 at most, then the caller keeps the lead in its outbox.
Waits are injectable (`sleep=`) so tests move on without sleeping.

The endpoint can be pointed elsewhere (LEADROUTER_SHEETS_API, for emulators and tests):
a transport adapter mounted on gspread's requests session rewrites the Sheets host. The
service-account key file's own token_uri is used for OAuth, as google-auth does.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import google.auth.transport.requests
import gspread
import requests
from google.auth import exceptions as auth_errors
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from automations.errors import StoreUnavailable

from .quota import WriteWindow

log = logging.getLogger("leadrouter.sheets")

SHEETS_API = "https://sheets.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
READ = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}
# what an append reads back in its own answer (a partial response: the grid's values as text, not
# the whole spreadsheet's properties, protections and charts)
READ_BACK_FIELDS = "updatedSpreadsheet.sheets(properties.title,data(startRow,startColumn,rowData.values.formattedValue))"


class SheetsUnavailable(StoreUnavailable):
    """The sheet could not be read or written. `uncertain`: a write may have landed anyway.

    `in_flight`: it may even still be running at Google (we gave up waiting, or a gateway did:
    a timeout, a dropped connection, a 502/504), so a read taken right now may not show it yet.
    A 500/503 is Google's own answer: whatever it did is done, a read from now on shows it.
    """

    def __init__(self, message: str, *, code: int | None = None, uncertain: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.uncertain = uncertain
        self.in_flight = uncertain and (code is None or code in (502, 504))


class RebaseAdapter(HTTPAdapter):
    """Sends requests for https://sheets.googleapis.com to another base URL (an emulator)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        if request.url.startswith(SHEETS_API):
            request.url = self.base + request.url[len(SHEETS_API):]
        return super().send(request, *args, **kwargs)


HOT_RETRY_WAIT = 0.15  # the one retry after a 429 on the form's request path waits this long
HOT_MIN_ATTEMPT = 0.2  # an attempt with less time than this left is not worth sending


def _code(exc: BaseException) -> int | None:
    """The HTTP status of a failed call: gspread's code, else (an HTML error page) the response's."""
    if not isinstance(exc, APIError):
        return None
    if isinstance(exc.code, int) and 100 <= exc.code < 600:
        return exc.code
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _never_sent(exc: BaseException) -> bool:
    """Failed before a byte reached Google (no connection): certainly not applied."""
    return isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc.args))


def _refused(exc: BaseException) -> bool:
    """Rejected before it ran (quota): safe to send again."""
    return _code(exc) == 429


def _transient(exc: BaseException) -> bool:
    code = _code(exc)
    return (code == 429 or (code is not None and code >= 500)
            or isinstance(exc, (requests.RequestException, auth_errors.TransportError)))


class SheetsApi:
    """One spreadsheet, the handful of calls we need, each returning Google's JSON."""

    def __init__(self, spreadsheet_id: str, credentials_file: str, *, api_base: str = SHEETS_API,
                 timeout: float = 10.0, sleep: Callable[[float], None] = time.sleep, attempts: int = 5,
                 max_wait: float = 32.0, append_timeout: float = 3.0) -> None:
        self.spreadsheet_id = spreadsheet_id
        creds = service_account.Credentials.from_service_account_file(credentials_file, scopes=SCOPES)
        self.client = gspread.Client(auth=creds)
        self.http = self.client.http_client
        self.http.set_timeout(timeout)
        if api_base.rstrip("/") != SHEETS_API:
            self.http.session.mount(SHEETS_API, RebaseAdapter(api_base))
            if urlsplit(api_base).hostname in ("127.0.0.1", "localhost", "::1"):
                self.http.session.trust_env = False  # an emulator on this machine: no proxy look-ups
        self.sleep = sleep
        self.attempts = attempts
        self.append_timeout = append_timeout
        self.max_wait = max_wait
        self.writes = WriteWindow()  # our write calls in the last minute (Google's quota is per user)
        self._limits = threading.local()  # .budget: seconds of waits a call may spend on this thread

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        """Calls on this thread wait at most `seconds` in all between their attempts (a tick that
        meets 429s gives up within its interval and leaves the rest for the next tick)."""
        before = getattr(self._limits, "budget", None)
        self._limits.budget = seconds
        try:
            yield
        finally:
            self._limits.budget = before

    # ---- the retry policy ----
    def _call(self, what: str, fn: Callable[[], Any], *, idempotent: bool, attempts: int | None = None,
              write: bool = False) -> Any:
        retryable = _transient if idempotent else _refused
        budget = getattr(self._limits, "budget", None)
        stop = stop_after_attempt(attempts or self.attempts)
        if budget is not None:  # the waits between attempts fit in the caller's time (a tick's interval)
            stop = stop | (lambda rs: rs.idle_for + min(self.max_wait, 0.5 * 2 ** rs.attempt_number) > budget)

        def once() -> Any:
            if write:
                self.writes.record()
            return fn()
        retrying = Retrying(stop=stop,
                            wait=wait_exponential(multiplier=0.5, max=self.max_wait) + wait_random(0, 0.5),
                            retry=retry_if_exception(retryable), sleep=self.sleep, reraise=True,
                            before_sleep=lambda rs: log.warning("Sheets %s failed (%s); retrying", what,
                                                                _describe(rs.outcome.exception())))
        try:
            return retrying(once)
        except (APIError, requests.RequestException, auth_errors.GoogleAuthError) as exc:
            raise _unavailable(what, exc, idempotent) from exc

    def keep_token_fresh(self, ahead: float = 600.0) -> None:
        """Refresh the OAuth token when it expires within `ahead` seconds (called by the tick), so
        that the form's append never waits for the token endpoint."""
        creds = self.http.auth
        expiry = getattr(creds, "expiry", None)
        if creds.token and expiry is not None and \
                (expiry - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds() > ahead:
            return
        try:
            token_session = requests.Session()
            token_session.trust_env = self.http.session.trust_env
            with token_session:
                creds.refresh(google.auth.transport.requests.Request(token_session))
        except (auth_errors.GoogleAuthError, requests.RequestException) as exc:
            log.warning("could not refresh the Sheets access token ahead of time (%s)", type(exc).__name__)

    # ---- calls ----
    def metadata(self, attempts: int | None = None) -> dict[str, Any]:
        return self._call("get", lambda: self.http.fetch_sheet_metadata(self.spreadsheet_id), idempotent=True,
                          attempts=attempts)

    def batch_get(self, ranges: list[str], attempts: int | None = None) -> list[list[list[Any]]]:
        """values.batchGet, unformatted (ZIP '02134' stays text, times come back as serial numbers)."""
        def go():
            return self.http.values_batch_get(self.spreadsheet_id, ranges, params=dict(READ))
        answer = self._call("values.batchGet", go, idempotent=True, attempts=attempts)
        return [vr.get("values", []) for vr in answer.get("valueRanges", [])]

    def get(self, a1: str) -> list[list[Any]]:
        answer = self._call("values.get", lambda: self.http.values_get(self.spreadsheet_id, a1, params=dict(READ)),
                            idempotent=True)
        return answer.get("values", [])

    def append_rows(self, sheet_id: int, rows: list[dict[str, Any]], *, read_back: list[str],
                    attempts: int | None = None, budget: float | None = None) -> dict[str, Any]:
        """New rows at the end of a tab (appendCells) and, in the same call, the ranges `read_back`
        as they are right after (the header row: did a person move a column since we last looked?).

        Not idempotent: only 429s are retried here. On the form's request path pass `budget`
        (seconds, waits included): a slow or refusing Google must not hold the form, the lead
        waits in the outbox instead. Within the budget there is at most one short retry after a
        429; each attempt's timeout is what is left. Returns {title: [GridData, ...]} for the tabs
        of `read_back`, in its order.
        """
        url = SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id
        body = _reading_back([{"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": "userEnteredValue"}}],
                             read_back)

        def go(timeout: float) -> dict[str, Any]:
            self.writes.record()
            response = self.http.session.post(url, params={"fields": READ_BACK_FIELDS}, json=body, timeout=timeout)
            if not response.ok:
                raise APIError(response)
            return grids_by_title(response.json())
        if budget is None:
            return self._call("appendCells", lambda: go(self.append_timeout), idempotent=False, attempts=attempts)
        started, waited, tries = time.monotonic(), 0.0, attempts or 2
        for attempt in range(1, tries + 1):
            left = budget - (time.monotonic() - started) - waited
            try:
                return go(max(0.05, min(self.append_timeout, left)))
            except (APIError, requests.RequestException, auth_errors.GoogleAuthError) as exc:
                left = budget - (time.monotonic() - started) - waited
                if attempt < tries and _refused(exc) and left - HOT_RETRY_WAIT >= HOT_MIN_ATTEMPT:
                    log.warning("Sheets appendCells refused (%s); one short retry", _describe(exc))
                    self.sleep(HOT_RETRY_WAIT)
                    waited += HOT_RETRY_WAIT
                    continue
                raise _unavailable("appendCells", exc, idempotent=False) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def batch_update(self, requests_: list[dict[str, Any]], *, idempotent: bool,
                     read_back: list[str] | None = None) -> dict[str, Any]:
        """spreadsheets.batchUpdate; with `read_back`, those ranges as they are right after it, in the
        same answer: {title: [GridData, ...]} (see append_rows)."""
        if not read_back:
            return self._call("batchUpdate", lambda: self.http.batch_update(self.spreadsheet_id, {"requests": requests_}),
                              idempotent=idempotent, write=True)
        body = _reading_back(requests_, read_back)
        answer = self._call("batchUpdate", lambda: self.http.request(
            "post", SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id, params={"fields": READ_BACK_FIELDS},
            json=body).json(), idempotent=idempotent, write=True)
        return grids_by_title(answer)

    def values_batch_update(self, data: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"valueInputOption": "RAW", "data": data}
        return self._call("values.batchUpdate",
                          lambda: self.http.values_batch_update(self.spreadsheet_id, body), idempotent=True,
                          write=True)

    def close(self) -> None:
        self.http.session.close()


def _reading_back(requests_: list[dict[str, Any]], ranges: list[str]) -> dict[str, Any]:
    """A batchUpdate body whose answer holds `ranges` as they are after these requests."""
    return {"requests": requests_, "includeSpreadsheetInResponse": True, "responseRanges": ranges,
            "responseIncludeGridData": True}


def grids_by_title(answer: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A batchUpdate's read-back: {tab title: [GridData of each range asked, in order]}."""
    sheets = answer.get("updatedSpreadsheet", {}).get("sheets", [])
    return {s.get("properties", {}).get("title"): s.get("data", []) for s in sheets if s.get("data")}


def _unavailable(what: str, exc: BaseException, idempotent: bool) -> SheetsUnavailable:
    code = _code(exc)
    uncertain = (not idempotent and not _refused(exc) and not _never_sent(exc)
                 and (code is None or code >= 500))
    return SheetsUnavailable(f"Sheets {what} failed: {_describe(exc)}", code=code, uncertain=uncertain)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, APIError):
        if _code(exc) != exc.code:  # an HTML error page: its text is markup, not a message
            return f"{_code(exc)} (an HTML error page from Google's front end)"
        return f"{exc.code} {exc.error.get('status', '')}: {str(exc.error.get('message', ''))[:200]}"
    return type(exc).__name__ if exc else "unknown error"
