"""The object store: records by id, per (owner, kind) lists in creation order; the state lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stripe_local.core import not_found


@dataclass
class Record:
    """One stored object. `owner` is None for the platform or a connected account id."""

    id: str
    kind: str
    owner: str | None
    data: dict[str, Any]
    internal: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "data": self.data,
            "internal": self.internal,
            "deleted": self.deleted,
        }


class Store:
    """Objects by id, plus per (owner, kind) lists in creation order for pagination."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.lists: dict[tuple[str | None, str], list[str]] = {}
        self.positions: dict[str, int] = {}

    def add(self, record: Record) -> Record:
        self.records[record.id] = record
        ids = self.lists.setdefault((record.owner, record.kind), [])
        self.positions[record.id] = len(ids)
        ids.append(record.id)
        return record

    def find(self, object_id: str) -> Record | None:
        return self.records.get(object_id)

    def get(
        self,
        kind: str,
        object_id: Any,
        owner: str | None,
        *,
        param: str = "id",
        label: str | None = None,
        allow_deleted: bool = False,
    ) -> Record:
        record = self.records.get(object_id) if isinstance(object_id, str) else None
        if (
            record is None
            or record.kind != kind
            or record.owner != owner
            or (record.deleted and not allow_deleted)
        ):
            raise not_found(label or kind, str(object_id), param)
        return record

    def iter_newest_first(
        self, owner: str | None, kind: str, before_position: int | None = None
    ) -> Iterator[Record]:
        ids = self.lists.get((owner, kind), [])
        start = len(ids) - 1 if before_position is None else before_position - 1
        for index in range(start, -1, -1):
            record = self.records[ids[index]]
            if not record.deleted:
                yield record

    def iter_oldest_first_after(
        self, owner: str | None, kind: str, after_position: int
    ) -> Iterator[Record]:
        ids = self.lists.get((owner, kind), [])
        for index in range(after_position + 1, len(ids)):
            record = self.records[ids[index]]
            if not record.deleted:
                yield record

    def all_of(self, kind: str) -> Iterator[Record]:
        for (_owner, list_kind), ids in list(self.lists.items()):
            if list_kind == kind:
                for object_id in ids:
                    record = self.records[object_id]
                    if not record.deleted:
                        yield record

    def to_json(self) -> list[dict[str, Any]]:
        ordered = []
        for ids in self.lists.values():
            ordered.extend(self.records[i].to_json() for i in ids)
        return ordered

    def load_json(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.add(Record(**row))


class StateLock:
    """The single lock around the state; a class so tests can assert it is not held."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> StateLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
