"""Does today's audit log extend the checkpoints an office kept? Pure: no Flask, no database.

With a hash chain, a checkpoint of size N that the log no longer matches says only that some
event among the first N changed (or was removed, or one was inserted). Several checkpoints
narrow it: if the log still matches the kept checkpoint of size P and not the next one, of size
N, the change lies in events P+1..N, and event P+1 is the first that does not extend what the
office kept. It is exactly the changed event only when the office kept checkpoints of sizes P
and P+1 (a checkpoint after every event); otherwise it is the start of the narrowest range the
kept copies allow, and the report says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry.checkpoints.note import Checkpoint


@dataclass(frozen=True)
class Kept:
    """A checkpoint an office kept, and where it was found (file, note number)."""

    source: str
    checkpoint: Checkpoint

    @property
    def size(self) -> int:
        return self.checkpoint.size


@dataclass(frozen=True)
class Extension:
    events: int  # events in today's log
    checkpoints: int  # distinct sizes checked
    extended_up_to: int  # the largest kept size below the first failure that the log matches
    first_bad: int | None = None  # the first event that does not extend the kept checkpoints
    bad_until: int | None = None  # the narrowest range is first_bad..bad_until
    bad_source: str | None = None  # the kept checkpoint of size bad_until
    conflict: str | None = None  # two kept checkpoints of one size disagree: a signed fork

    @property
    def ok(self) -> bool:
        return self.first_bad is None and self.conflict is None

    @property
    def exact(self) -> bool:
        """The office kept checkpoints on both sides of one event: that event changed."""
        return self.first_bad is not None and self.first_bad == self.bad_until


def judge(events: int, heads: Mapping[int, str], kept: Sequence[Kept]) -> Extension:
    """``heads``: the recomputed chain head after each kept size (sizes past the log's end
    absent)."""
    by_size: dict[int, Kept] = {}
    conflict = None
    for item in sorted(kept, key=lambda k: k.size):
        first = by_size.setdefault(item.size, item)
        if first.checkpoint.hash != item.checkpoint.hash and conflict is None:
            conflict = (f"the checkpoints of size {item.size} in {first.source} and "
                        f"{item.source} differ: the audit key signed two histories")
    matches = {size for size, item in by_size.items()
               if size <= events and heads.get(size) == item.checkpoint.hash_hex}
    failing = sorted(set(by_size) - matches)
    if not failing:
        return Extension(events, len(by_size), max(matches, default=0), conflict=conflict)
    bad = failing[0]
    below = max((size for size in matches if size < bad), default=0)
    return Extension(events, len(by_size), below, first_bad=below + 1, bad_until=bad,
                     bad_source=by_size[bad].source, conflict=conflict)
