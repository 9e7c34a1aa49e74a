"""The ``ivs`` command line. Each command parses its options and calls one function.

Exit codes: 0 success, 1 findings (lint errors, drift, exposure at or above ``--fail-on``),
2 usage or input error, with a one-line reason naming the file and field, 3 an internal
error: one line (``ivs: internal error: <type>: <message>``), never mistaken for findings;
``ivs --debug COMMAND ...`` also prints its traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer

from core.cluster import DEFAULT_ACCOUNT_CONCURRENCY, scheduler_address
from core.errors import MAX_MESSAGE, InputError, ToolMissingError, one_line, shown
from core.vocabulary import SEVERITIES

app = typer.Typer(
    name="ivs",
    help="IVS governance for an AWS Organization: deploy the baseline, see the exposure, prove it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policies_app = typer.Typer(help="Render and lint the organization's policy documents.")
baseline_app = typer.Typer(help="Apply the per-account baseline (account stacks).")
app.add_typer(policies_app, name="policies")
app.add_typer(baseline_app, name="baseline")

F = TypeVar("F", bound=Callable[..., Any])

SPEC_HELP = (
    "Spec file: a stack config such as stacks/Pulumi.org.yaml, or a YAML file of its ivs: keys."
)
ENDPOINT_HELP = (
    "Send every AWS call to this endpoint (a moto server, say); default $AWS_ENDPOINT_URL."
)
SCHEDULER_HELP = (
    "Run the tasks on a Dask cluster: its scheduler's address (tcp://HOST:8786), or local:N "
    "for N worker processes on this machine; default $DASK_SCHEDULER_ADDRESS, else a local "
    "thread pool."
)


#: The exit code of an unexpected internal error: not 0, 1 (findings) or 2 (bad input).
INTERNAL_ERROR = 3


#: The options before the command (``ivs --debug exposure ...``), set on each run.
GLOBAL_OPTIONS: dict[str, bool] = {"debug": False}


@app.callback()
def options(
    debug: bool = typer.Option(
        False, "--debug", help="Print the traceback of an internal error (exit code 3)."
    ),
) -> None:
    """IVS governance for an AWS Organization: deploy the baseline, see the exposure, prove it."""
    GLOBAL_OPTIONS["debug"] = debug


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"ivs: {message}", err=True)
    return typer.Exit(code)


def cli_errors(func: F) -> F:
    """Turn input errors into one line on stderr and exit code 2, and any other error
    into one line and exit code 3 (with its traceback under ``--debug``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:  # a command's own exit code (click's Exit is an Exception)
            raise
        except InputError as err:
            raise fail(str(err)) from None
        except ToolMissingError as err:
            raise fail(str(err)) from None
        except Exception as err:
            debug = GLOBAL_OPTIONS["debug"]
            if debug:
                traceback.print_exc(file=sys.stderr)
            reason = one_line(f"{type(err).__name__}: {err}", MAX_MESSAGE)
            hint = "" if debug else "; run again with --debug for the traceback"
            raise fail(f"internal error: {reason}{hint}", INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


class LintFormat(StrEnum):
    text = "text"
    json = "json"


class PolicyKindOption(StrEnum):
    scp = "scp"
    rcp = "rcp"
    tag = "tag"
    backup = "backup"
    declarative_ec2 = "declarative-ec2"


class ExposureFormat(StrEnum):
    json = "json"
    sarif = "sarif"
    html = "html"
    graphml = "graphml"
    md = "md"
    asff = "asff"


#: ``--fail-on``: a severity (core.vocabulary's order), or ``none`` to never fail.
FailOn = StrEnum("FailOn", [(s, s) for s in (*SEVERITIES, "none")])  # type: ignore[misc]


# ---- policies ---------------------------------------------------------------------------


@policies_app.command("render")
@cli_errors
def policies_render(
    spec: Path = typer.Option(..., "--spec", help=SPEC_HELP),
    out: Path = typer.Option(..., "--out", help="Directory for the documents."),
) -> None:
    """Write every policy document as deployed (minified JSON) plus a readable copy."""
    from governance.render import render_policies
    from governance.spec import load_spec

    written = render_policies(load_spec(spec), out)
    typer.echo(f"wrote {len(written)} files under {out}")


@policies_app.command("lint")
@cli_errors
def policies_lint(
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    policy: Path | None = typer.Option(None, "--policy", help="A standalone policy JSON file."),
    kind: PolicyKindOption | None = typer.Option(None, "--type", help="Type of --policy."),
    fmt: LintFormat = typer.Option(LintFormat.text, "--format"),
) -> None:
    """Lint the spec's documents, or one standalone document (exit 1 on an error)."""
    from governance import lint
    from ivs.policies import print_report

    if (spec is None) == (policy is None):
        raise fail("give exactly one of --spec or --policy")
    if policy is not None and kind is None:
        raise fail("--policy needs --type scp|rcp|tag|backup|declarative-ec2")
    if spec is not None:
        from governance.spec import load_spec
        from graph.rules import RULES_BY_ID

        report = lint.lint_spec(load_spec(spec), finding_rules=RULES_BY_ID)
    else:
        assert policy is not None and kind is not None
        report = lint.lint_file(policy, kind.value)
    print_report(report, fmt.value)
    raise typer.Exit(1 if report.has_errors else 0)


# ---- assess -----------------------------------------------------------------------------


@app.command("collect")
@cli_errors
def collect(
    out: str = typer.Option(..., "--out", help="Snapshot directory, or s3://BUCKET/PREFIX."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
    accounts: list[str] | None = typer.Option(
        None, "--accounts", help="Account ids (repeat or comma-separate); default: all."
    ),
    regions: list[str] | None = typer.Option(
        None, "--regions", help="Regions (repeat or comma-separate); default: enabled ones."
    ),
    role_name: str = typer.Option("OrganizationAccountAccessRole", "--role-name"),
    workers: int = typer.Option(
        8, "--workers", min=1, max=64, help="Threads (per worker process with local:N)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Skip account-regions already done."),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    account_concurrency: int = typer.Option(
        DEFAULT_ACCOUNT_CONCURRENCY,
        "--account-concurrency",
        min=1,
        help="At most this many account-regions of one account are read at once, "
        "however many workers there are (AWS limits API rates per account).",
    ),
) -> None:
    """Snapshot VPC data from every account and region (Batfish aws_configs layout)."""
    from ivs.collect import run_collect

    run_collect(
        out,
        endpoint_url=endpoint_url,
        accounts=_split(accounts),
        regions=_split(regions),
        role_name=role_name,
        workers=workers,
        resume=resume,
        scheduler=scheduler_address(scheduler),
        account_concurrency=account_concurrency,
    )


@app.command("exposure")
@cli_errors
def exposure(
    snapshot: str = typer.Option(
        ..., "--snapshot", help="Snapshot directory, or s3://BUCKET/PREFIX (copied here first)."
    ),
    out: Path = typer.Option(..., "--out", help="Output file."),
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    fmt: ExposureFormat = typer.Option(ExposureFormat.json, "--format"),
    fail_on: FailOn = typer.Option(
        FailOn("none"), "--fail-on", help="Exit 1 on a finding at or above this severity."
    ),
    publish_securityhub: bool = typer.Option(
        False, "--publish-securityhub", help="Also send the findings to AWS Security Hub."
    ),
    fail_on_not_assessed: bool = typer.Option(
        False,
        "--fail-on-not-assessed",
        help="Exit 1 when an account-region or an interface could not be assessed.",
    ),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
    quiet: bool = typer.Option(
        False, "--quiet", help="Print no summary line (why it fails still goes to stderr)."
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="An earlier findings JSON: mark findings new or unchanged, list the fixed ones.",
    ),
    asff_product: str | None = typer.Option(
        None,
        "--asff-product",
        help="--format asff: the Security Hub product ARN (default: from the spec).",
    ),
) -> None:
    """Analyse a snapshot: exposure graph, segmentation findings, reports."""
    from ivs.exposure import local_snapshot, run_exposure

    with local_snapshot(snapshot, endpoint_url) as directory:
        code = run_exposure(
            directory,
            out,
            snapshot_name=snapshot if directory != Path(snapshot) else None,
            spec_path=spec,
            fmt=fmt.value,
            fail_on=fail_on.value,
            publish=_securityhub_publisher(endpoint_url) if publish_securityhub else None,
            fail_on_not_assessed=fail_on_not_assessed,
            say=(lambda _line: None) if quiet else typer.echo,
            warn=lambda line: typer.echo(line, err=True),
            baseline=baseline,
            asff_product=asff_product,
            paint=paint_severity,
        )
    raise typer.Exit(code)


def paint_severity(severity: str, text: str) -> str:
    """``text`` in ``severity``'s colour.

    >>> paint_severity("high", "2 high")
    '\\x1b[31m\\x1b[1m2 high\\x1b[0m'
    """
    from ivs.terminal import SEVERITY_COLOURS

    return typer.style(text, fg=SEVERITY_COLOURS.get(severity), bold=True)


def _securityhub_publisher(endpoint_url: str | None) -> Callable[[dict[str, Any]], None]:
    def publish(document: dict[str, Any]) -> None:
        from core.securityhub import SecurityHubError, connect
        from ivs.exposure import publish_document

        try:
            result = publish_document(document, connect(endpoint_url=endpoint_url))
        except SecurityHubError as err:
            raise fail(f"Security Hub: {err}") from None
        _say_published(result)

    return publish


def _say_published(result: Any) -> None:
    """What a Security Hub publication did, and what it could not, on stderr."""
    typer.echo(result.summary(), err=True)
    for entry in result.failed:
        typer.echo(
            f"ivs: Security Hub rejected {entry.get('Id')}: {entry.get('ErrorCode')}: "
            f"{entry.get('ErrorMessage')}",
            err=True,
        )
    for warning in result.warnings:
        typer.echo(f"ivs: {warning}", err=True)


# ---- prove and vend ---------------------------------------------------------------------


@app.command("audit")
@cli_errors
def audit(
    spec: Path = typer.Option(..., "--spec", help=SPEC_HELP),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
    fmt: LintFormat = typer.Option(LintFormat.text, "--format"),
    accounts: list[str] | None = typer.Option(None, "--account-id", help="Only these accounts."),
    fail_on_not_assessed: bool = typer.Option(
        False, "--fail-on-not-assessed", help="Exit 1 when a record could not be assessed."
    ),
    out: Path | None = typer.Option(None, "--out", help="Also write the records (JSON) here."),
    publish_securityhub: bool = typer.Option(
        False, "--publish-securityhub", help="Also send the drift to AWS Security Hub."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="Print no summary line."),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    workers: int = typer.Option(
        16, "--workers", min=1, max=64, help="Threads (per worker process with local:N)."
    ),
) -> None:
    """Read the organization back and report drift from the spec (exit 1 on drift that no
    accepted risk covers)."""
    from ivs.audit import run_audit

    raise typer.Exit(
        run_audit(
            spec,
            scheduler=scheduler_address(scheduler),
            workers=workers,
            endpoint_url=endpoint_url,
            fmt=fmt.value,
            accounts=accounts,
            fail_on_not_assessed=fail_on_not_assessed,
            out=out,
            publish=_drift_publisher(endpoint_url) if publish_securityhub else None,
            quiet=quiet,
        )
    )


def _drift_publisher(endpoint_url: str | None) -> Callable[[Any, dict[str, str]], None]:
    def publish(result: Any, names: dict[str, str]) -> None:
        from core import securityhub
        from governance import drift

        try:
            hub = securityhub.connect(endpoint_url=endpoint_url)
            now = securityhub.timestamp()
            published = securityhub.publish(
                hub,
                drift.drift_findings(result, product=hub.product, now=now, names=names),
                assessed=drift.assessed_places(result),
                now=now,
                prefix=securityhub.AUDIT_PREFIX,
            )
        except securityhub.SecurityHubError as err:
            raise fail(f"Security Hub: {err}") from None
        _say_published(published)

    return publish


@baseline_app.command("apply")
@cli_errors
def baseline_apply(
    spec: Path = typer.Option(..., "--spec", help=SPEC_HELP),
    account_ids: list[str] | None = typer.Option(None, "--account-id"),
    all_accounts: bool = typer.Option(False, "--all", help="Every account in the spec."),
    preview: bool = typer.Option(False, "--preview", help="Dry run: show the changes only."),
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        min=1,
        help="Stacks at once (default: from this machine's memory; on a remote "
        "--scheduler, as many as its workers' threads).",
    ),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
) -> None:
    """Run the account stacks (baseline-<account-id>) through the Automation API."""
    from ivs.baseline import run_baseline_apply

    if bool(account_ids) == all_accounts:
        raise fail("give --account-id ID (repeatable) or --all")
    raise typer.Exit(
        run_baseline_apply(
            spec,
            account_ids=account_ids or [],
            all_accounts=all_accounts,
            preview=preview,
            concurrency=concurrency,
            scheduler=scheduler_address(scheduler),
        )
    )


@app.command("vend")
@cli_errors
def vend(
    spec: Path = typer.Option(..., "--spec", help=SPEC_HELP),
    account_id: str | None = typer.Option(None, "--account-id"),
    ou: str = typer.Option(..., "--ou", help="OU path, for example Workloads/Prod."),
    create: bool = typer.Option(False, "--create", help="Create the account first."),
    email: str | None = typer.Option(None, "--email"),
    name: str | None = typer.Option(None, "--name"),
    preview: bool = typer.Option(False, "--preview", help="Dry run: change nothing."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
) -> None:
    """Place an account in its OU, record it in the spec, apply and verify its baseline."""
    from ivs.vend import run_vend

    raise typer.Exit(
        run_vend(
            spec,
            account_id=account_id,
            ou=ou,
            create=create,
            email=email,
            name=name,
            preview=preview,
            endpoint_url=endpoint_url,
        )
    )


class PolicyDocFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


def iso_date(value: str | None, option: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` option's date (None when not given); InputError otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(option, f"{shown(value)} is not a date (YYYY-MM-DD)") from None


@app.command("policy-doc")
@cli_errors
def policy_doc(
    spec: Path = typer.Option(..., "--spec", help=SPEC_HELP),
    out: Path = typer.Option(..., "--out", help="File to write (.md, .html or .pdf)."),
    fmt: PolicyDocFormat | None = typer.Option(
        None,
        "--format",
        help="md, html, or pdf for signing (printed by chromium); default from the suffix "
        "of --out, else md.",
    ),
    date: str | None = typer.Option(
        None,
        "--date",
        help="The document's date, YYYY-MM-DD (default today): reviews and accepted risks "
        "are measured against it.",
    ),
) -> None:
    """Write the infrastructure and virtualization security policy (IVS-01) for signing."""
    from governance.policyprint import write_policy
    from governance.spec import load_spec

    today = iso_date(date, "--date")
    write_policy(load_spec(spec), out, fmt.value if fmt else None, today=today)
    typer.echo(f"wrote {out}")


class IamFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("simulate")
@cli_errors
def simulate(
    snapshot: Path = typer.Option(..., "--snapshot", help="Snapshot directory."),
    principal: str = typer.Option(..., "--principal", help="A user or role ARN of the snapshot."),
    action: str = typer.Option(..., "--action", help="SERVICE:Action, e.g. iam:PassRole."),
    resource: str | None = typer.Option(None, "--resource", help="The resource ARN."),
    context: list[str] | None = typer.Option(
        None, "--context", help="A condition key's value: KEY=VALUE (repeatable)."
    ),
    fmt: IamFormat = typer.Option(IamFormat.text, "--format"),
    with_spec: Path | None = typer.Option(
        None, "--with-spec", help="Evaluate the spec's SCPs and RCPs instead of the collected."
    ),
) -> None:
    """The organization's answer to one API call, layer by layer (exit 0 whatever it is)."""
    from ivs.iam import run_simulate

    raise typer.Exit(
        run_simulate(
            snapshot,
            principal=principal,
            action=action,
            resource=resource,
            context=context or [],
            fmt=fmt.value,
            with_spec=with_spec,
        )
    )


@app.command("who-can")
@cli_errors
def who_can(
    snapshot: Path = typer.Option(..., "--snapshot", help="Snapshot directory."),
    action: str = typer.Option(..., "--action", help="SERVICE:Action, e.g. ssm:SendCommand."),
    resource: str | None = typer.Option(None, "--resource", help="The resource ARN."),
    account: str | None = typer.Option(None, "--account", help="Only principals of this account."),
    context: list[str] | None = typer.Option(
        None, "--context", help="A condition key's value: KEY=VALUE (repeatable)."
    ),
    fmt: IamFormat = typer.Option(IamFormat.text, "--format"),
) -> None:
    """Every principal for which an API call is allowed or conditional."""
    from ivs.iam import run_who_can

    raise typer.Exit(
        run_who_can(
            snapshot,
            action=action,
            resource=resource,
            account=account,
            context=context or [],
            fmt=fmt.value,
        )
    )


@app.command("demo")
@cli_errors
def demo(out: Path = typer.Option(Path("demo-out"), "--out", help="Output directory.")) -> None:
    """The whole product on a built-in AWS stand-in (moto on 127.0.0.1)."""
    from ivs.demo import run_demo

    raise typer.Exit(run_demo(out))


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def main() -> None:
    app()
