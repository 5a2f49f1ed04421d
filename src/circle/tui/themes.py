"""The app's themes. Colour only ever repeats what words and symbols already say."""

from __future__ import annotations

from textual.theme import Theme

CALM = Theme(
    name="circle-calm",
    primary="#7fa6c9",
    secondary="#9fbf9a",
    accent="#d9b77e",
    foreground="#e4e0d8",
    background="#1d2126",
    surface="#242a30",
    panel="#2c333b",
    success="#94c294",
    warning="#d9b77e",
    error="#e39a94",
    dark=True,
)

CALM_LIGHT = Theme(
    name="circle-calm-light",
    primary="#2f5f8a",
    secondary="#4d7a4a",
    accent="#8a5a12",
    foreground="#1f2328",
    background="#f6f3ee",
    surface="#ece7df",
    panel="#e0d9ce",
    success="#2f6f35",
    warning="#8a5a12",
    error="#a3322a",
    dark=False,
)

HIGH_CONTRAST = Theme(
    name="circle-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    success="#00ff00",
    warning="#ffff00",
    error="#ff6060",
    dark=True,
    variables={
        "border": "#ffffff",
        "border-blurred": "#c0c0c0",
        "footer-key-foreground": "#ffff00",
        "input-selection-background": "#ffff00 60%",
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
    },
)

THEMES = (CALM, CALM_LIGHT, HIGH_CONTRAST)
