"""A blind store-and-forward relay: sealed bundles per circle, handed back to devices that
hold the circle's access key. It has no profile and no circle keys (docs/protocol.md, "Relay")."""
