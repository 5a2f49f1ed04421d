"""Writes schema1_document.automerge: a circle document as circle wrote it before
document schema versions existed (version 1), kept so later code is tested
against real old bytes, not against what it writes itself today.

Run once from the repository root: .venv/bin/python tests/data/make_schema1_document.py
"""

from datetime import datetime, timezone
from pathlib import Path

from circle.domain.document import CircleDocument

ACTOR = bytes(range(16))
CIRCLE_ID = "ab" * 16
MEMBER_ID = "cd" * 32

when = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)
document, _ = CircleDocument.create(CIRCLE_ID, ACTOR, name="Walkers", purpose="weekly walks", created_at=when)
document.introduce(MEMBER_ID, "Ana", when)
document.add_post("p1", "Made it round the lake.", when)
Path(__file__).with_name("schema1_document.automerge").write_bytes(document.save())
