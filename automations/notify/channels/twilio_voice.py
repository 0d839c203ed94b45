"""Calls through Twilio Voice: the channel that places call-connect offers, and the TwiML our
/voice/... endpoints answer with (rendered from call_connect.prompts.Prompt).

Beside the SMS channel (twilio.py), with the same error rules: a number Twilio calls invalid
fails permanently; an outage is retried from the outbox (while the offer is still useful); a
request that went out with no answer back is outcome_unknown. The only importer of
twilio's voice classes.
"""
from __future__ import annotations

import logging
from typing import Callable

from automations.call_connect.prompts import GATHER_SECONDS, Prompt
from automations.notify.delivery import ChannelError
from automations.ports import Message

from .twilio import TWILIO_PERMANENT, twilio_failures

VOICE_PERMANENT = TWILIO_PERMANENT | {13223, 13224, 13225, 13226, 21215, 21216}  # invalid / blocked number
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
RING_SECONDS = 25  # then the offer call ends unanswered (Twilio's default is 60: voicemail picks up first)


class TwilioVoice:
    """Places a call whose instructions Twilio fetches from our public URL (message.extra["path"])."""

    def __init__(self, account_sid: str, auth_token: str, caller_id: str, *, public_url: Callable[[], str],
                 base_url: str = "", timeout: float = 10.0) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.caller_id = caller_id
        self.public_url = public_url

    def send(self, message: Message) -> str | None:
        base = (self.public_url() or "").rstrip("/")
        if not base:
            raise ChannelError("no public URL for Twilio to fetch the call from (set LEADROUTER_PUBLIC_URL)")
        with twilio_failures("the call may have been placed", VOICE_PERMANENT):
            call = self.client.calls.create(
                to=message.to, from_=self.caller_id, url=base + message.extra["path"], method="POST",
                status_callback=base + message.extra["status_path"], status_callback_method="POST",
                status_callback_event=CALL_EVENTS, machine_detection="Enable", timeout=RING_SECONDS)
            return call.sid


def voice_twiml(prompt: Prompt, base_url: str, caller_id: str) -> str:
    """The TwiML for one prompt; paths become absolute URLs on our public base."""
    from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
    base = base_url.rstrip("/")
    response = VoiceResponse()
    if prompt.kind == "offer":
        gather = Gather(num_digits=1, action=base + prompt.action, method="POST", timeout=GATHER_SECONDS)
        gather.say(prompt.text)
        response.append(gather)
        response.say(prompt.repeat)
        response.hangup()
    elif prompt.kind == "dial":
        response.say(prompt.text)
        dial = Dial(caller_id=caller_id)
        dial.number(prompt.number, status_callback=base + prompt.status, status_callback_method="POST",
                    status_callback_event=" ".join(CALL_EVENTS), machine_detection="Enable")
        response.append(dial)
    else:
        if prompt.text:
            response.say(prompt.text)
        response.hangup()
    return str(response)
