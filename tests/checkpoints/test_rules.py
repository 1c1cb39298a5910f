"""The judgement of kept checkpoints against a recomputed chain, exhaustively on small logs."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from registry.checkpoints.note import Checkpoint, NoteError, VerifierKey, split_notes
from registry.checkpoints.rules import Kept, judge


def head(n: int, forged_from: int | None = None) -> str:
    """A stand-in for the chain head after n events; rewritten from event ``forged_from``."""
    tag = "forged" if forged_from is not None and n >= forged_from else "true"
    return hashlib.sha256(f"{tag}-{n}".encode()).hexdigest()


def kept(*sizes: int) -> list[Kept]:
    return [Kept(f"day-{s}", Checkpoint("r/audit", s, bytes.fromhex(head(s)))) for s in sizes]


@pytest.mark.parametrize("changed", range(1, 11))
def test_the_narrowest_range_starts_after_the_last_matching_checkpoint(changed: int) -> None:
    sizes = (0, 3, 4, 8, 10)
    heads = {s: head(s, forged_from=changed) for s in sizes}
    result = judge(10, heads, kept(*sizes))
    below = max(s for s in sizes if s < changed)
    until = min(s for s in sizes if s >= changed)
    assert not result.ok
    assert (result.first_bad, result.bad_until, result.extended_up_to) == (below + 1, until,
                                                                           below)
    assert result.exact == (until == below + 1)  # 4 after 3: event 4 is named exactly


def test_an_untouched_log_extends_every_checkpoint() -> None:
    result = judge(10, {s: head(s) for s in (2, 5)}, kept(2, 5, 5))
    assert result.ok and result.extended_up_to == 5 and result.checkpoints == 2


def test_a_shorter_log_fails_the_checkpoint_past_its_end() -> None:
    result = judge(4, {2: head(2)}, kept(2, 6))
    assert (result.first_bad, result.bad_until) == (3, 6)


def test_two_signed_histories_of_one_size_are_a_conflict() -> None:
    other = Kept("elsewhere", Checkpoint("r/audit", 5, bytes(32)))
    result = judge(10, {5: head(5)}, [*kept(5), other])
    assert not result.ok and result.conflict and "two histories" in result.conflict


def test_a_log_exactly_as_long_as_the_last_checkpoint_extends_it() -> None:
    # The office kept today's checkpoint: its size is the log's length.
    result = judge(5, {2: head(2), 5: head(5)}, kept(2, 5))
    assert result.ok and result.extended_up_to == 5


def test_no_checkpoints_kept_judges_nothing() -> None:
    result = judge(10, {}, [])
    assert result.ok and (result.checkpoints, result.extended_up_to) == (0, 0)


def test_a_change_before_the_only_checkpoint_points_at_the_first_event() -> None:
    result = judge(10, {6: head(6, forged_from=2)}, kept(6))
    assert not result.ok and not result.exact
    assert (result.first_bad, result.bad_until, result.extended_up_to) == (1, 6, 0)
    assert result.bad_source == "day-6"


def test_a_matching_checkpoint_past_the_first_failure_does_not_move_the_range() -> None:
    # The kept copy of size 5 is damaged; those of sizes 3 and 8 still match the log.
    damaged = Kept("damaged", Checkpoint("r/audit", 5, bytes(32)))
    result = judge(10, {s: head(s) for s in (3, 5, 8)}, [*kept(3, 8), damaged])
    assert (result.first_bad, result.bad_until, result.extended_up_to) == (4, 5, 3)
    assert result.bad_source == "damaged" and result.conflict is None


def test_an_exact_event_in_a_long_log() -> None:
    # Sizes past the small integers CPython shares: ``exact`` compares numbers, not objects.
    sizes = (4000, 70_000, 70_001, 90_000)
    heads = {s: head(s, forged_from=70_001) for s in sizes}
    result = judge(90_000, heads, kept(*sizes))
    assert (result.first_bad, result.bad_until) == (70_001, 70_001) and result.exact


def test_a_conflict_is_found_whichever_copy_comes_first() -> None:
    other = Kept("elsewhere", Checkpoint("r/audit", 5, bytes(32)))
    for order in ([*kept(5), other], [other, *kept(5)]):
        result = judge(10, {5: head(5)}, order)
        assert result.conflict and "two histories" in result.conflict


def test_a_judgement_cannot_be_altered() -> None:
    result = judge(10, {2: head(2)}, kept(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.first_bad = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept(2)[0].source = "elsewhere"  # type: ignore[misc]


def test_verifier_keys_and_notes_are_parsed_strictly() -> None:
    good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    assert str(VerifierKey.parse(good)) == good
    for bad in (good.replace("c74f20a3", "c74f20a4"), good[:-2], "a b+c74f20a3+AAAA", ""):
        with pytest.raises(NoteError):
            VerifierKey.parse(bad)
    with pytest.raises(NoteError):
        Checkpoint.parse("origin\n007\nAAAA\n")
    assert split_notes("\n\na\n\n\u2014 k AAAAAAA=\n\nb\n\n\u2014 k BBBBBBB=\n") == [
        "a\n\n\u2014 k AAAAAAA=\n", "b\n\n\u2014 k BBBBBBB=\n"]
