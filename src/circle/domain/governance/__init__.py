"""Governance: the signed, hash-linked log of who is in a circle and who may do what.

actions.py   the signed action format and per-kind field validation
resolver.py  linearizes the action DAG and computes the state, deterministically
state.py     the resulting state (members, roles, devices, invites, epochs, moderation)
keyring.py   recovering epoch keys from lockboxes and the key chain
"""
