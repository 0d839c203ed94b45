"""The behaviour, one room per capability: intake/, routing/, notify/ (with channels/),
speed_clock/, reports/; beside them the shared core (ports, config, settings_text, checks,
clock, errors, events, contact). Nothing here imports gspread, SQLAlchemy or Flask: it speaks
to ports (automations.ports) that sheets_schema/ and app.py implement and wire.
"""
