"""``ivs demo``: the product end to end on the example organization, with no AWS account.

The demo is a list of steps (:data:`STEPS`) run in order on one :class:`DemoRun`; each
step prints its part, records the files it wrote, and may stop the run with an exit code.

1. load the example spec (``stacks/Pulumi.org.yaml``, shipped in the package as
   ``ivs/example``), lint and render its policy documents, show what ``pulumi up`` would
   create for the org stack and one account stack (Pulumi under mocks), and write the
   IVS policy in words;
2. start an AWS stand-in: a moto server on 127.0.0.1 in this process, with fake
   credentials for the demo only (``sandbox.world.aws_stand_in``); create the
   spec's organization in it with every policy attached, apply each member's
   per-account baseline as the account stacks would (with the backup vault and role
   where a backup policy is in force), and turn on the security services in every
   member account-region as the org stack's delegated administrator does;
3. build the workloads of ``sandbox.world``: networks in two regions with peering,
   a transit gateway, an internet-facing load balancer, managed-service interfaces, and a
   handful of planted mistakes and traps;
4. audit the organization against the spec, collect every account and region into a
   snapshot, analyse it, and write the reports;
5. check that every planted mistake was found and no trap was flagged.

The server is stopped, its socket closed and the environment restored when the run ends,
however it ends. Exit code 0 when the demo ran (its planted findings are expected), 1 when
lint found errors or the analysis did not find exactly what was planted.

Files under ``OUT``::

    OUT/lint.json                    the lint report
    OUT/policies/...                 every document as deployed and readable (ivs policies render)
    OUT/plan/<stack>.json            the resources `pulumi up` would create, per stack
    OUT/policy.md                    the IVS policy in words (ivs policy-doc)
    OUT/demo-world.json              what was seeded, and what each planted item must produce
    OUT/audit.json                   ivs audit --format json
    OUT/snapshot/...                 ivs collect
    OUT/findings.json                ivs exposure --format json
    OUT/findings.sarif               ivs exposure --format sarif
    OUT/report.html                  ivs exposure --format html
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core.aws import Aws
from core.errors import InputError, ToolMissingError
from core.jsonio import atomic_write_text, write_json
from core.spec import Spec
from core.vocabulary import SEVERITIES
from governance.spec import load_spec
from ivs.terminal import add_column, severity_markup

#: The example spec, shipped in the package (``ivs/example`` is the repository's ``stacks/``).
EXAMPLE_SPEC = ("example", "Pulumi.org.yaml")
INSTALL_DEMO = "pip install 'ivs-governance[demo]'"
#: Thread pools of the baseline, the audit and the collector. The stand-in answers from
#: this process, so more threads only contend for the interpreter: measured on 2 cores,
#: 8 workers took the demo from 16 s to 25 s and its peak memory from 480 MB to 690 MB.
WORKERS = 2


@dataclass
class DemoRun:
    """What the steps share: where to write, the console, the spec and what was written."""

    out: Path
    console: Console
    spec_path: Path
    spec: Spec | None = None
    written: list[Path] = field(default_factory=list)
    exit_code: int = 0
    stopped: bool = False
    #: Results one step leaves for the next (``lint``, ``plans``...).
    results: dict[str, Any] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    #: What must be undone when the run ends (the AWS stand-in).
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    endpoint: str | None = None
    #: Clients with the operator's credentials (the management account), once seeded.
    aws: Aws | None = None
    #: Shows what a long step is doing (a spinner on a terminal; nothing in a log).
    say: Callable[[str], None] = lambda _text: None

    def require_spec(self) -> Spec:
        if self.spec is None:
            raise RuntimeError("the spec step has not run")
        return self.spec

    def require_aws(self) -> tuple[Aws, str]:
        if self.aws is None or self.endpoint is None:
            raise RuntimeError("the AWS stand-in step has not run")
        return self.aws, self.endpoint

    def stop(self, code: int, reason: str) -> None:
        self.console.print(f"[red]demo stopped:[/] {reason}")
        self.exit_code = code
        self.stopped = True


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[DemoRun], None]
    #: False for a step that draws its own progress display (only one can be live).
    spinner: bool = True


def find_example_spec() -> Path:
    """The example spec the package ships (its policy files and account stack beside it),
    wherever the package is installed; in a checkout, ``stacks/Pulumi.org.yaml``."""
    spec = resources.files("ivs").joinpath(*EXAMPLE_SPEC)
    # A spec names its policy files by path, so it must be a file on disk, not in an archive.
    if not isinstance(spec, Path) or not spec.is_file():
        raise InputError(
            "/".join(("ivs", *EXAMPLE_SPEC)),
            "the example spec is not installed with the package (reinstall ivs-governance)",
        )
    return spec.resolve()


def require_stand_in() -> None:
    """The AWS stand-in is moto, an optional extra: say in one line how to install it."""
    try:
        # moto warns, on top, when its server's own packages are missing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import moto.server  # noqa: F401
    except ImportError as err:
        top = (err.name or "moto").split(".")[0]
        missing = "it is" if top == "moto" else f"{top} is"
        raise ToolMissingError(
            f"ivs demo needs moto for its AWS stand-in, and {missing} not installed: "
            + INSTALL_DEMO
        ) from None


# ---- steps ------------------------------------------------------------------------------


def step_spec(run: DemoRun) -> None:
    run.spec = spec = load_spec(run.spec_path)
    accounts = sum(1 for _ in spec.accounts())
    units = sum(1 for _ in spec.units())
    run.console.print(
        f"{_display(run.spec_path)}: {units} OUs, {accounts} member accounts, "
        f"regions {', '.join(spec.regions)}"
    )


def step_lint(run: DemoRun) -> None:
    from governance.lint import lint_spec
    from graph.rules import RULES_BY_ID
    from ivs.policies import print_report

    report = lint_spec(run.require_spec(), finding_rules=RULES_BY_ID)
    print_report(report, "text")
    run.written.append(atomic_write_text(run.out / "lint.json", report.to_json()))
    run.results["lint"] = report
    if report.has_errors:
        run.stop(1, "lint found errors; nothing would be deployed")


def step_render(run: DemoRun) -> None:
    from governance.render import render_policies

    written = render_policies(run.require_spec(), run.out / "policies")
    run.written.extend(written)
    run.console.print(f"{len(written)} files under {_display(run.out / 'policies')}")


def step_plan(run: DemoRun) -> None:
    from governance.plan import plan_stack
    from governance.program import ORG_STACK, account_stack_name

    spec = run.require_spec()
    account_id = example_account(spec, run.spec_path.parent)
    plans = run.results.setdefault("plans", {})
    for stack in (ORG_STACK, account_stack_name(account_id)):
        plan = plan_stack(stack, spec)
        plans[stack] = plan
        run.written.append(write_json(run.out / "plan" / f"{stack}.json", plan.as_dict()))
        run.console.print(_counts_table(plan))
        if stack == ORG_STACK:
            run.console.print(_attachments_table(plan, spec))
        else:
            run.console.print(_regions_table(plan))


def step_policy_text(run: DemoRun) -> None:
    from governance.policyprint import write_policy

    path = run.out / "policy.md"
    for written in (path, run.out / "policy.html"):  # the HTML to print and sign
        write_policy(run.require_spec(), written)
        run.written.append(written)
    headings = [
        line[3:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("## ")
    ]
    run.console.print(f"{_display(path)}: {'; '.join(headings)}", soft_wrap=True)


def step_stand_in(run: DemoRun) -> None:
    from sandbox import moto_ext
    from sandbox.organization import seed_organization
    from sandbox.world import aws_stand_in, check_spec, operator_credentials

    spec = run.require_spec()
    check_spec(spec, _display(run.spec_path))
    run.say("starting moto on 127.0.0.1")
    endpoint = run.cleanup.enter_context(aws_stand_in())
    run.endpoint = endpoint
    run.say("creating the organization")
    bootstrap = Aws(endpoint_url=endpoint)
    seeded = seed_organization(spec, bootstrap)
    moto_ext.seed_unsupported_documents(spec, bootstrap, seeded)
    # From here on the demo runs as an operator of the management account would.
    os.environ.update(operator_credentials(spec, bootstrap))  # undone with the stand-in
    run.aws = Aws(endpoint_url=endpoint)
    run.results["organization"] = seeded
    run.console.print(
        f"AWS stand-in: moto on {endpoint} (this process; fake credentials for the demo only)"
    )
    run.console.print(_organization_table(spec, seeded))


def step_baseline(run: DemoRun) -> None:
    from governance.controls import expected_backup_needs
    from governance.controls.security_services import TITLES, admin_words, administered
    from sandbox.moto_ext import seed_account_baseline, seed_security_services
    from sandbox.world import PLANTED_BY_KEY, plant_account_drift

    spec = run.require_spec()
    aws, _ = run.require_aws()
    members = [a.id for a, _ in spec.accounts()]
    seed_account_baseline(aws, spec, members, workers=WORKERS)
    backed_up = [a for a in members if expected_backup_needs(spec, a) is not None]
    run.console.print(
        f"baseline applied to {len(members)} member accounts in {', '.join(spec.regions)}: "
        "EBS encryption by default (and its KMS key), image and snapshot block public "
        f"access, IMDS defaults; the backup vault and role in the {len(backed_up)} "
        "accounts under the backup policy",
        soft_wrap=True,
    )
    services = administered(spec)
    if services:
        seed_security_services(aws, spec, members, workers=WORKERS)
        run.console.print(
            f"{', '.join(TITLES[s] for s in services)} on in every member account and region, "
            f"administered by {admin_words(spec)}",
            soft_wrap=True,
        )
    plant_account_drift(spec, aws)
    drift = PLANTED_BY_KEY["ebs-encryption-off"]
    run.console.print(
        f"[yellow]planted:[/] EBS encryption by default turned off again in "
        f"{drift.account} {drift.region}"
    )


def step_workloads(run: DemoRun) -> None:
    from sandbox.world import seed_workloads

    spec = run.require_spec()
    aws, endpoint = run.require_aws()
    world = seed_workloads(spec, aws, endpoint, run.results["organization"], progress=run.say)
    run.results["world"] = world
    run.written.append(write_json(run.out / "demo-world.json", world.as_dict(spec)))
    run.console.print(_estates_table(spec, world))
    run.console.print(_planted_table(spec))
    run.console.print(
        f"default VPC removed in the {len(world.cleared)} other account-regions", soft_wrap=True
    )


def step_audit(run: DemoRun) -> None:
    from governance.audit import audit_organization, report_json

    spec = run.require_spec()
    aws, _ = run.require_aws()
    result = audit_organization(spec, aws, workers=WORKERS)
    run.results["audit"] = result
    from ivs.audit import names_of

    document = report_json(result, _display(run.spec_path), names_of(spec))
    run.written.append(write_json(run.out / "audit.json", document))
    counts = result.counts()
    run.console.print(
        f"{counts['pass']} pass, {counts['drift']} drift, {counts['not_assessed']} not assessed"
    )
    flagged = [c for c in result.checks if c.status != "pass"]
    if flagged:
        run.console.print(_audit_table(flagged))


def step_collect(run: DemoRun) -> None:
    from ivs.collect import run_collect

    spec = run.require_spec()
    _, endpoint = run.require_aws()
    out = run.out / "snapshot"
    result = run_collect(
        out,
        console=run.console,
        endpoint_url=endpoint,
        regions=list(spec.regions),
        role_name=spec.member_role_name,
        workers=WORKERS,
    )
    run.results["collect"] = result
    run.written.extend(sorted(p for p in out.rglob("*") if p.is_file()))


def step_exposure(run: DemoRun) -> None:
    from graph.findings import (
        ExposureResult,
        analyse_graph,
        read_snapshot,
        render_json,
        without_gc,
    )
    from graph.report import html, sarif

    spec = run.require_spec()
    with without_gc():
        graph, iam = read_snapshot(run.out / "snapshot")
        document = analyse_graph(graph, spec.zones, spec.exposure, iam, spec.iam, spec)
    run.results["findings"] = document
    result = ExposureResult(document, graph)
    run.written.append(atomic_write_text(run.out / "findings.json", render_json(document)))
    for module, name in ((sarif, "findings.sarif"), (html, "report.html")):
        module.render(result, run.out / name)
        run.written.append(run.out / name)
    summary = document["summary"]
    run.console.print(
        f"{len(document['assessed'])} account-regions assessed, "
        f"{len(document['not_assessed'])} not assessed; findings by severity: "
        + ", ".join(f"{sev} {summary[sev]}" for sev in SEVERITIES)
        + f"; {summary['accepted']} accepted (the spec's ivs:accepted)"
    )
    run.console.print(_findings_table(document["findings"], document["account_names"]))


def step_second_run(run: DemoRun) -> None:
    """Change the stand-in (one mistake fixed, one made), collect again, and compare the
    new findings with the first run's (``ivs exposure --baseline``)."""
    from ivs.collect import run_collect
    from ivs.exposure import run_exposure
    from sandbox.world import change_between_runs

    spec = run.require_spec()
    aws, endpoint = run.require_aws()
    changed = change_between_runs(spec, aws, run.results["world"])
    run.console.print(
        f"changed since the first run: image {changed['fixed']} made private; snapshot "
        f"{changed['new']} shared with an account outside the organization",
        soft_wrap=True,
    )
    second = run.out / "second-run"
    run_collect(
        second / "snapshot",
        console=run.console,
        endpoint_url=endpoint,
        regions=list(spec.regions),
        role_name=spec.member_role_name,
        workers=WORKERS,
    )
    run.written.extend(sorted(p for p in (second / "snapshot").rglob("*") if p.is_file()))
    said: list[str] = []
    for fmt, name in (("json", "findings.json"), ("md", "findings.md")):
        run_exposure(
            second / "snapshot",
            second / name,
            spec_path=run.spec_path,
            fmt=fmt,
            fail_on="none",
            baseline=run.out / "findings.json",
            say=said.append,
        )
        run.written.append(second / name)
    run.console.print(said[0], markup=False, soft_wrap=True)
    document = json.loads((second / "findings.json").read_text())
    new = [f for f in document["findings"] if f["change"] == "new"]
    fixed = document["fixed"]
    table = Table(title="since the first run (second-run/findings.md is the pull-request comment)")
    for column in ("Change", "Severity", "Rule", "Account", "Resource"):
        add_column(table, column)
    names = document["account_names"]
    for change, items in (("new", new), ("fixed", fixed)):
        for f in items:
            account = f"{names.get(f['account'], '')} ({f['account']})"
            table.add_row(change, f["severity"], f["rule"], account, f["resource"])
    run.console.print(table)
    if [f["resource"] for f in new] != [changed["new"]] or [f["resource"] for f in fixed] != [
        changed["fixed"]
    ]:
        run.stop(1, "the second run's new and fixed findings are not what was changed")


def step_check(run: DemoRun) -> None:
    """Every planted mistake found, and nothing else; no trap flagged."""
    from sandbox.world import PLANTED, finding_key

    world = run.results["world"]
    findings = run.results["findings"]["findings"]
    found = {finding_key(f) for f in findings}
    drift = {
        (c.account, c.region, c.control) for c in run.results["audit"].checks if c.status == "drift"
    }
    table = Table(title="planted in the stand-in, and what the product reported")
    for column in ("Kind", "Planted", "Expected", "Reported"):
        add_column(table, column)
    expected_findings: set[tuple[str | None, str | None, str | None, str | None]] = set()
    expected_drift: set[tuple[str | None, str | None, str | None]] = set()
    trapped: list[dict[str, Any]] = []
    for item in PLANTED:
        if item.kind == "trap":
            resources = set(world.trap_resources(item.key))
            hits = [f for f in findings if resources & {f["resource"], f.get("source")}]
            trapped += hits
            shown = (
                "[red]flagged: " + ", ".join(f["rule"] for f in hits) + "[/]"
                if hits
                else "[green]no finding[/]"
            )
            table.add_row(item.kind, item.title, "no finding", shown)
            continue
        for exp in world.findings(item.key):
            if exp.control is not None:
                key = (exp.account, exp.region, exp.control)
                expected_drift.add(key)
                seen = key in drift
                what = f"audit drift {exp.control} in {exp.account} {exp.region}"
            else:
                wanted = finding_key(exp.as_dict())
                expected_findings.add(wanted)
                seen = wanted in found
                what = f"{exp.rule} {exp.resource}" + (f" {exp.ports}" if exp.ports else "")
                if exp.source and exp.source != "internet":
                    what += f" by {exp.source}"
            table.add_row(
                item.kind, item.title, what, "[green]found[/]" if seen else "[red]missing[/]"
            )
    run.console.print(table)
    unexpected = sorted(found - expected_findings, key=str)
    missing = sorted(expected_findings - found, key=str) + sorted(expected_drift - drift, key=str)
    extra_drift = sorted(drift - expected_drift, key=str)
    for rule, resource, ports, source in unexpected:
        by = f" by {source}" if source else ""
        run.console.print(f"[red]not planted:[/] {rule} {resource} {ports or ''}{by}")
    for account, region, control in extra_drift:
        run.console.print(f"[red]not planted:[/] audit drift {control} in {account} {region}")
    if missing or unexpected or extra_drift or trapped:
        run.stop(1, "the findings differ from what the demo planted (see above)")
    else:
        run.console.print("[green]every planted mistake was reported, and nothing else[/]")


STEPS: list[Step] = [
    Step("Spec", step_spec),
    Step("Lint the policy documents", step_lint),
    Step("Render the policy documents", step_render),
    Step("Deployment plan (pulumi up, under mocks)", step_plan),
    Step("The IVS policy in words", step_policy_text),
    Step("AWS stand-in and the organization", step_stand_in),
    Step("Per-account baseline (the account stacks)", step_baseline),
    Step("Workloads: networks, planted mistakes and traps", step_workloads),
    Step("Audit (ivs audit)", step_audit),
    Step("Collect (ivs collect)", step_collect, spinner=False),
    Step("Exposure analysis and reports (ivs exposure)", step_exposure),
    Step("Check against what was planted", step_check),
    Step("A second run: what changed (ivs exposure --baseline)", step_second_run, spinner=False),
]


def run_demo(out: Path, steps: list[Step] | None = None, console: Console | None = None) -> int:
    """Run the demo steps, writing under ``out``; return the exit code (0, or 1 on lint
    errors or findings that differ from what was planted).

    Whatever a step started (the AWS stand-in) is stopped before this returns, also when
    a step raises. Without moto (the ``demo`` extra) it raises ToolMissingError first.
    """
    require_stand_in()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "--out exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(str(out), f"--out cannot be created: {err.strerror or err}") from None
    run = DemoRun(out=out, console=console or _console(), spec_path=find_example_spec())
    with run.cleanup:
        for number, step in enumerate(steps or STEPS, start=1):
            title = f"{number}. {step.title}"
            run.console.rule(title)
            started = time.perf_counter()
            with _spinner(run, title if step.spinner else None):
                step.run(run)
            run.timings.append((step.title, time.perf_counter() - started))
            if run.stopped:
                break
    _summary(run)
    return run.exit_code


@contextlib.contextmanager
def _spinner(run: DemoRun, title: str | None) -> Iterator[None]:
    if title is None or not run.console.is_terminal:
        yield
        return
    with run.console.status(title) as status:
        run.say = lambda text: status.update(f"{title}: {text}")
        try:
            yield
        finally:
            run.say = lambda _text: None


# ---- presentation -----------------------------------------------------------------------


def example_account(spec: Spec, stacks_dir: Path) -> str:
    """The account of the first shipped account stack config, else the first account."""
    from governance.program import stack_account_id

    for config in sorted(stacks_dir.glob("Pulumi.baseline-*.yaml")):
        account_id = stack_account_id(config.stem.removeprefix("Pulumi."))
        if account_id is not None and any(a.id == account_id for a, _ in spec.accounts()):
            return account_id
    first = next(spec.accounts(), None)
    if first is None:
        raise InputError(str(stacks_dir), "the spec has no member account for an account stack")
    return first[0].id


def _short_type(type_: str) -> str:
    """``aws:organizations/policy:Policy`` -> ``organizations.Policy``."""
    if type_.startswith("pulumi:providers:"):
        return f"provider ({type_.rsplit(':', 1)[-1]})"
    parts = type_.split(":")
    return f"{parts[1].split('/')[0]}.{parts[-1]}" if len(parts) == 3 else type_


def _counts_table(plan: Any) -> Table:
    table = Table(title=f"stack {plan.stack}: resources to create")
    table.add_column("Type")
    table.add_column("Count", justify="right")
    for type_, count in plan.counts().items():
        table.add_row(_short_type(type_), str(count))
    table.add_row("[bold]total[/]", f"[bold]{sum(plan.counts().values())}[/]")
    return table


def _attachments_table(plan: Any, spec: Spec) -> Table:
    from governance.components.org import ou_resource_name
    from governance.program import ORG_COMPONENT

    policies = {r.id: r for r in plan.of_type("aws:organizations/policy:Policy")}
    ou_ids = {r.name: r.id for r in plan.of_type(_OU)}
    labels = {ou_ids[ou_resource_name(ORG_COMPONENT, path)]: path for path, _ in spec.units()}
    labels[plan.outputs.get("root_id", "")] = "root"
    labels.update({account.id: f"{account.id} ({account.name})" for account, _ in spec.accounts()})
    table = Table(title=f"stack {plan.stack}: policy attachments")
    for column in ("Policy", "Type", "Target", "Protected"):
        table.add_column(column)
    rows = []
    for attachment in plan.of_type("aws:organizations/policyAttachment:PolicyAttachment"):
        policy = policies[attachment.inputs["policyId"]]
        target = labels.get(attachment.inputs["targetId"], attachment.inputs["targetId"])
        rows.append((policy.inputs["name"], policy.inputs["type"], target, attachment.protect))
    for name, type_, target, protected in sorted(rows, key=lambda r: (r[2] != "root", r[2], r[0])):
        table.add_row(name, type_, target, "yes" if protected else "")
    return table


def _regions_table(plan: Any) -> Table:
    regions = plan.outputs.get("regions", [])
    table = Table(title=f"stack {plan.stack}: baseline per region")
    table.add_column("Resource")
    for region in regions:
        table.add_column(region, justify="center")
    per_type: dict[str, set[str]] = {}
    for resource in plan.resources:
        if resource.custom and not resource.is_provider:
            per_type.setdefault(resource.type, set()).add(resource.inputs.get("region", ""))
    for type_, found in sorted(per_type.items()):
        if found == {""}:  # global (IAM): once for the account
            table.add_row(_short_type(type_), *("global" for _ in regions))
            continue
        table.add_row(_short_type(type_), *("yes" if r in found else "-" for r in regions))
    return table


_OU = "aws:organizations/organizationalUnit:OrganizationalUnit"


def _organization_table(spec: Spec, seeded: Any) -> Table:
    table = Table(title=f"organization {seeded.organization_id}")
    for column in ("OU", "Id", "Accounts", "Policies attached"):
        add_column(table, column)
    docs = _documents_by_target(spec)
    table.add_row(
        "root",
        seeded.root_id,
        f"{seeded.management_account_id} (management)",
        ", ".join(docs.get("root", [])),
    )
    for path, unit in spec.units():
        accounts = ", ".join(f"{a.id} {a.name}" for a in unit.accounts)
        table.add_row(path, seeded.units[path], accounts, ", ".join(docs.get(path, [])))
    return table


def _documents_by_target(spec: Spec) -> dict[str, list[str]]:
    from governance.policies import build_documents

    out: dict[str, list[str]] = {}
    for doc in build_documents(spec, check_limits=False):
        for target in doc.targets:
            out.setdefault(target, []).append(doc.name)
    return out


def _estates_table(spec: Spec, world: Any) -> Table:
    from sandbox.world import ESTATES, STAGING_ACCOUNT, STAGING_REGION

    names = {a.id: a.name for a, _ in spec.accounts()}
    table = Table(title="workloads")
    for column in ("Account", "Region", "VPCs", "Subnets", "Instances", "Network", "Purpose"):
        add_column(table, column)

    def count(ids: dict[str, str], prefix: str) -> str:
        return str(sum(1 for name in ids if name.startswith(prefix)))

    for estate in ESTATES:
        ids = world.networks[estate.key].ids
        network = [
            label
            for prefix, label in (
                ("tgw.", "transit gateway"),
                ("pcx.", "peering"),
                ("alb.", "internet-facing ALB"),
                ("nat.", "NAT"),
                ("igw.", "IGW"),
            )
            if any(name.startswith(prefix) for name in ids)
        ]
        table.add_row(
            f"{estate.account} {names.get(estate.account, '')}",
            estate.region,
            count(ids, "vpc."),
            count(ids, "subnet."),
            count(ids, "i."),
            ", ".join(network),
            estate.purpose,
        )
    staging = {
        k.removeprefix("staging."): v for k, v in world.ids.items() if k.startswith("staging.")
    }
    table.add_row(
        f"{STAGING_ACCOUNT} {names.get(STAGING_ACCOUNT, '')}",
        STAGING_REGION,
        count(staging, "vpc"),
        count(staging, "subnet."),
        count(staging, "i."),
        "IGW",
        "staging (the traps)",
    )
    return table


def _planted_table(spec: Spec) -> Table:
    from sandbox.world import PLANTED

    names = {a.id: a.name for a, _ in spec.accounts()}
    table = Table(title="planted on purpose")
    for column in ("Kind", "What", "Where", "Detail"):
        add_column(table, column)
    for item in PLANTED:
        where = f"{item.account} {names.get(item.account, '')} {item.region}"
        table.add_row(item.kind, item.title, where, item.detail)
    return table


def _audit_table(checks: list[Any]) -> Table:
    from governance.audit import describe

    table = Table(title="audit: records that did not pass")
    for column in ("Account", "Region", "Control", "Status", "Detail"):
        add_column(table, column)
    for check in checks:
        style = "red" if check.status == "drift" else "yellow"
        table.add_row(
            check.account,
            check.region,
            check.control,
            f"[{style}]{check.status}[/]",
            describe(check),
        )
    return table


def _findings_table(findings: list[dict[str, Any]], names: dict[str, str]) -> Table:
    table = Table(title="findings (report.html shows each path on the graph)")
    for column in ("Severity", "Rule", "Account", "Region", "Resource", "Ports", "Source"):
        add_column(table, column)
    for finding in findings:
        accepted = finding.get("accepted")
        account = finding["account"] or ""
        table.add_row(
            severity_markup(finding["severity"])
            + (f" (accepted until {accepted['expires']})" if accepted else ""),
            finding["rule"],
            f"{names[account]} ({account})" if account in names else account,
            finding["region"] or "",
            finding["resource"],
            finding["ports"] or "",
            finding["source"],
        )
    return table


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:  # a log or a pipe: wide enough that tables do not fold
        console = Console(highlight=False, width=max(console.width, 120))
    return console


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _summary(run: DemoRun) -> None:
    run.console.rule("Summary")
    for title, seconds in run.timings:
        run.console.print(f"{title}: {seconds:.1f} s")
    total = sum(seconds for _, seconds in run.timings)
    run.console.print(f"total: {total:.1f} s")
    run.console.print(f"{len(run.written)} files written under {_display(run.out)}:")
    snapshots = [run.out / "snapshot", run.out / "second-run" / "snapshot"]
    shown_snapshots: set[Path] = set()
    for path in run.written:
        snapshot = next((s for s in snapshots if path.is_relative_to(s)), None)
        if snapshot is not None:
            if snapshot not in shown_snapshots:  # hundreds of raw API responses: one line
                in_snapshot = [p for p in run.written if p.is_relative_to(snapshot)]
                run.console.print(
                    f"  {snapshot.relative_to(run.out).as_posix()}/ ({len(in_snapshot)} files: "
                    "manifest.json and <account>/<region>/<Key>.json)",
                    markup=False,
                    soft_wrap=True,
                )
                shown_snapshots.add(snapshot)
            continue
        try:
            shown = str(path.relative_to(run.out))
        except ValueError:
            shown = _display(path)
        run.console.print(f"  {shown}", markup=False, soft_wrap=True)
    if (run.out / "report.html").is_file():
        run.console.print(f"open {_display(run.out / 'report.html')} in a browser", soft_wrap=True)
    status = "[green]ok[/]" if run.exit_code == 0 else f"[red]exit {run.exit_code}[/]"
    run.console.print(f"demo {status}")
