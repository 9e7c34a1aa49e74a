"""What ``pulumi up`` would create, without the Pulumi CLI or AWS.

``plan_stack(stack_name, spec)`` runs the program (``governance.program.build_stack``)
in-process under ``pulumi.runtime.set_mocks`` and returns every resource it registers:
type, name, inputs, parent, provider, what it waits for and whether it is protected.
``ivs demo`` prints it; the benchmarks time it.

Pulumi's runtime state (settings, the root stack, the config) lives in context
variables, and its mocks need an event loop. Each evaluation runs on a thread of its own,
in a copy of the caller's context (so config the caller set is seen), with its own event
loop, executor, monitor and root stack, all closed afterwards. Repeated calls in one
process therefore do not see each other's resources, do not disturb mocks a caller (a
test module) has set, and work whether or not the caller has an event loop running.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.stack import run_pulumi_func

from core.spec import Spec

PROJECT = "ivs-governance"
PROVIDER_PREFIX = "pulumi:providers:"


@dataclass(frozen=True)
class PlannedResource:
    """One resource the program registers. ``inputs`` use the engine's camelCase names."""

    type: str
    name: str
    urn: str
    id: str
    parent: str | None
    provider: str | None  # the provider's URN
    protect: bool
    custom: bool
    inputs: dict[str, Any]
    ignore_changes: tuple[str, ...] = ()
    #: URNs of the resources it is created after (``depends_on`` and those its inputs
    #: come from).
    dependencies: tuple[str, ...] = ()

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_PREFIX)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "id": self.id,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "custom": self.custom,
            "inputs": self.inputs,
            "ignore_changes": list(self.ignore_changes),
            "dependencies": list(self.dependencies),
        }


@dataclass(frozen=True)
class Plan:
    """The resources of one stack, in URN order, and its exports."""

    stack: str
    resources: tuple[PlannedResource, ...]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def providers(self) -> list[PlannedResource]:
        return [r for r in self.resources if r.is_provider]

    def by_urn(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def counts(self) -> dict[str, int]:
        """Resources per type, custom resources and providers only (not components)."""
        counter = Counter(r.type for r in self.resources if r.custom)
        return dict(sorted(counter.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "counts": self.counts(),
            "outputs": self.outputs,
            "resources": [r.as_dict() for r in self.resources],
        }


def _fake_id(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


class _PlanMocks(Mocks):
    """Ids shaped like AWS's, derived from the resource name so plans are reproducible."""

    def __init__(self) -> None:
        self.last_inputs = threading.local()

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        # The monitor calls this in the thread that handles the registration; it reads
        # the inputs back from there.
        self.last_inputs.value = args.inputs
        state = dict(args.inputs)
        name = args.name
        if args.typ == "aws:organizations/organization:Organization":
            root = f"r-{_fake_id(name, 'root', length=4)}"
            state["roots"] = [
                {"id": root, "arn": f"arn:aws:organizations::root/{root}", "name": "Root"}
            ]
            state["arn"] = f"arn:aws:organizations::organization/o-{_fake_id(name)}"
            return f"o-{_fake_id(name, length=10)}", state
        if args.typ == "aws:organizations/organizationalUnit:OrganizationalUnit":
            return f"ou-{_fake_id(name, length=4)}-{_fake_id(name)}", state
        if args.typ == "aws:organizations/policy:Policy":
            policy_id = f"p-{_fake_id(name)}"
            state["arn"] = f"arn:aws:organizations::policy/{policy_id}"
            return policy_id, state
        if args.typ == "aws:organizations/policyAttachment:PolicyAttachment":
            return f"{args.inputs.get('targetId')}:{args.inputs.get('policyId')}", state
        return f"{_fake_id(args.typ, name, length=12)}", state

    def call(self, args: Any) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


class _RecordingMonitor(MockMonitor):
    """A mock monitor that also keeps each registration's parent, provider and options."""

    def __init__(self, mocks: _PlanMocks) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.records: list[PlannedResource] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = getattr(self.plan_mocks.last_inputs, "value", None) if request.custom else {}
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        record = PlannedResource(
            type=request.type,
            name=request.name,
            urn=response.urn,
            id=response.id,
            parent=request.parent or None,
            provider=provider,
            protect=bool(request.protect),
            custom=bool(request.custom),
            inputs=dict(inputs or {}),
            ignore_changes=tuple(request.ignoreChanges),
            dependencies=tuple(sorted(set(request.dependencies))),
        )
        with self._lock:
            self.records.append(record)
        return response


def evaluate(program: Callable[[], Any], stack_name: str, project: str = PROJECT) -> Plan:
    """Run ``program`` under mocks as stack ``stack_name``; return what it registered.

    When the program returns a mapping (its exports), the resolved values become
    ``Plan.outputs``. An exception raised by the program (or by a resource) propagates
    after the runtime has settled.
    """
    context = contextvars.copy_context()
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["plan"] = context.run(_evaluate, program, stack_name, project)
        except BaseException as err:  # re-raised in the caller's thread
            result["error"] = err

    thread = threading.Thread(target=target, name=f"pulumi-plan-{stack_name}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    plan: Plan = result["plan"]
    return plan


def _evaluate(program: Callable[[], Any], stack_name: str, project: str) -> Plan:
    # The mock monitor gives every executor thread an event loop of its own; this executor
    # makes them up front so they can be closed with it, instead of at interpreter exit.
    worker_loops: list[asyncio.AbstractEventLoop] = []

    def worker_loop() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        worker_loops.append(loop)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(thread_name_prefix="pulumi-plan", initializer=worker_loop)
    loop.set_default_executor(executor)
    try:
        monitor = _RecordingMonitor(_PlanMocks())
        pulumi_settings.ROOT.set(None)  # a fresh root stack for this run
        # set_mocks leaves these as the caller's context has them: the set of pending
        # output tasks is shared with any mocks set before, whose tasks belong to another
        # event loop and would never finish here.
        pulumi_settings.SETTINGS.outputs = set()
        pulumi_settings.SETTINGS.package_refs = {}
        pulumi_settings.SETTINGS.base_providers_by_ref = {}
        pulumi.runtime.set_mocks(
            monitor.plan_mocks, project=project, stack=stack_name, preview=False, monitor=monitor
        )
        outputs: dict[str, Any] = {}

        async def run() -> None:
            exports = program()
            if isinstance(exports, Mapping):
                outputs.update(await pulumi.Output.from_input(dict(exports)).future() or {})

        loop.run_until_complete(run_pulumi_func(run))
        # Registrations arrive from several threads; URN order makes plans reproducible.
        records = tuple(sorted(monitor.records, key=lambda r: r.urn))
        return Plan(stack=stack_name, resources=records, outputs=outputs)
    finally:
        executor.shutdown(wait=True)
        for worker in worker_loops:
            worker.close()
        loop.close()
        asyncio.set_event_loop(None)


def plan_stack(stack_name: str, spec: Spec, project: str = PROJECT) -> Plan:
    """The resources ``pulumi up`` would create for ``stack_name`` (``org`` or
    ``baseline-<account-id>``) from ``spec``; raises as the program would (a lint error,
    an unknown stack or account)."""
    from governance.program import build_stack

    return evaluate(lambda: build_stack(stack_name, spec), stack_name, project)
