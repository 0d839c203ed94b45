"""The speed clock: the tick, the escalation ladder, the follow-up sequence, reassignment,
the status sweep, the business clock and the scheduler that runs it all. Pure decisions
return Actions with reasons; the tick performs them. May import the shared core, routing and notify.
"""
