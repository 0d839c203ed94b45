"""The Sheets v4 calls leadrouter makes, through gspread's HTTP client, with our retry policy.

gspread's own BackOffHTTPClient is not meant for production (its counter is shared across
instances), so the policy lives here (tenacity, keyed on `APIError.code`):
- 429 means the request was refused before it ran: always safe to retry after a wait.
- 5xx and timeouts may have been applied: reads and idempotent writes are retried, an
  append is not (`SheetsUnavailable.uncertain` tells the caller to look for it first).
- other 4xx (not shared, tab deleted, bad range) are not retried.
Waits are injectable (`sleep=`) so tests move on without sleeping.

The endpoint can be pointed elsewhere (LEADROUTER_SHEETS_API, for emulators and tests):
a transport adapter mounted on gspread's requests session rewrites the Sheets host. The
service-account key file's own token_uri is used for OAuth, as google-auth does.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import gspread
import requests
from google.auth import exceptions as auth_errors
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_VALUES_APPEND_URL
from gspread.utils import quote
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from automations.errors import StoreUnavailable

log = logging.getLogger("leadrouter.sheets")

SHEETS_API = "https://sheets.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
READ = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}


class SheetsUnavailable(StoreUnavailable):
    """The sheet could not be read or written. `uncertain`: a write may have landed anyway."""

    def __init__(self, message: str, *, code: int | None = None, uncertain: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.uncertain = uncertain


class RebaseAdapter(HTTPAdapter):
    """Sends requests for https://sheets.googleapis.com to another base URL (an emulator)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        if request.url.startswith(SHEETS_API):
            request.url = self.base + request.url[len(SHEETS_API):]
        return super().send(request, *args, **kwargs)


def _code(exc: BaseException) -> int | None:
    return exc.code if isinstance(exc, APIError) else None


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

    # ---- the retry policy ----
    def _call(self, what: str, fn: Callable[[], Any], *, idempotent: bool, attempts: int | None = None) -> Any:
        retryable = _transient if idempotent else _refused
        retrying = Retrying(stop=stop_after_attempt(attempts or self.attempts),
                            wait=wait_exponential(multiplier=0.5, max=self.max_wait) + wait_random(0, 0.5),
                            retry=retry_if_exception(retryable), sleep=self.sleep, reraise=True,
                            before_sleep=lambda rs: log.warning("Sheets %s failed (%s); retrying", what,
                                                                _describe(rs.outcome.exception())))
        try:
            return retrying(fn)
        except (APIError, requests.RequestException, auth_errors.GoogleAuthError) as exc:
            code = _code(exc)
            uncertain = not idempotent and not _refused(exc) and (code is None or code >= 500)
            raise SheetsUnavailable(f"Sheets {what} failed: {_describe(exc)}", code=code,
                                    uncertain=uncertain) from exc

    # ---- calls ----
    def metadata(self) -> dict[str, Any]:
        return self._call("get", lambda: self.http.fetch_sheet_metadata(self.spreadsheet_id), idempotent=True)

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

    def append(self, a1: str, rows: list[list[Any]], attempts: int | None = None) -> dict[str, Any]:
        """values.append, RAW, inserting rows. Not idempotent: only 429s are retried here.

        It is on the form's request path, so it has its own short timeout (a hanging Google
        must not hold the form for long: the lead waits in the outbox instead).
        """
        params = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS", "includeValuesInResponse": "false"}
        url = SPREADSHEET_VALUES_APPEND_URL % (self.spreadsheet_id, quote(a1))

        def go() -> dict[str, Any]:
            response = self.http.session.post(url, params=params, json={"values": rows}, timeout=self.append_timeout)
            if not response.ok:
                raise APIError(response)
            return response.json()
        return self._call("values.append", go, idempotent=False, attempts=attempts)

    def batch_update(self, requests_: list[dict[str, Any]], *, idempotent: bool) -> dict[str, Any]:
        return self._call("batchUpdate", lambda: self.http.batch_update(self.spreadsheet_id, {"requests": requests_}),
                          idempotent=idempotent)

    def values_batch_update(self, data: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"valueInputOption": "RAW", "data": data}
        return self._call("values.batchUpdate",
                          lambda: self.http.values_batch_update(self.spreadsheet_id, body), idempotent=True)

    def close(self) -> None:
        self.http.session.close()


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, APIError):
        return f"{exc.code} {exc.error.get('status', '')}: {str(exc.error.get('message', ''))[:200]}"
    return type(exc).__name__ if exc else "unknown error"
