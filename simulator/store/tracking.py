"""Change tracking for the Redis store: every change to the state, as it happens.

The domain changes state in two ways: through the store's containers
(``store.users[code] = user``, ``store.house_net[id] += x``,
``store.transactions[id].append(tx)``) and by assigning a field of a record the
store holds (``user.balance = ...``, ``round_.status = ...``), including the
lists and dicts inside one (``round_.trans_ids.append(...)``).  A replicated
store must see both without the domain knowing it is replicated, so:

- the containers of a :class:`~simulator.store.redis_store.RedisStore` are the
  tracked subclasses below, which report each mutation as an *op*;
- a record the store holds is *attached*: it carries its address
  (``_scorpio_loc``), its list and dict fields are swapped for owned
  subclasses that report to the record, and the model classes get a
  ``__setattr__`` that reports an assignment to an attached record.  Records
  that are not attached (a record being built, any record of the in-memory
  store) pay one dict lookup per assignment and report nothing.

Reports go to the :class:`ChangeSet` of the current thread's unit of work
(``RedisStore.locked``); the store turns it into one atomic Redis write.  An
attached record changed outside any unit of work is reported to the store's
``stray`` hook, which commits it at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

LOC = "_scorpio_loc"
OWNER = "_scorpio_owner"

_local = threading.local()


class ChangeSet:
    """What one unit of work changed: container ops in order, and the records assigned to."""

    __slots__ = ("ops", "records")

    def __init__(self) -> None:
        #: ``(kind, key, op, args)`` in the order they happened.
        self.ops: list[tuple] = []
        #: id(record) -> record, for records whose fields were assigned.
        self.records: dict[int, Any] = {}

    def __bool__(self) -> bool:
        return bool(self.ops or self.records)


def current() -> ChangeSet | None:
    return getattr(_local, "changes", None)


def begin() -> ChangeSet:
    changes = ChangeSet()
    _local.changes = changes
    return changes


def end() -> None:
    _local.changes = None


def restore(changes: ChangeSet | None) -> None:
    _local.changes = changes


#: Called with ``(kind, key, op, args)`` or ``(record,)`` for a change made outside a unit of work.
StrayHook = Callable[..., None]


class _Sink:
    """Where a tracked container sends its ops: the unit of work, else the store's stray hook."""

    __slots__ = ("kind", "key", "stray", "enabled")

    def __init__(self, kind: str, key: Any, stray: StrayHook) -> None:
        self.kind = kind
        self.key = key
        self.stray = stray
        self.enabled = True

    def emit(self, op: str, *args: Any) -> None:
        if not self.enabled:
            return
        changes = current()
        if changes is not None:
            changes.ops.append((self.kind, self.key, op, args))
        else:
            self.stray(self.kind, self.key, op, args)


class TrackedDict(dict):
    """A dict of the store that reports ``set``/``del``/``clear`` (reads stay plain dict reads)."""

    __slots__ = ("sink",)

    def __init__(self, sink: _Sink, *args: Any) -> None:
        super().__init__(*args)
        self.sink = sink

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.sink.emit("set", key, value)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.sink.emit("del", key)

    def pop(self, key: Any, *default: Any) -> Any:
        present = key in self
        value = super().pop(key, *default)
        if present:
            self.sink.emit("del", key)
        return value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return super().__getitem__(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        super().clear()
        self.sink.emit("clear")

    def popitem(self) -> tuple:
        raise TypeError("popitem is not supported on a tracked store dict")


class TrackedDeque(deque):
    """A history deque of the store: appends at the end, purges from the front, in-order inserts."""

    def __init__(self, sink: _Sink, items: Iterable = ()) -> None:
        super().__init__(items)
        self.sink = sink

    def append(self, item: Any) -> None:
        super().append(item)
        self.sink.emit("append", item)

    def insert(self, index: int, item: Any) -> None:
        super().insert(index, item)
        self.sink.emit("insert", index, item)

    def popleft(self) -> Any:
        item = super().popleft()
        self.sink.emit("popleft")
        return item

    def clear(self) -> None:
        super().clear()
        self.sink.emit("clear")

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError("only append, insert, popleft and clear are tracked on a store deque")

    appendleft = extend = extendleft = pop = remove = rotate = __delitem__ = __setitem__ = _refuse


class TrackedList(list):
    """A history list of the store (point movements): appends only."""

    def __init__(self, sink: _Sink, items: Iterable = ()) -> None:
        super().__init__(items)
        self.sink = sink

    def append(self, item: Any) -> None:
        super().append(item)
        self.sink.emit("append", item)

    def insert(self, index: SupportsIndex, item: Any) -> None:
        super().insert(index, item)
        self.sink.emit("insert", index, item)

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError("only append and insert are tracked on a store list")

    extend = pop = remove = clear = sort = reverse = __delitem__ = __setitem__ = __iadd__ = _refuse


# -- records ------------------------------------------------------------------------------
def _owner_changed(owner: Any) -> None:
    """A field (or a list/dict inside one) of an attached record changed."""
    loc = owner.__dict__.get(LOC)
    if loc is None:
        return
    changes = current()
    if changes is not None:
        changes.records[id(owner)] = owner
    else:
        loc[0](owner)


class OwnedList(list):
    """A list field of an attached record: any change reports the record."""

    __slots__ = ("owner",)

    def __init__(self, owner: Any, items: Iterable = ()) -> None:
        super().__init__(items)
        self.owner = owner

    def __reduce_ex__(self, protocol: Any) -> Any:  # copies are plain lists
        return (list, (list(self),))


class OwnedDict(dict):
    """A dict field of an attached record: any change reports the record."""

    __slots__ = ("owner",)

    def __init__(self, owner: Any, items: Any = ()) -> None:
        super().__init__(items)
        self.owner = owner

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (dict(self),))


def _reporting(cls: type, names: Iterable[str]) -> None:
    for name in names:
        base = getattr(cls.__mro__[1], name)

        def method(self: Any, *args: Any, __base: Any = base, **kwargs: Any) -> Any:
            result = __base(self, *args, **kwargs)
            _owner_changed(self.owner)
            return result

        method.__name__ = name
        setattr(cls, name, method)


_reporting(
    OwnedList,
    (
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
        "__iadd__",
    ),
)
_reporting(OwnedDict, ("__setitem__", "__delitem__", "pop", "popitem", "setdefault", "update", "clear"))


def _own(owner: Any, value: Any) -> Any:
    """``value`` as the owner's field: lists and dicts report to it, a nested record too."""
    kind = type(value)
    if kind is list:
        return OwnedList(owner, value)
    if kind is dict:
        return OwnedDict(owner, value)
    if kind in _HOOKED and LOC not in value.__dict__:
        object.__setattr__(value, OWNER, owner)
    return value


def _tracked_setattr(self: Any, name: str, value: Any) -> None:
    state = self.__dict__
    if LOC in state:
        value = _own(self, value)
        object.__setattr__(self, name, value)
        _owner_changed(self)
        return
    owner = state.get(OWNER)
    object.__setattr__(self, name, value)
    if owner is not None:
        _owner_changed(owner)


_HOOKED: set[type] = set()


def install_hooks(classes: Iterable[type]) -> None:
    """Give the model classes the reporting ``__setattr__`` (once per process; harmless when
    no record is attached: the in-memory store never attaches one)."""
    for cls in classes:
        if cls not in _HOOKED:
            # Deliberately dynamic: the model classes are patched in place, untyped.
            cls.__setattr__ = _tracked_setattr  # type: ignore[method-assign,assignment]
            cls.__getstate__ = _plain_state  # type: ignore[method-assign,assignment]
            _HOOKED.add(cls)


def attach(record: Any, on_stray: Callable[[Any], None], address: tuple) -> Any:
    """Make ``record`` report its changes: its address, owned list/dict fields, owned nested records."""
    state = record.__dict__
    for name, value in list(state.items()):
        if name not in (LOC, OWNER):
            state[name] = _own(record, value)
    state[LOC] = (on_stray, address)
    return record


def detach(record: Any) -> None:
    record.__dict__.pop(LOC, None)


def address_of(record: Any) -> tuple | None:
    loc = record.__dict__.get(LOC)
    return None if loc is None else loc[1]


def _plain_state(self: Any) -> dict:
    """What ``copy``/``pickle`` copy of a record: its fields, never its store address."""
    return {k: v for k, v in self.__dict__.items() if k not in (LOC, OWNER)}
