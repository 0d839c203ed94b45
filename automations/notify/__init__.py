"""Notifications: composing and delivering messages exactly once (delivery), templates,
opt-out, quiet hours, inbound replies, the outbox, unsubscribe links, and `channels/` with
one module per way of reaching a person. May import the shared core, routing and speed_clock's
status rules; vendor SDKs only inside channels/.
"""
