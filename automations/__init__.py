"""The behaviour: intake, routing, notifications, escalation, sequence, reports, scheduler.

Nothing here imports gspread, SQLAlchemy, Twilio or Flask: it speaks to ports
(automations.ports) that sheets_schema/ and app.py implement and wire.
"""
