"""Twilio's side of a call-connect call, driven by a test: it reads the calls our app placed on
the loopback Twilio (TwilioFake.calls), fetches our TwiML from the URLs in them, presses keys on
the <Gather>, and posts the status callbacks Twilio would send, each signed with
X-Twilio-Signature exactly as Twilio signs (the public URL it called plus the sorted form)."""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator

from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

PUBLIC = "https://leads.example.test"
_child = itertools.count(1)


class TwilioSide:
    def __init__(self, client, fake, public: str = PUBLIC, token: str = AUTH_TOKEN) -> None:
        self.client, self.fake, self.public, self.token = client, fake, public, token

    def post(self, url: str, params: dict[str, str], signature: str | None = None):
        assert url.startswith(self.public), f"Twilio was given a URL outside our public base: {url}"
        sig = RequestValidator(self.token).compute_signature(url, params) if signature is None else signature
        return self.client.post(url[len(self.public):], data=params, headers={"X-Twilio-Signature": sig})

    def call(self, index: int = -1) -> dict[str, str]:
        form = self.fake.calls[index]
        return {k: v[0] for k, v in form.items()} | {"sid": f"CA{(index % len(self.fake.calls)) + 1:032x}"}

    def _params(self, call: dict[str, str], **more: str) -> dict[str, str]:
        return {"AccountSid": ACCOUNT_SID, "CallSid": call["sid"], "From": call["From"], "To": call["To"],
                "Direction": "outbound-api", **more}

    def answer(self, call: dict[str, str], answered_by: str = "human") -> ET.Element:
        """The producer picks up: Twilio fetches the call's Url (POST, as asked)."""
        reply = self.post(call["Url"], self._params(call, CallStatus="in-progress", AnsweredBy=answered_by))
        assert reply.status_code == 200 and reply.mimetype == "text/xml", reply.data
        return ET.fromstring(reply.data)

    def press(self, call: dict[str, str], twiml: ET.Element, digits: str) -> ET.Element:
        gather = twiml.find("Gather")
        assert gather is not None, ET.tostring(twiml)
        reply = self.post(gather.get("action"), self._params(call, CallStatus="in-progress", Digits=digits))
        assert reply.status_code == 200, reply.data
        return ET.fromstring(reply.data)

    def offer_status(self, call: dict[str, str], status: str, duration: int | None = None):
        more = {"CallStatus": status} | ({"CallDuration": str(duration)} if duration is not None else {})
        return self.post(call["StatusCallback"], self._params(call, **more))

    def bridge(self, call: dict[str, str], twiml: ET.Element, *, final: str = "completed", duration: int = 0,
               answered_by: str = "", events=("initiated", "ringing", "in-progress")) -> str:
        """The <Dial><Number>: Twilio calls the lead and reports the child call's progress."""
        number = twiml.find("Dial/Number")
        assert number is not None, ET.tostring(twiml)
        child = f"CA{900000 + next(_child):032x}"
        leg = {"AccountSid": ACCOUNT_SID, "CallSid": child, "ParentCallSid": call["sid"],
               "From": twiml.find("Dial").get("callerId"), "To": number.text, "Direction": "outbound-dial"}
        for status in (*events, final):
            more = {"CallStatus": status}
            if status == final:
                more |= {"CallDuration": str(duration)} | ({"AnsweredBy": answered_by} if answered_by else {})
            reply = self.post(number.get("statusCallback"), leg | more)
            assert reply.status_code == 204, reply.data
        return child
