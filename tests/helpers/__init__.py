"""What tests share that is not a fixture: the real `circle` command, in-process peers,
live servers, polling, hostile worlds. Fixtures live in the conftest.py files."""
