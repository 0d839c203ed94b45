"""The Google Sheets backend: the store, its layout of tabs and cells, the API client, the outbox of sheet writes.

It may import sheets_schema's models, tabs, cells, dashboard and sql_store, and the shared core of
automations (ports, config, events, errors, clock, settings_text); nothing outside imports it but
sheets_schema.stores (and automations.checks, the spreadsheet facts in gsheets.layout).
"""
