"""Intake: a form post becomes a lead. Payload mapping (payload), validation and
normalization (validation), source attribution (sources), and the use case that routes and
persists it (submission). May import the shared core, routing and sheets_schema's models.
"""
