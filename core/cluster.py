"""Where independent tasks run: a local thread pool, or a Dask distributed cluster.

The collector (account-regions), the audit (member accounts) and ``ivs baseline apply``
(account stacks) hand tasks to the :class:`Pool` that :func:`task_pool` opens:

* no scheduler: a ``ThreadPoolExecutor`` in this process, as it always was;
* ``--scheduler ADDRESS`` (or ``$DASK_SCHEDULER_ADDRESS``): the scheduler of a running
  Dask cluster (``tcp://10.0.0.5:8786``), through ``Client.get_executor()``, a
  ``concurrent.futures`` executor whose tasks run on the cluster's workers;
* ``--scheduler local:N``: a ``distributed.LocalCluster`` of N worker processes started
  for the run, everything listening on 127.0.0.1 only (no dashboard; the scheduler's
  health endpoint on a random loopback port), stopped when the run ends.

A task sent to a cluster is pickled: it carries plain data (account, region, role name,
endpoint URL, output location, options), never credentials. Each worker builds its own
clients from its own credential chain (on AWS, its instance role) and assumes the member
roles itself; :class:`core.aws.Aws` refuses to be pickled.

:class:`Throttle` bounds how many tasks of one key (an account) are submitted at once,
whatever the number of workers: AWS limits API rates per account (and region), so adding
workers must not multiply the request rate on one account.

Dask is an optional extra (``ivs-governance[cluster]``): without it, ``--scheduler`` says
in one line what to install.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from core.errors import InputError, ToolMissingError

#: The environment variable Dask itself reads for a scheduler address.
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
LOCAL = "local:"
#: Worker processes a ``local:N`` cluster may have.
MAX_LOCAL_WORKERS = 64
INSTALL_CLUSTER = "pip install 'ivs-governance[cluster]' (Dask distributed)"
#: Tasks of one account at once, across the whole cluster (``--account-concurrency``).
DEFAULT_ACCOUNT_CONCURRENCY = 4
#: Seconds to wait for a remote scheduler to answer.
CONNECT_TIMEOUT = 30

_ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx)://)?[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$")


def scheduler_address(option: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The scheduler to use: ``option``, else ``$DASK_SCHEDULER_ADDRESS``, else None (a
    local pool). Checked before anything starts:

    >>> scheduler_address("local:2"), scheduler_address(None, {})
    ('local:2', None)
    >>> scheduler_address("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> scheduler_address("local:zero")
    Traceback (most recent call last):
    core.errors.InputError: --scheduler: 'local:zero' is not local:N (N from 1 to 64)
    """
    env = os.environ if environ is None else environ
    value = option if option is not None else env.get(SCHEDULER_ENV) or None
    if value is None:
        return None
    value = value.strip()
    if value.startswith(LOCAL):
        count = value[len(LOCAL) :]
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise InputError(
                "--scheduler",
                f"{value!r} is not local:N (N from 1 to {MAX_LOCAL_WORKERS})",
            )
        return value
    if not _ADDRESS.match(value):
        raise InputError(
            "--scheduler",
            f"{value!r} is not a scheduler address (tcp://HOST:PORT) nor local:N",
        )
    return value


def require_distributed() -> Any:
    """The ``distributed`` module, or one line saying what to install (exit 2)."""
    try:
        import distributed
    except ImportError as err:
        top = (err.name or "distributed").split(".")[0]
        raise ToolMissingError(
            f"--scheduler needs Dask distributed, and {top} is not installed: {INSTALL_CLUSTER}"
        ) from None
    return distributed


@dataclass
class Pool:
    """An executor for tasks, and the Dask client behind it when there is one."""

    executor: Executor
    client: Any = None
    #: where a ``local:N`` cluster runs (None otherwise)
    cluster: Any = None

    @property
    def distributed(self) -> bool:
        return self.client is not None

    def share(self, value: Any) -> Any:
        """``value`` as tasks should receive it: itself locally; on a cluster, sent to
        the workers once (a large spec is not pickled again for every task)."""
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=True, hash=False)

    def worker_pids(self) -> dict[str, int]:
        """The process id of each worker (empty for a local pool)."""
        if self.client is None:
            return {}
        return dict(self.client.run(os.getpid))


def worker_lost(err: BaseException) -> bool:
    """True when ``err`` says the workers running a task died more often than the
    scheduler retries it (Dask's ``KilledWorker``): the task's work was not done."""
    return type(err).__name__ == "KilledWorker"


@contextlib.contextmanager
def task_pool(scheduler: str | None, threads: int, name: str) -> Iterator[Pool]:
    """A :class:`Pool` for one run: ``threads`` threads locally (and per worker process
    of a ``local:N`` cluster), or the cluster at ``scheduler``; closed at the end."""
    if scheduler is None:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name) as executor:
            yield Pool(executor)
        return
    distributed = require_distributed()
    import dask

    cluster = None
    with dask.config.set(_QUIET_CLUSTER):
        if scheduler.startswith(LOCAL):
            cluster = distributed.LocalCluster(
                n_workers=int(scheduler[len(LOCAL) :]),
                threads_per_worker=threads,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                worker_dashboard_address=None,
                # the scheduler always serves its health check: on loopback, any free port
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
            client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
            except OSError as err:
                raise InputError("--scheduler", f"cannot reach {scheduler}: {err}") from None
    try:
        yield Pool(client.get_executor(pure=False), client, cluster)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


#: Dask settings for a run: no HTTP routes but the health check, quiet logs.
_QUIET_CLUSTER = {
    "distributed.scheduler.http.routes": ["distributed.http.health"],
    "distributed.worker.http.routes": ["distributed.http.health"],
    "logging.distributed": "error",
}


class Throttle:
    """Submits tasks to ``executor`` at most ``bound`` at a time for each key, keeping the
    rest queued in order; the next task of a key goes in when one of its tasks finishes.

    With the account id as key, at most ``bound`` tasks of an account run at once across
    the whole cluster, however many workers it has, and the tasks the scheduler holds
    interleave the accounts instead of queueing one account's regions back to back. Key
    None is not bounded. :meth:`finished` yields ``(tag, future)`` as tasks finish; tasks
    may be submitted while it runs (a planned account adds its regions).

    >>> with ThreadPoolExecutor(4) as pool:
    ...     throttle = Throttle(pool, bound=1)
    ...     for n in range(3):
    ...         throttle.submit("111111111111", n, pow, 2, n)
    ...     sorted(future.result() for _, future in throttle.finished())
    [1, 2, 4]
    """

    def __init__(self, executor: Executor, bound: int) -> None:
        if bound < 1:
            raise ValueError("bound must be at least 1")
        self.executor = executor
        self.bound = bound
        self.queued: dict[
            Hashable, deque[tuple[Executor, Any, Callable[..., Any], tuple[Any, ...]]]
        ] = {}
        self.running: Counter[Hashable] = Counter()
        self.submitted: dict[Future[Any], tuple[Hashable, Any]] = {}
        self.done: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

    def submit(self, key: Hashable, tag: Any, fn: Callable[..., Any], *args: Any) -> None:
        self.submit_to(self.executor, key, tag, fn, *args)

    def submit_to(
        self, executor: Executor, key: Hashable, tag: Any, fn: Callable[..., Any], *args: Any
    ) -> None:
        """:meth:`submit` to another executor, under the same bound (work that must run
        in this process counts against its account too)."""
        self.queued.setdefault(key, deque()).append((executor, tag, fn, args))
        self._fill(key)

    def _fill(self, key: Hashable) -> None:
        waiting = self.queued.get(key)
        while waiting and (key is None or self.running[key] < self.bound):
            executor, tag, fn, args = waiting.popleft()
            future = executor.submit(fn, *args)
            self.running[key] += 1
            self.submitted[future] = (key, tag)
            future.add_done_callback(self.done.put)

    @property
    def pending(self) -> int:
        """Tasks submitted and not yet handed out by :meth:`finished`, or still queued."""
        return len(self.submitted) + sum(len(q) for q in self.queued.values())

    def finished(self) -> Iterator[tuple[Any, Future[Any]]]:
        while self.pending:
            future = self.done.get()
            key, tag = self.submitted.pop(future)
            self.running[key] -= 1
            self._fill(key)
            yield tag, future

    def cancel(self) -> None:
        """Drop what is queued and cancel what has not started."""
        self.queued.clear()
        for future in list(self.submitted):
            future.cancel()
