"""`flask worker` and `flask scheduler`: run ACORN's background processes."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--queue", "queues", multiple=True, help="Queue to listen on (default: all).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--with-scheduler/--without-scheduler", default=True,
              help="Also run RQ's scheduler for delayed jobs and retries.")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@with_appcontext
def worker_command(queues, burst, with_scheduler, name):
    """Run an RQ worker on ACORN's queues inside the app."""
    from worker.main import run_worker

    run_worker(current_app._get_current_object(), list(queues) or None, burst=burst,
               with_scheduler=with_scheduler, name=name)


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the periodic scheduler (only one leader enqueues; others wait)."""
    from worker.scheduler import Scheduler

    scheduler = Scheduler(current_app._get_current_object())

    def stop(_signum, _frame):
        scheduler.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"scheduler running {len(scheduler.periodic)} periodic job(s)")
    scheduler.run()
