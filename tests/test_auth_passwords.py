"""Passwords: 12 to 128 characters, no truncation, blocklist, argon2id."""

from __future__ import annotations

from webapp.auth import passwords


def test_length_rules_and_blocklist(app):
    assert passwords.password_problems("tulip-kettl") != []  # 11 characters
    assert passwords.password_problems("tulip-kettle-88") == []
    assert passwords.password_problems("x7" + "tulip-kettle" * 10 + "abcdefghijklmn") != []  # 136
    assert passwords.password_problems("k" + "tulip-kettle-" * 9 + "z" * 10) == []  # 128
    assert passwords.password_problems("k" + "tulip-kettle-" * 9 + "z" * 11) != []  # 129
    for common in ("password1234", "qwertyuiop12", "woaini1314520", "111111111111", "PASSWORD1234"):
        assert passwords.password_problems(common) != [], common
    assert passwords.password_problems("li.wei@acme.cn", email="li.wei@acme.cn") != []
    assert len(passwords.common_passwords()) > 40_000
    print(f"\n[passwords] blocklist entries={len(passwords.common_passwords())}")


def test_no_composition_rules(app):
    assert passwords.password_problems("all lower case words here") == []
    assert passwords.password_problems("竹林里的小熊猫吃竹子很开心") == []  # 13 Chinese characters


def test_argon2id_and_no_truncation(app):
    long_a = "k" + "tulip-kettle-" * 9 + "a" * 9 + "A"
    long_b = long_a[:-1] + "B"
    stored = passwords.hash_password(long_a)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, long_a)
    assert not passwords.verify_password(stored, long_b)  # differs only in the 128th character
    assert not passwords.verify_password(None, long_a)
