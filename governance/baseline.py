"""``ivs baseline apply``: run the account stacks (``baseline-<account-id>``).

Each member account has its own small stack holding its :class:`AccountBaseline` (EBS
encryption by default and its key, image and snapshot block public access, IMDS defaults
in every governed region). Stacks run through the Automation API as inline programs,
several at once: each one starts an AWS provider process of a few hundred MB, so the
default number at once follows the memory available. An account that fails does not stop
the others; failures are listed at the end and make the exit code 1.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from core.cluster import LOCAL, Throttle, task_pool, worker_lost
from core.errors import InputError, ToolMissingError
from core.spec import Spec
from governance.automation import Program, StackRunError, StackRunner

RunnerFactory = Callable[[Path], StackRunner]

#: Memory one account stack needs (CLI, language host and pulumi-aws provider process).
STACK_MEMORY_BYTES = 600 * 1024 * 1024
MAX_DEFAULT_CONCURRENCY = 8


def default_concurrency(mem_available: int | None = None) -> int:
    """How many account stacks to run at once: available memory / 600 MB, 1 to 8.

    >>> default_concurrency(4 * 1024**3)
    6
    """
    if mem_available is None:
        mem_available = _mem_available()
    if mem_available is None:
        return 1
    return max(1, min(MAX_DEFAULT_CONCURRENCY, mem_available // STACK_MEMORY_BYTES))


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def stack_name(account_id: str) -> str:
    from governance.program import account_stack_name

    return account_stack_name(account_id)


def account_program(spec: Spec, account_id: str) -> Program:
    """The inline program of an account stack: that account's baseline, from ``spec``."""
    name = stack_name(account_id)

    def program() -> object:
        from governance.program import build_stack

        return build_stack(name, spec)

    return program


def stack_config(spec: Spec, spec_file: Path | None, config_dir: Path | None) -> dict[str, str]:
    """Config an account stack needs when it is run with the plain CLI later on.

    ``aws:region`` for the default provider, and ``ivs:spec_file`` (relative to the stack
    config directory) so that ``__main__.py`` reads the same spec.
    """
    config = {"aws:region": spec.regions[0]}
    if spec_file is not None and config_dir is not None:
        config["ivs:spec_file"] = os.path.relpath(spec_file.resolve(), config_dir.resolve())
    return config


@dataclass(frozen=True)
class AccountResult:
    account_id: str
    stack: str
    ok: bool
    changes: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def run_stack(
    runner: StackRunner,
    spec: Spec,
    account_id: str,
    *,
    preview: bool,
    config: dict[str, str],
) -> AccountResult:
    """One account's stack: its result, ``ok=False`` with the error when it fails. A
    missing Pulumi CLI is not an account failure: :class:`ToolMissingError` is raised."""
    name = stack_name(account_id)
    started = time.monotonic()
    try:
        run = runner.run(name, account_program(spec, account_id), preview=preview, config=config)
    except ToolMissingError:
        raise
    except StackRunError as err:
        return AccountResult(
            account_id, name, False, error=str(err), seconds=time.monotonic() - started
        )
    except Exception as err:  # one account's failure must not end the others
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        return AccountResult(
            account_id, name, False, error=message, seconds=time.monotonic() - started
        )
    return AccountResult(
        account_id, name, True, changes=run.changes, seconds=time.monotonic() - started
    )


@functools.lru_cache(maxsize=4)
def _worker_runner(factory: RunnerFactory, spec_path: str) -> StackRunner:
    """The runner of this worker process, made once (the Pulumi CLI is checked then)."""
    return factory(Path(spec_path))


def stack_task(
    factory: RunnerFactory,
    spec_path: str,
    spec: Spec,
    account_id: str,
    preview: bool,
    config: dict[str, str],
) -> AccountResult:
    """:func:`run_stack` as a task on a cluster: the worker makes its own runner with
    ``factory`` (its Pulumi CLI, its credentials, ``spec_path``'s project on its disk)."""
    runner = _worker_runner(factory, spec_path)
    return run_stack(runner, spec, account_id, preview=preview, config=config)


def apply_baselines(
    spec: Spec,
    account_ids: Sequence[str],
    runner: StackRunner | None,
    *,
    preview: bool,
    concurrency: int | None,
    config: dict[str, str] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[AccountResult], None] | None = None,
    scheduler: str | None = None,
    runner_factory: RunnerFactory | None = None,
    spec_path: Path | None = None,
) -> list[AccountResult]:
    """Run each account's stack, at most ``concurrency`` at once; results in input order.

    A failing account is recorded (``ok=False`` with its error) and the others go on. A
    missing Pulumi CLI is not an account failure: it stops the run.

    With ``scheduler`` (``core.cluster``) each stack is a task on a Dask cluster, run by
    a runner each worker makes with ``runner_factory`` from ``spec_path``; ``concurrency``
    then bounds the stacks at once across the cluster (None: the workers' threads do).
    On a ``local:N`` cluster ``concurrency`` defaults to what this machine's memory holds,
    as for a local pool. ``on_start`` is called as a stack is handed to the cluster. A
    stack whose workers all died is recorded as failed, with that reason.
    """
    if concurrency is not None and concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    stack_config_ = config if config is not None else {"aws:region": spec.regions[0]}
    if scheduler is not None:
        if runner_factory is None or spec_path is None:
            raise ValueError("a cluster run needs runner_factory and spec_path")
        return _apply_on_cluster(
            spec,
            account_ids,
            preview=preview,
            concurrency=concurrency,
            config=stack_config_,
            on_start=on_start,
            on_done=on_done,
            scheduler=scheduler,
            factory=runner_factory,
            spec_path=spec_path,
        )
    if runner is None or concurrency is None:
        raise ValueError("a local run needs a runner and a concurrency")
    stop = threading.Event()

    def one(account_id: str) -> AccountResult:
        if stop.is_set():
            return AccountResult(
                account_id,
                stack_name(account_id),
                False,
                error="not run: the run was stopped",
            )
        if on_start is not None:
            on_start(account_id)
        try:
            return run_stack(runner, spec, account_id, preview=preview, config=stack_config_)
        except ToolMissingError:
            stop.set()
            raise

    results: dict[str, AccountResult] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ivs-stack") as pool:
        futures = {pool.submit(one, account_id): account_id for account_id in account_ids}
        for future in as_completed(futures):
            result = future.result()  # ToolMissingError propagates
            results[result.account_id] = result
            if on_done is not None:
                on_done(result)
    return [results[account_id] for account_id in account_ids]


#: The key under which ``--concurrency`` bounds the stacks of a cluster run.
_STACKS = "stacks"


def _apply_on_cluster(
    spec: Spec,
    account_ids: Sequence[str],
    *,
    preview: bool,
    concurrency: int | None,
    config: dict[str, str],
    on_start: Callable[[str], None] | None,
    on_done: Callable[[AccountResult], None] | None,
    scheduler: str,
    factory: RunnerFactory,
    spec_path: Path,
) -> list[AccountResult]:
    results: dict[str, AccountResult] = {}
    if scheduler.startswith(LOCAL):
        # one machine's memory holds the stacks of a local cluster, as of a local pool
        bound = concurrency or default_concurrency()
        threads = -(-bound // int(scheduler[len(LOCAL) :]))
    else:
        # a remote cluster: its workers' threads bound the stacks, unless --concurrency
        bound = concurrency or max(1, len(account_ids))
        threads = 1  # not used: remote workers have their own
    with task_pool(scheduler, threads, "ivs-stack") as pool:
        shared = pool.share(spec)
        throttle = Throttle(pool.executor, bound)
        path = str(spec_path.resolve())
        for account_id in account_ids:
            if on_start is not None:
                on_start(account_id)
            throttle.submit(
                _STACKS, account_id, stack_task, factory, path, shared, account_id, preview, config
            )
        try:
            for account_id, future in throttle.finished():
                try:
                    result = future.result()  # ToolMissingError propagates
                except Exception as err:
                    if not worker_lost(err):
                        raise
                    reason = f"{type(err).__name__}: {err}".splitlines()[0]
                    result = AccountResult(account_id, stack_name(account_id), False, error=reason)
                results[account_id] = result
                if on_done is not None:
                    on_done(result)
        except BaseException:
            throttle.cancel()
            raise
    return [results[account_id] for account_id in account_ids]


def select_accounts(spec: Spec, account_ids: Iterable[str], all_accounts: bool) -> list[str]:
    """The accounts to run: every spec account with ``--all``, else the ids given (checked)."""
    if all_accounts:
        return [account.id for account, _ in spec.accounts()]
    chosen: list[str] = []
    known = {account.id for account, _ in spec.accounts()}
    for account_id in account_ids:
        if account_id not in known:
            reason = (
                "is the management account; it has no account stack"
                if account_id == spec.organization.management_account_id
                else "is not a member account in the spec (add it to an OU, or use `ivs vend`)"
            )
            raise InputError("--account-id", f"{account_id} {reason}")
        if account_id not in chosen:
            chosen.append(account_id)
    return chosen


def describe_changes(changes: dict[str, int]) -> str:
    if not changes:
        return "no changes"
    return ", ".join(f"{count} {op}" for op, count in sorted(changes.items()))


def automation_runner(spec_path: Path) -> StackRunner:
    """The real runner, in the Pulumi project that holds the spec file (if any)."""
    from governance.automation import AutomationRunner, project_dir_of

    return AutomationRunner(project_dir_of(spec_path))


def config_for(spec: Spec, spec_path: Path) -> dict[str, str]:
    from governance.automation import project_dir_of
    from governance.program import stack_config_dir
    from governance.specedit import spec_source

    project = project_dir_of(spec_path)
    config_dir = stack_config_dir(project) if project is not None else None
    return stack_config(spec, spec_source(spec_path) if config_dir else None, config_dir)
