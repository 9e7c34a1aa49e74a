"""``ivs demo``: the product end to end on the example organization.

The demo is a list of steps (:data:`STEPS`) run in order on one :class:`DemoRun`; each
step prints its part, records the files it wrote, and may stop the run with an exit code.
This version loads the example spec, lints it, renders the policies and shows the
deployment plan of the org stack and one account stack. Later steps (the AWS stand-in,
collect, exposure, audit, report) append themselves to :data:`STEPS`.

Files under ``OUT``::

    OUT/lint.json                    the lint report
    OUT/policies/...                 every document as deployed and readable (ivs policies render)
    OUT/plan/<stack>.json            the resources `pulumi up` would create, per stack
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from governance.errors import InputError
from governance.jsonio import atomic_write_text, write_json
from governance.spec import Spec, load_spec

EXAMPLE_SPEC = Path("stacks") / "Pulumi.org.yaml"


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

    def require_spec(self) -> Spec:
        if self.spec is None:
            raise RuntimeError("the spec step has not run")
        return self.spec

    def stop(self, code: int, reason: str) -> None:
        self.console.print(f"[red]demo stopped:[/] {reason}")
        self.exit_code = code
        self.stopped = True


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[DemoRun], None]


def find_example_spec() -> Path:
    """``stacks/Pulumi.org.yaml`` of the repository this package runs from, else of cwd."""
    candidates = [Path(__file__).resolve().parents[1] / EXAMPLE_SPEC, Path.cwd() / EXAMPLE_SPEC]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(str(EXAMPLE_SPEC), "the example spec is not found (run from the repository)")


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
    from governance.lint import lint_spec, print_report

    report = lint_spec(run.require_spec())
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


STEPS: list[Step] = [
    Step("Spec", step_spec),
    Step("Lint the policy documents", step_lint),
    Step("Render the policy documents", step_render),
    Step("Deployment plan (pulumi up, under mocks)", step_plan),
]


def run_demo(out: Path, steps: list[Step] | None = None, console: Console | None = None) -> int:
    """Run the demo steps, writing under ``out``; return the exit code (0, or 1 on lint
    errors)."""
    run = DemoRun(out=Path(out), console=console or _console(), spec_path=find_example_spec())
    for number, step in enumerate(steps or STEPS, start=1):
        run.console.rule(f"{number}. {step.title}")
        started = time.perf_counter()
        step.run(run)
        run.timings.append((step.title, time.perf_counter() - started))
        if run.stopped:
            break
    _summary(run)
    return run.exit_code


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
        table.add_row(_short_type(type_), *("yes" if r in found else "-" for r in regions))
    return table


_OU = "aws:organizations/organizationalUnit:OrganizationalUnit"


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
    run.console.print(f"{len(run.written)} files written under {_display(run.out)}:")
    for path in run.written:
        try:
            shown = str(path.relative_to(run.out))
        except ValueError:
            shown = _display(path)
        run.console.print(f"  {shown}", markup=False, soft_wrap=True)
    status = "[green]ok[/]" if run.exit_code == 0 else f"[red]exit {run.exit_code}[/]"
    run.console.print(f"demo {status}")
