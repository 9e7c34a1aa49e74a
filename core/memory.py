"""Memory habits of the long analyses.

:func:`without_gc` pauses the cyclic garbage collector while an analysis builds millions
of small acyclic objects (reference counting frees them meanwhile).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the analysis builds millions of small acyclic
    objects, and collections triggered by their allocation would rescan them all, again
    and again (it halves the time on 100k ENIs). Memory is reclaimed by reference
    counting meanwhile; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
