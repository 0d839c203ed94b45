"""Texts through Twilio: the SMS channel, the check of Twilio's webhook signature, and TwiML answers.

The only module that imports twilio for messages. A refusal Twilio calls permanent (an invalid or
unsubscribed number) raises ChannelError(permanent=True); a request that went out and got no
answer is outcome_unknown, so it is never sent again to a lead.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from automations.notify.delivery import ChannelError
from automations.ports import Message

TWILIO_PERMANENT = {21211, 21214, 21217, 21401, 21407, 21408, 21421, 21602, 21604, 21610, 21612, 21614, 21617,
                    21635}  # invalid/unreachable/unsubscribed number, empty or oversized body


@contextmanager
def twilio_failures(may_have_happened: str, permanent: set[int], *,
                    unsubscribed_code: int | None = None) -> Iterator[None]:
    """Twilio's failures as ChannelError, for texts and calls alike: a refusal whose code is in
    `permanent` is permanent; a request that went out and got no answer is outcome_unknown
    (`may_have_happened` says what); anything else is worth retrying."""
    import requests
    from twilio.base.exceptions import TwilioException, TwilioRestException
    try:
        yield
    except TwilioRestException as exc:
        raise ChannelError(f"Twilio error {exc.code or exc.status}: {exc.msg}", permanent=exc.code in permanent,
                           unsubscribed=unsubscribed_code is not None and exc.code == unsubscribed_code) from None
    except requests.RequestException as exc:
        if _request_may_have_landed(exc):
            raise ChannelError(f"Twilio did not answer ({type(exc).__name__}); {may_have_happened}",
                               outcome_unknown=True) from None
        raise ChannelError(f"Twilio unreachable ({type(exc).__name__})") from None
    except TwilioException as exc:
        raise ChannelError(f"Twilio unreachable ({type(exc).__name__})") from None


class TwilioSms:
    """SMS through the twilio client. A number or a messaging service SID (MG...) sends."""

    def __init__(self, account_sid: str, auth_token: str, sender: str, *, base_url: str = "",
                 status_callback=None, timeout: float = 10.0) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs every request at INFO
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.sender = sender
        self.status_callback = status_callback  # Message -> URL ("" for none)

    def send(self, message: Message) -> str | None:
        params: dict[str, Any] = {"to": message.to, "body": message.body}
        if self.sender.startswith("MG"):
            params["messaging_service_sid"] = self.sender
        else:
            params["from_"] = self.sender
        callback = self.status_callback(message) if self.status_callback else ""
        if callback:
            params["status_callback"] = callback
        with twilio_failures("the text may have been sent", TWILIO_PERMANENT, unsubscribed_code=21610):
            return self.client.messages.create(**params).sid


    def find_sent(self, message: Message, since) -> str | None:
        """The sid of a text Twilio already took for `message` since `since` (a send interrupted
        between Twilio's accept and our record), else None; None too when Twilio cannot say.

        Twilio's Messages API takes no idempotency key, so the tag is what identifies our message:
        the same To, the same body (it carries the lead's number and the step), created since the
        claim. The newest 50 messages to that number are enough: a producer gets a few an hour.
        """
        from twilio.base.exceptions import TwilioException
        import requests
        try:
            for sent in self.client.messages.list(to=message.to, limit=50):
                created = sent.date_created
                if sent.body == message.body and (created is None or created >= since.replace(microsecond=0)):
                    return sent.sid
        except (TwilioException, requests.RequestException, ValueError):
            log.warning("could not look up earlier texts at Twilio; an interrupted text is sent again")
        return None


log = logging.getLogger(__name__)


def _request_may_have_landed(exc) -> bool:
    """Whether Twilio may have received the request: it went out and no answer came back (a read
    timeout, a connection dropped mid-request, a cut response). A refused connection, a DNS or
    TLS failure or a connect timeout sent nothing, so retrying those is safe."""
    from requests import exceptions as http
    from urllib3.exceptions import ProtocolError
    if isinstance(exc, (http.ConnectTimeout, http.SSLError, http.ProxyError)):
        return False
    if isinstance(exc, (http.ReadTimeout, http.ChunkedEncodingError, http.ContentDecodingError)):
        return True
    if isinstance(exc, http.ConnectionError):  # urllib3 wraps failures to connect in MaxRetryError
        return isinstance(exc.args[0] if exc.args else None, (ProtocolError, ConnectionResetError))
    return False


def signature_valid(auth_token: str, url: str, params: Mapping[str, Any], signature: str) -> bool:
    """X-Twilio-Signature over the URL Twilio called and the posted parameters."""
    from twilio.request_validator import RequestValidator
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def twiml_reply(text: str = "") -> str:
    """The TwiML answer to an inbound text: our reply, or nothing."""
    from twilio.twiml.messaging_response import MessagingResponse
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
