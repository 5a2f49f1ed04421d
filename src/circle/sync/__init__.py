"""Sync: protocol, sessions, transports and discovery (see docs/protocol.md)."""
