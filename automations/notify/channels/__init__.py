"""Channels: one small class per way of reaching a person, behind one registry.

Each channel has `send(message) -> provider id | None` and raises `ChannelError` (with
`permanent` set when retrying cannot help). `ChannelRouter` is the `Notifier` the rest of
the service sees: it hands each message to the channel registered for `message.channel`,
and to a default (the console) for channels nobody configured. One module per channel:
console, smtp, twilio (the only importer of the twilio SDK), push (producers' webhooks).
"""
from __future__ import annotations

from typing import Mapping

from automations.notify.delivery import ChannelError
from automations.ports import Message, Notifier


class ChannelRouter:
    """A Notifier that routes by `message.channel` (sms, email, push)."""

    def __init__(self, channels: Mapping[str, Notifier] | None = None, default: Notifier | None = None) -> None:
        self.channels: dict[str, Notifier] = dict(channels or {})
        self.default = default

    def register(self, name: str, channel: Notifier) -> "ChannelRouter":
        self.channels[name] = channel
        return self

    def channel_for(self, name: str) -> Notifier | None:
        return self.channels.get(name, self.default)

    def send(self, message: Message) -> str | None:
        channel = self.channel_for(message.channel)
        if channel is None:
            raise ChannelError(f"no channel configured for {message.channel!r}", permanent=True)
        return channel.send(message)

    def find_sent(self, message: Message, since) -> str | None:
        """Ask the message's channel whether it already took this message (channels that can tell)."""
        finder = getattr(self.channel_for(message.channel), "find_sent", None)
        return finder(message, since) if finder else None

    def describe(self) -> dict[str, str]:
        """Which class serves which channel (logged at start-up, shown by `leadrouter check`)."""
        names = set(self.channels) | {"sms", "email", "push"}
        return {n: type(self.channel_for(n)).__name__ if self.channel_for(n) else "none" for n in sorted(names)}


class Misconfigured:
    """Stands in for a channel whose settings are incomplete or invalid.

    Its messages fail with a passing error, so they wait in the outbox and go out once the
    settings are fixed, instead of slipping to the console or being dropped.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def send(self, message: Message) -> str | None:
        raise ChannelError(self.reason)


__all__ = ["ChannelError", "ChannelRouter", "Misconfigured"]
