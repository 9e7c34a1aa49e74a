"""The table of snapshot kinds (core/snapshot_kinds.py): the collector, the reader and the
README each cover every kind it lists, and nothing else."""

from __future__ import annotations

from pathlib import Path

from core.snapshot_kinds import SNAPSHOT_KINDS, SNAPSHOT_KINDS_BY_KEY
from graph import collect, snapshot
from graph.iam import snapshot as iam_snapshot

README = Path(__file__).resolve().parent.parent / "README.md"
KEYS = [kind.key for kind in SNAPSHOT_KINDS]


def test_keys_are_unique() -> None:
    assert len(KEYS) == len(set(KEYS)) == len(SNAPSHOT_KINDS_BY_KEY)


def test_the_collector_fetches_every_kind() -> None:
    assert set(collect.FETCH) == set(KEYS)
    for kind in SNAPSHOT_KINDS:  # every service of the table has its client
        assert collect.client_of(kind), kind.key


def test_a_kind_is_fetched_after_the_kinds_it_needs() -> None:
    for position, key in enumerate(KEYS):
        for need in collect.FETCH[key].needs:
            assert need in KEYS[:position], (key, need)


def test_the_readers_parse_every_kind() -> None:
    # the regional files by the snapshot reader, the IAM and organization ones by graph.iam
    assert set(snapshot.READERS) | set(iam_snapshot.READERS) == set(KEYS)
    assert not set(snapshot.READERS) & set(iam_snapshot.READERS)


def test_readme_names_every_kind() -> None:
    text = README.read_text(encoding="utf-8")
    unnamed = [key for key in KEYS if f"`{key}`" not in text and f"`{key}.json`" not in text]
    assert not unnamed, f"README.md does not name {unnamed}"
