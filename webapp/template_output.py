"""Template output escaped without a Markup object per `{{ value }}`.

With autoescaping on, Jinja compiles every `{{ value }}` to `escape(value)`: markupsafe's
`escape`, which builds a `Markup` string (a Python-level `__new__`) only for the template to
join it into the page at once. An inbox page has about 500 such outputs, a PO page about 300:
the escaping and its Markup objects were about a twentieth of the web workers' CPU in the load
test (py-spy). Here those outputs call `escaped_text` instead, which gives the same text as
a plain `str`.

Only the outputs Jinja writes into the page or into a block's buffer change. Both are
only ever joined: the page into one string, a buffer (macros, `{% set %}` blocks, `{% call %}`,
`{% filter %}`) into `Markup(concat(buffer))` when autoescaping is on. Expressions inside
templates (`a ~ b`, filters, tests, arguments) still see Markup values as before, and a
template whose autoescaping can change at render time (`{% autoescape %}` with a variable)
keeps Jinja's own code.
"""

from __future__ import annotations

import markupsafe
from flask.templating import Environment
from jinja2.compiler import CodeGenerator

# markupsafe's C function behind `escape` (a plain str in, the escaped str out); its pure
# Python fallback where the C extension is missing.
_escape_inner = getattr(markupsafe, "_escape_inner", None)
if _escape_inner is None:  # pragma: no cover - every supported markupsafe has it
    def _escape_inner(text: str) -> str:
        return str(markupsafe.escape(text))


def escaped_text(value) -> str:
    """`str(markupsafe.escape(value))`, without making the Markup object."""
    if type(value) is str:  # the common case, as in markupsafe.escape
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class EscapedTextCodeGenerator(CodeGenerator):
    """Jinja's code generator, writing `environment.escaped_text(` for autoescaped output."""

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escaped_text(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)


class EscapedTextEnvironment(Environment):
    """Flask's Jinja environment with `EscapedTextCodeGenerator` (the app's is a subclass)."""

    code_generator_class = EscapedTextCodeGenerator

    def __init__(self, app, **options) -> None:
        super().__init__(app, **options)
        self.escaped_text = escaped_text  # what the generated code calls
