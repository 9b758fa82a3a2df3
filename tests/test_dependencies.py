"""What the app imports is what `pip install .` installs (no dev-only package in production).

jsonschema once came only with the dev extras (other dev tools pull it in): every test passed
while a production install could not import webapp.amazon.schemas.
"""

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from tests.processes import REPO

pytestmark = pytest.mark.backend_independent

RUNTIME_CODE = ["webapp", "worker", "config.py", "gunicorn.conf.py"]
OWN_MODULES = {"webapp", "worker", "config"}
# Imported by a maintenance script run by hand, never by the app (see its docstring).
BY_HAND = {"zxcvbn": "webapp/auth/data/make_common_passwords.py"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_by_pip_install_dot() -> set[str]:
    """Distributions of the main dependencies and of everything they require, with extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    todo = [Requirement(text) for text in project["dependencies"]]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = _normal(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                    needed.marker.evaluate({"extra": extra}) for extra in
                    (requirement.extras or {""})):
                todo.append(needed)
    return seen


def _imported_modules() -> dict[str, str]:
    """Top-level modules the runtime code imports, each with one file importing it."""
    found: dict[str, str] = {}
    files = [p for part in RUNTIME_CODE for p in
             ((REPO / part).rglob("*.py") if (REPO / part).is_dir() else [REPO / part])]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return {name: where for name, where in found.items()
            if name not in sys.stdlib_module_names and name not in OWN_MODULES}


def test_every_module_the_app_imports_is_a_main_dependency():
    installed = _installed_by_pip_install_dot()
    providers = metadata.packages_distributions()
    missing = {}
    for module, where in _imported_modules().items():
        dists = {_normal(d) for d in providers.get(module, [])}
        if not dists & installed and BY_HAND.get(module) != where:
            missing[module] = (where, sorted(dists))
    assert missing == {}


def test_the_check_sees_a_dev_only_package():
    # pytest is installed here only through the dev extras: the closure must not contain it.
    assert "pytest" not in _installed_by_pip_install_dot()
    assert "flask" in _installed_by_pip_install_dot()
