"""Epoch keys: recovering them from lockboxes and the key chain, and making new ones.

A rotation seals the new key to every active device (a lockbox each) and seals
each older epoch key that no other epoch wraps yet under the new key (`wraps`).
So whoever holds the newest key can walk back to every earlier one: a member
admitted later reads earlier content, and a device offline during a rotation
catches up from the log alone. A removed device gets no lockbox, and the new
key wraps only older keys, so it learns nothing newer.
"""

from __future__ import annotations

import secrets
from collections.abc import Set as AbstractSet

from circle.crypto.aead import SealError, new_key, open_sealed, seal
from circle.crypto.identity import DeviceIdentity
from circle.crypto.lockbox import LockboxError, lockbox_info, open_lockbox, seal_to
from circle.domain.governance.state import GovernanceState


def _wrap_ad(circle_id: str, old_epoch: str, new_epoch: str) -> bytes:
    return f"circle/keywrap/v1/{circle_id}/{old_epoch}/{new_epoch}".encode()


def epoch_keys(state: GovernanceState, identity: DeviceIdentity) -> dict[str, bytes]:
    """Every epoch key this device can recover from the log."""
    me = identity.device_id
    keys: dict[str, bytes] = {}
    for epoch_id in state.epoch_order:
        sealed = state.lockbox(epoch_id, me)
        if sealed is None:
            continue
        try:
            keys[epoch_id] = open_lockbox(
                identity.dh_key, bytes.fromhex(sealed), lockbox_info(state.circle_id, epoch_id, me)
            )
        except LockboxError:
            continue  # a bad lockbox from a valid author: other paths may still work
    progress = True
    while progress:
        progress = False
        for epoch_id in state.epoch_order:
            if epoch_id not in keys:
                continue
            for old, sealed in state.epochs[epoch_id].wraps.items():
                if old in keys:
                    continue
                try:
                    keys[old] = open_sealed(
                        keys[epoch_id], bytes.fromhex(sealed), _wrap_ad(state.circle_id, old, epoch_id)
                    )
                    progress = True
                except SealError:
                    continue
    return keys


def rotation_body(
    state: GovernanceState, known: dict[str, bytes], *, exclude_devices: AbstractSet[str] = frozenset()
) -> tuple[dict, bytes]:
    """A `rotate` body giving a fresh key to every active device, and the key."""
    epoch_id = secrets.token_hex(16)
    key = new_key()
    lockboxes = {
        device.id: seal_to(device.dh_pub, key, lockbox_info(state.circle_id, epoch_id, device.id)).hex()
        for device in state.active_devices()
        if device.id not in exclude_devices
    }
    wrapped = {old for epoch in state.epochs.values() for old in epoch.wraps}
    wraps = {
        old: seal(key, known[old], _wrap_ad(state.circle_id, old, epoch_id)).hex()
        for old in state.epoch_order
        if old not in wrapped and old in known
    }
    return {"epoch": epoch_id, "lockboxes": lockboxes, "wraps": wraps}, key


def admission_lockboxes(
    state: GovernanceState, known: dict[str, bytes], device_id: str, dh_pub: bytes
) -> dict[str, str]:
    """Lockboxes giving a newcomer's device the current write key."""
    epoch_id = state.write_epoch
    if epoch_id is None or epoch_id not in known:
        return {}
    info = lockbox_info(state.circle_id, epoch_id, device_id)
    return {epoch_id: seal_to(dh_pub, known[epoch_id], info).hex()}
