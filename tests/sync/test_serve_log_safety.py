"""The `circle serve` log carries peers' words (their error texts): nothing in them may
drive the terminal or the log reader, and one record stays one line."""

from __future__ import annotations

import io
import logging
import re

from circle.sync.logsafe import Shown, console
from circle.sync import messages as m
from tests.helpers.live import wait_until
from tests.helpers.hostile_peer import closed_by_peer, member_static, noise

HOSTILE = "\x1b]52;c;SGVsbG8=\x07copied \u202eevil\u202c \x9b2J\x1b[31mred\ncircle serve: forged"
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def test_a_record_with_hostile_arguments_is_formatted_as_one_plain_line():
    record = logging.LogRecord("circle.sync", logging.INFO, __file__, 1, "dropped %s: %s",
                               (("127.0.0.1", 5), f"peer reported: {HOSTILE}"), None)
    line = Shown("circle serve: %(message)s").format(record)
    assert not UNSAFE.search(line) and "\n" not in line, repr(line)
    assert line == ("circle serve: dropped ('127.0.0.1', 5): peer reported: copied evil red "
                    "circle serve: forged")


def test_a_traceback_is_flattened_and_sanitized_too():
    stream = io.StringIO()
    logger = logging.getLogger("test.serve_log_safety")
    logger.addHandler(console(stream, "circle serve: "))
    logger.propagate = False
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logger.exception("session failed")
    finally:
        logger.handlers.clear()
    out = stream.getvalue()
    assert out.count("\n") == 1 and out.startswith("circle serve: session failed Traceback")
    assert not UNSAFE.search(out[:-1]), repr(out)


def test_a_member_reporting_a_hostile_error_cannot_reach_the_serve_log(target, survives):
    before = len(target.stderr())
    peer = noise(target, member_static(target))
    with peer.sock:
        peer.send(m.encode_error(HOSTILE))
        assert closed_by_peer(peer.sock)
    log = wait_until(lambda: "peer reported" in target.stderr()[before:] and target.stderr()[before:],
                     15, "the drop to be logged")
    assert "copied evil" in log and not UNSAFE.search(log.replace("\n", "")), repr(log)
    assert all(line.startswith("circle serve: ") and not line.startswith("circle serve: forged")
               for line in log.splitlines()), log
