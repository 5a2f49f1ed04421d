"""SQLite storage: the one module that touches disk. It holds opaque (sealed) blobs."""

from circle.store.database import CircleRecords, Store

__all__ = ["CircleRecords", "Store"]
