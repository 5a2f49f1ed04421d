"""A rough, honest passphrase strength hint for the first-run screen.

It estimates guessing work from length and character variety (words count as
about 11 bits each, as in a diceware-style list). It is a nudge, not a promise;
the real protection is Argon2id on top of whatever is chosen.
"""

from __future__ import annotations

import math
import string

from circle.crypto.passphrase import MIN_PASSPHRASE_CHARS

LEVELS = ((40, "weak"), (60, "fair"), (80, "good"))


def estimated_bits(passphrase: str) -> float:
    pool = 0
    for chars, size in ((string.ascii_lowercase, 26), (string.ascii_uppercase, 26),
                        (string.digits, 10), (string.punctuation + " ", 33)):
        if any(c in chars for c in passphrase):
            pool += size
    if any(ord(c) > 127 for c in passphrase):
        pool += 100
    by_chars = len(set(passphrase)) / max(len(passphrase), 1) * len(passphrase) * math.log2(max(pool, 2))
    words = [w for w in passphrase.split() if len(w) >= 3]
    by_words = len(words) * 11.0 if len(words) >= 3 else 0.0
    return max(by_chars * 0.6, by_words)


def strength_hint(passphrase: str) -> str:
    """One line: a word for the strength, a text bar, and what would help."""
    if not passphrase:
        return f"Strength: -  (at least {MIN_PASSPHRASE_CHARS} characters; a few unrelated words work well)"
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        return f"Strength: too short  [#....]  use at least {MIN_PASSPHRASE_CHARS} characters"
    bits = estimated_bits(passphrase)
    names = [name for _, name in LEVELS] + ["strong"]
    label = next((name for limit, name in LEVELS if bits < limit), "strong")
    filled = 2 + names.index(label)
    bar = "#" * filled + "." * (5 - filled)
    advice = {
        "weak": "add another word or two",
        "fair": "one more unrelated word makes it much harder to guess",
        "good": "good; write it down somewhere safe",
        "strong": "strong; write it down somewhere safe",
    }[label]
    return f"Strength: {label}  [{bar}]  {advice}"
