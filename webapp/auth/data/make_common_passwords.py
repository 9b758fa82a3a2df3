"""Regenerate common_passwords.txt from zxcvbn's password list (run by hand, see README)."""

from __future__ import annotations

import sys
from pathlib import Path

SUFFIXES = ("1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01", "007",
            "2020", "2021", "2022", "2023", "2024", "2025", "2026", "2027", "1314", "520", "888")
PREFIXES = ("my", "the", "i love ", "ilove", "woai")
# Frequent in Chinese leaks (pinyin phrases, "I love you" number codes) and keyboard walks.
EXTRA = (
    "woaini1314", "woaini520", "5201314", "1314520", "iloveyou", "aini1314", "woaiwojia",
    "zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "zhou", "wu", "xu", "sun",
    "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx", "1q2w3e4r", "qazwsxedc", "1qaz2wsx3edc",
    "abcdefghijkl", "abcdef123456", "amazon", "vendor", "admin", "welcome", "changeme",
    "letmein", "password", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "shenzhen",
    "guangzhou", "shanghai", "beijing", "hangzhou", "yiwu", "dongguan", "ningbo", "xiamen",
)


def variants(word: str):
    """Yield the word, its suffixed/prefixed forms and simple repeats."""
    yield word
    for s in SUFFIXES:
        yield word + s
    for p in PREFIXES:
        yield p + word
    yield word + word
    yield word * 3


def main(out: Path) -> None:
    """Write the list, one lower-case password of 12 to 128 characters a line."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # the MIT-licensed zxcvbn package

    words = FREQUENCY_LISTS["passwords"]
    found: set[str] = set()
    for i, word in enumerate(words):
        found.add(word.lower())
        if i < 5000:
            found.update(v.lower() for v in variants(word))
    for word in EXTRA:
        found.update(v.lower() for v in variants(word))
    for n in range(12, 21):  # runs of one digit or a counting sequence
        found.update(str(d) * n for d in range(10))
        found.add(("1234567890" * 3)[:n])
        found.add(("0987654321" * 3)[:n])
    kept = sorted(w for w in found if 12 <= len(w) <= 128)
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"{len(kept)} passwords of 12+ characters written to {out}")


if __name__ == "__main__":
    default = Path(__file__).with_name("common_passwords.txt")
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
