"""`flask --app webapp sandbox --port PORT`: run the SP-API sandbox in the foreground."""

from __future__ import annotations

import signal

import click

from webapp.amazon.sandbox.faults import Faults
from webapp.amazon.sandbox.server import SandboxServer


@click.command("sandbox")
@click.option("--port", default=5055, show_default=True, type=int, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for all generated data.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    help="JSON snapshot file: loaded at start, saved every few seconds and at exit.",
)
@click.option(
    "--manual-clock",
    is_flag=True,
    help="Do not follow the wall clock; time moves only with POST /_sandbox/tick.",
)
@click.option(
    "--po-interval",
    default=10.0,
    show_default=True,
    type=float,
    help="Mean simulated minutes between new POs per account (0: none).",
)
@click.option(
    "--history",
    default=200,
    show_default=True,
    type=int,
    help="POs to create over the last --history-days on a fresh start (settled).",
)
@click.option("--history-days", default=60, show_default=True, type=float)
@click.option(
    "--fault",
    "fault_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fault switch, e.g. --fault rate_429=0.3 (repeatable; also "
    "SANDBOX_FAULT_RATE_429=0.3 in the environment).",
)
@click.option(
    "--enforce-rate-limits",
    is_flag=True,
    help="Answer 429 above Amazon's per-operation rate limits.",
)
@click.option("--verbose", is_flag=True, help="Log every request.")
def sandbox_command(
    port,
    host,
    seed,
    state_file,
    manual_clock,
    po_interval,
    history,
    history_days,
    fault_options,
    enforce_rate_limits,
    verbose,
):
    """Run the SP-API sandbox (Amazon's vendor endpoints with living data) until Ctrl-C."""
    faults = Faults.from_env()
    try:
        faults.update(dict(option.split("=", 1) for option in fault_options))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    server = SandboxServer(
        seed,
        host=host,
        port=port,
        faults=faults,
        real_clock=not manual_clock,
        state_file=state_file,
        po_interval_minutes=po_interval,
        enforce_rate_limits=enforce_rate_limits,
        quiet=not verbose,
    )
    if not server.store.pos and history > 0:
        server.store.create_purchase_orders(None, history, days_back=history_days, settle=True)
    server.start()
    click.echo(
        f"SP-API sandbox on {server.url} (token URL {server.token_url}); "
        f"refresh token {server.refresh_token!r}; {len(server.store.pos)} POs; "
        f"faults {faults.as_dict()}"
    )
    # SIGTERM (make run, docker stop) should save the state file just like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    server.serve_forever()
    click.echo("sandbox stopped")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
