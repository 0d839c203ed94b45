"""Call connect (speed to lead): at minute 0 the owner's phone rings, a whisper names the lead,
1 bridges the call to the lead, 2 passes; unanswered offers move on to the next producer.

`settings` reads the Settings rows forgivingly; `prompts` holds what a producer hears (pure
data, rendered to TwiML by notify/channels/twilio_voice); `decisions` holds the pure rules
(whether to ring now, who is offered next, what a finished call means), each with a reason a
person can read; `offers` applies them to the store (claim-before-call, the open offers, the
tick's step). May import the shared core, routing, notify and speed_clock's status and
reassign rules; never a vendor SDK.
"""
