"""circle: private peer-support circles, local-first and end-to-end encrypted."""

__version__ = "0.1.0"
