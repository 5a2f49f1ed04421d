"""The circle document: its schema, typed read-only views and authorship rules.

Knows nothing of SQLite, sockets or Textual. (DESIGN.md calls this layer
`circle/`; inside a package already named `circle` it is `circle.domain`.)
"""
