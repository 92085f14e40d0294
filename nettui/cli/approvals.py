"""`nettui approvals` and `nettui approve`: decide on executions that wait for approval."""

from __future__ import annotations

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_table, progress
from nettui.cli.run import acting_user, carry_out, exit_code


@click.group(name="approvals")
def group() -> None:
    """Executions waiting for an approver."""


@group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_approvals(app: AppContext, as_json: bool) -> None:
    """Executions awaiting approval, oldest first."""
    from nettui.engine.approvals import awaiting_approval

    with app.store().read_session() as session:
        rows = [
            {
                "id": e.id,
                "workflow": e.workflow.slug,
                "requested_by": e.requested_by.username,
                "devices": [d.name for d in e.target_devices],
                "step": e.context.get("paused_at"),
                "created_at": e.created_at,
            }
            for e in awaiting_approval(session)
        ]
    if as_json:
        emit_json(rows)
    elif not rows:
        progress("nothing awaits approval")
    else:
        emit_table(
            rows,
            [
                ("id", "ID"),
                ("workflow", "WORKFLOW"),
                ("requested_by", "BY"),
                ("devices", "DEVICES"),
                ("step", "AT STEP"),
                ("created_at", "CREATED"),
            ],
        )


@click.command(name="approve")
@click.argument("execution_id", type=int)
@click.option("--reject", is_flag=True, help="Reject instead of approving.")
@click.option("--comment", required=True, help="Why (kept in the audit trail).")
@click.option("--no-run", is_flag=True, help="Approve only; leave the run to the engine service.")
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def approve(app: AppContext, execution_id: int, reject: bool, comment: str, no_run: bool, as_user: str | None) -> None:
    """Approve (or --reject) execution EXECUTION_ID, then run it unless --no-run.

    It runs in the engine service if one is running, else here.

    Exit status: 0 completed (or approved and handed over), 1 failed, 3 awaiting another
    approval, 4 rejected.
    """
    from nettui.engine.approvals import decide

    store = app.store()
    status = decide(store, execution_id, acting_user(app, as_user), approve=not reject, comment=comment)
    if reject:
        progress(f"execution {execution_id}: rejected")
        raise SystemExit(4)
    progress(f"execution {execution_id}: approved")
    if no_run:
        return
    status = carry_out(store, execution_id, wait=False)
    progress(f"execution {execution_id}: {status.value}")
    raise SystemExit(exit_code(store, execution_id))
