"""Two members who are never connected to each other meet through a real relay, and the relay's
data directory holds nothing they wrote or named, and no key of theirs."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from circle.service import Service
from tests.helpers.in_process import join
from tests.helpers.relay import CircleKeys, Relay
from tests.system.test_at_rest import find_plaintext, hold_open, mark

PASS = "passphrase-relay-blind"


def test_members_converge_through_the_relay_which_stores_only_sealed_bundles(tmp_path, relay: Relay):
    names = {"organizer": mark("Organizer"), "member": mark("Member")}
    ana = Service.create_profile(tmp_path / "ana", names["organizer"], PASS)
    ben = Service.create_profile(tmp_path / "ben", names["member"], PASS)
    try:
        circle_name = mark("CircleName")
        circle = ana.create_circle(circle_name)
        join(sponsor=ana, newcomer=ben, code=ana.invite(circle))
        post, reply = mark("PostBody"), mark("ReplyBody")
        ana.post(circle, post)
        access = Ed25519PrivateKey.generate()  # what the lead's service derives for the circle
        organizer = CircleKeys(circle, access=access, device=ana.static_key())
        organizer.register(relay)
        with organizer.mailbox(relay) as box:
            report = ana.sync_folder(box)
        assert report.written >= 1 and not report.problems
        with CircleKeys(circle, access=access, device=ben.static_key()).mailbox(relay) as box:
            report = ben.sync_folder(box)
            assert not report.problems
            assert post in {p.body for p in ben.feed(circle)}
            ben.post(circle, reply)
            ben.sync_folder(box)
        with organizer.mailbox(relay) as box:
            ana.sync_folder(box)
        assert reply in {p.body for p in ana.feed(circle)}

        markers = {**names, "circle name": circle_name, "post": post, "reply": reply}
        for service, who in ((ana, "organizer"), (ben, "member")):
            identity = service.profile.identity
            markers[f"{who} device id"] = identity.device_id
            markers[f"{who} signing key"] = identity.public.sign_pub.hex()
            markers[f"{who} device key"] = identity.public.dh_pub.hex()
        reader = hold_open(relay.data / "relay.db")  # keeps the write-ahead log as it is
        try:
            assert find_plaintext(relay.data, markers) == []
            raw_keys = [ana.profile.identity.public.dh_pub, ben.profile.identity.public.dh_pub]
            assert not [k for k in raw_keys for f in relay.data.iterdir() if k in f.read_bytes()]
        finally:
            reader.close()
        relay.stop()
        assert find_plaintext(relay.data, markers) == []
    finally:
        ana.close()
        ben.close()


def test_the_scan_finds_a_marker_when_a_client_puts_it_in_the_clear(relay: Relay):
    """The check above can fail: the relay keeps what is put byte for byte."""
    marker = mark("Clear")
    keys = CircleKeys()
    keys.register(relay)
    with keys.mailbox(relay) as box:
        box.put(b"opaque\x00" + marker.encode() + b"\x00blob")
    relay.stop()
    leaks = find_plaintext(relay.data, {"marker": marker})
    assert f"relay.db: marker {marker!r} as utf-8" in leaks  # (its NFD and JSON forms are the same bytes)
