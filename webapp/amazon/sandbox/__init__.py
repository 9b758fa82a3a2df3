"""An SP-API sandbox: Amazon's vendor endpoints over real HTTP, with living data and faults.

    from webapp.amazon.sandbox import SandboxServer
    with SandboxServer(seed=1) as sandbox:
        sandbox.url, sandbox.token_url, sandbox.refresh_token

See docs/sandbox.md.
"""

from webapp.amazon.sandbox.app import create_sandbox_app
from webapp.amazon.sandbox.faults import Faults
from webapp.amazon.sandbox.server import SandboxServer
from webapp.amazon.sandbox.store import DEFAULT_REFRESH_TOKEN, SandboxStore

__all__ = ["DEFAULT_REFRESH_TOKEN", "Faults", "SandboxServer", "SandboxStore", "create_sandbox_app"]
