"""The agency management system (AMS): every lead becomes a record there, exactly once.

port.py      the AMS port (create_client / add_note / find_client) and AmsError(permanent)
record.py    the guide's minimum lead record, built from a Lead (pure)
settings.py  which AMS, its endpoints and credentials (Settings tab + environment), read forgivingly
queue.py     the durable AMS queue drained by the tick: claim-before-call, look up before a retried
             create, backoff while the AMS is down, one alert for a refusal
lookup.py    the existing-client check at intake, inside a small time budget, cached
clients_import.py  an AMS's client export (CSV) into the Clients tab, idempotent
epic.py, ams360.py, hawksoft.py, webhook.py  one adapter per AMS; the only modules that import
             a vendor SDK (requests, zeep)
factory.py   builds the adapter that Settings -> AMS names

Nothing here imports intake, routing, the speed clock or reports; they import queue.py.
"""
