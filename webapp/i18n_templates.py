"""Templates compiled once per language, with their constant strings translated at compile time.

A page's strings are known when its template is compiled: `{{ _("Ship to") }}`. Calling
gettext for each of them on every render costs a Jinja call, a catalogue lookup and a Markup
object apiece (over a hundred on a PO page). Here each template is compiled once per language
instead, under a name carrying the language ("@zh_Hans/orders/detail.html"): a
`_("constant")` or `gettext("constant")` becomes the translated text itself in the compiled
code, and `_("%(n)s cases", n=count)` becomes `translated % {"n": count}`, formatted (and its
values escaped) at render time exactly as gettext would. Where such a call is a whole output,
`{{ _("%(n)s cases", n=count) }}`, it becomes the template `{{ count }} cases` (in the
translation's words and order): no formatting at all at render time. Everything else
(ngettext, pgettext, positional arguments, a constant holding "%") stays a call.

The language of a render is the request's (Flask-Babel's `get_locale()`, so `force_locale`
works): `get_template("orders/detail.html")` picks "@<locale>/orders/detail.html", and an
`{% include %}` or `{% extends %}` inside it resolves in the same way. The text is what
`webapp.i18n._gettext` would give: trusted catalogue text, marked safe where autoescaping is on.
A changed catalogue is read when the templates are next compiled (a restart, as for gunicorn).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator

from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import BaseLoader
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_ASSIGN,
    TOKEN_COLON,
    TOKEN_COMMA,
    TOKEN_DATA,
    TOKEN_DOT,
    TOKEN_LBRACE,
    TOKEN_LBRACKET,
    TOKEN_LPAREN,
    TOKEN_MOD,
    TOKEN_NAME,
    TOKEN_PIPE,
    TOKEN_RBRACE,
    TOKEN_RBRACKET,
    TOKEN_RPAREN,
    TOKEN_STRING,
    TOKEN_VARIABLE_BEGIN,
    TOKEN_VARIABLE_END,
    Token,
    TokenStream,
)

from webapp.template_output import EscapedTextEnvironment

PREFIX = "@"  # "@<locale>/<template name>"
GETTEXT_NAMES = ("_", "gettext")
_OPEN = (TOKEN_LPAREN, TOKEN_LBRACKET, TOKEN_LBRACE)
_CLOSE = (TOKEN_RPAREN, TOKEN_RBRACKET, TOKEN_RBRACE)


def split_name(name: str) -> tuple[str | None, str]:
    """("zh_Hans", "orders/detail.html") for "@zh_Hans/orders/detail.html"; (None, name) else."""
    if name.startswith(PREFIX) and "/" in name:
        locale, _, rest = name[1:].partition("/")
        return locale, rest
    return None, name


class LocalizedEnvironment(EscapedTextEnvironment):
    """Flask's Jinja environment, compiling each template once per language."""

    def __init__(self, app, **options) -> None:
        options["loader"] = _LocaleLoader(options.get("loader") or app.create_global_jinja_loader())
        super().__init__(app, **options)
        self.add_extension(ConstantTranslations)

    def get_template(self, name, parent=None, globals=None):  # noqa: A002 - Jinja's signature
        if isinstance(name, str) and not name.startswith(PREFIX):
            name = f"{PREFIX}{_render_locale(self.app)}/{name}"
        return super().get_template(name, parent, globals)


def _render_locale(app) -> str:
    locale = get_locale() if has_app_context() else None
    return str(locale) if locale is not None else app.config["BABEL_DEFAULT_LOCALE"]


class _LocaleLoader(BaseLoader):
    """Reads "@<locale>/<name>" from the wrapped loader as <name>."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner

    def get_source(self, environment, template: str):
        return self.inner.get_source(environment, split_name(template)[1])

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


class ConstantTranslations(Extension):
    """Translates `_()` / `gettext()` calls while a localized template is compiled."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token] | TokenStream:
        locale, _ = split_name(stream.name or "")
        env = self.environment
        if locale is None or not has_app_context() \
                or current_app._get_current_object() is not getattr(env, "app", None):
            return stream  # no catalogue to read: every string stays a call
        with force_locale(locale):
            translations = get_translations()
        autoescape = env.autoescape(stream.name) if callable(env.autoescape) else env.autoescape
        return _rewrite(stream, translations.ugettext, bool(autoescape))


def _rewrite(tokens: Iterable[Token], translate, autoescape: bool) -> Iterator[Token]:
    source = iter(tokens)
    pending: deque[Token] = deque()
    previous = None

    def pull() -> Token | None:
        return pending.popleft() if pending else next(source, None)

    while (token := pull()) is not None:
        if token.type == TOKEN_VARIABLE_BEGIN:
            name = pull()
            if name is not None and name.type == TOKEN_NAME and name.value in GETTEXT_NAMES:
                call = _read_call(pull)
                end = pull()
                inlined = _inlined(call, translate, token.lineno) \
                    if end is not None and end.type == TOKEN_VARIABLE_END else None
                if inlined is not None:
                    yield from inlined
                    previous = TOKEN_VARIABLE_END
                    continue
                pending.extendleft(reversed([*call, end] if end is not None else call))
            if name is not None:
                pending.appendleft(name)
        if token.type == TOKEN_NAME and token.value in GETTEXT_NAMES and previous != TOKEN_DOT:
            call = _read_call(pull)
            translated = _translated(call, translate, autoescape, token.lineno)
            if translated is not None:
                yield from translated
                previous = TOKEN_RPAREN
                continue
            pending.extendleft(reversed(call))
        yield token
        previous = token.type


def _read_call(pull) -> list[Token]:
    """The tokens of a call's parentheses, "(" to its ")" (fewer if it is not a call)."""
    first = pull()
    if first is None:
        return []
    call, depth = [first], 1 if first.type == TOKEN_LPAREN else 0
    while depth and (token := pull()) is not None:
        call.append(token)
        depth += token.type in _OPEN
        depth -= token.type in _CLOSE
    return call


def _string_call(call: list[Token]) -> tuple[str, list[Token]] | None:
    """(message, argument tokens) of a call `("message", ...)`; None for any other call."""
    if len(call) < 3 or call[0].type != TOKEN_LPAREN or call[1].type != TOKEN_STRING \
            or call[-1].type != TOKEN_RPAREN:
        return None
    return call[1].value, call[2:-1]


def _translated(call: list[Token], translate, autoescape: bool, lineno: int):
    """Tokens for `_("text")` or `_("text", name=value, ...)` translated, else None.

    Without variables: the text (if it holds no "%", which gettext would format). With
    keyword variables: `text % {"name": value, ...}`, as gettext formats at render time.
    """
    parts = _string_call(call)
    if parts is None:
        return None
    message, arguments = parts
    text = translate(message)
    if not arguments:
        return None if "%" in message or "%" in text else _text(text, autoescape, lineno)
    variables = _keywords(arguments)
    if variables is None:
        return None
    out = [Token(lineno, TOKEN_LPAREN, "("), *_text(text, autoescape, lineno),
           Token(lineno, TOKEN_MOD, "%"), Token(lineno, TOKEN_LBRACE, "{")]
    for name, value in variables:
        out += [Token(lineno, TOKEN_STRING, name), Token(lineno, TOKEN_COLON, ":"), *value,
                Token(lineno, TOKEN_COMMA, ",")]
    return [*out, Token(lineno, TOKEN_RBRACE, "}"), Token(lineno, TOKEN_RPAREN, ")")]


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


def _inlined(call: list[Token], translate, lineno: int) -> list[Token] | None:
    """`{{ _("%(n)s cases", n=x) }}` as the template `{{ x }} cases`, translated; else None.

    Each piece of the translated text becomes template data (trusted, like gettext's
    Markup) and each `%(name)s` its own `{{ value }}`, escaped as any output is: the text
    gettext would give, without formatting it at render time. Only `%(name)s` and `%%`
    qualify, and every name must be given.
    """
    parts = _string_call(call)
    variables = _keywords(parts[1]) if parts is not None and parts[1] else None
    if variables is None:
        return None
    values = dict(variables)
    text = translate(parts[0])
    out, start = [], 0
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if match.group() == "%" or (name is not None and name not in values):
            return None
        literal = text[start:match.start()] + ("%" if name is None else "")
        start = match.end()
        if literal:
            out.append(Token(lineno, TOKEN_DATA, literal))
        if name is not None:
            out += [Token(lineno, TOKEN_VARIABLE_BEGIN, "{{"), Token(lineno, TOKEN_LPAREN, "("),
                    *values[name], Token(lineno, TOKEN_RPAREN, ")"),
                    Token(lineno, TOKEN_VARIABLE_END, "}}")]
    if text[start:]:
        out.append(Token(lineno, TOKEN_DATA, text[start:]))
    return out


def _keywords(arguments: list[Token]) -> list[tuple[str, list[Token]]] | None:
    """[(name, value tokens)] of `, name=value, ...`; None for anything else."""
    if arguments[0].type != TOKEN_COMMA:
        return None
    parts, part, depth = [], [], 0
    for token in arguments[1:]:
        if token.type == TOKEN_COMMA and depth == 0:
            parts.append(part)
            part = []
            continue
        depth += token.type in _OPEN
        depth -= token.type in _CLOSE
        part.append(token)
    parts.append(part)
    if not parts[-1]:
        parts.pop()  # a trailing comma
    variables = []
    for part in parts:
        if len(part) < 3 or part[0].type != TOKEN_NAME or part[1].type != TOKEN_ASSIGN:
            return None
        variables.append((part[0].value, part[2:]))
    return variables or None


def _text(text: str, autoescape: bool, lineno: int) -> list[Token]:
    # gettext's result is trusted catalogue text: Markup where autoescaping is on, as
    # `("text"|safe)`, which Jinja folds into the template's constant output.
    if not autoescape:
        return [Token(lineno, TOKEN_STRING, text)]
    return [Token(lineno, TOKEN_LPAREN, "("), Token(lineno, TOKEN_STRING, text),
            Token(lineno, TOKEN_PIPE, "|"), Token(lineno, TOKEN_NAME, "safe"),
            Token(lineno, TOKEN_RPAREN, ")")]


def compile_all(app) -> list[str]:
    """Compile every template in every language (gunicorn's master, before forking workers);
    return the names that failed to compile."""
    failed = []
    env = app.jinja_env
    with app.app_context():
        for locale in app.config["LANGUAGES"]:
            for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt"))):
                try:
                    env.get_template(f"{PREFIX}{locale}/{name}")
                except Exception:  # noqa: BLE001 - a broken template fails on its own request
                    failed.append(f"{PREFIX}{locale}/{name}")
    return failed
