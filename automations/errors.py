"""Domain errors; the web and CLI layers map them to status codes and exit codes."""
from __future__ import annotations


class InvalidLead(ValueError):
    """A submission that cannot become a lead. `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str], status: int = 422) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status = status


class StoreUnavailable(RuntimeError):
    """The store could not be reached; the caller may queue the work and retry later."""


class ConfigError(ValueError):
    """The configuration tabs say something that cannot be acted on."""


class StoreNotReady(RuntimeError):
    """The store named by LEADROUTER_STORE cannot be used yet: it does not exist or was never initialized
    (`leadrouter init`), or its address is not one we know. The message is one sentence for a person."""
