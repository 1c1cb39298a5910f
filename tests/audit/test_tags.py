"""Audit event tags (``registry.audit.tags``): each has its words (``registry.audit.vocabulary``),
in English and in Indonesian, so no one reads a raw ``printjob.order`` in a batch's history
(issue 15 §1)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo

from registry.audit import tags as events
from registry.audit import vocabulary as words

CATALOGUE = Path(__file__).resolve().parents[2] / "registry" / "translations" / "id" / \
    "LC_MESSAGES" / "messages.mo"


def test_every_tag_has_a_label_in_english_and_indonesian() -> None:
    with CATALOGUE.open("rb") as f:
        indonesian = read_mo(f)
    missing = []
    for tag in events.members():
        english = words.EVENT_LABELS.get(tag)
        if english is None or english._args[0] == tag.value:
            missing.append(f"{tag.value}: no English label")
            continue
        message = indonesian.get(english._args[0])
        if message is None or not message.string:
            missing.append(f"{tag.value}: no Indonesian translation of {english._args[0]!r}")
    assert missing == []


def test_tags_are_unique_and_labels_name_only_tags() -> None:
    values = [tag.value for tag in events.members()]
    assert len(values) == len(set(values))
    assert set(words.EVENT_LABELS) == set(values)


def test_a_stored_tag_reads_as_its_label() -> None:
    assert words.label("printjob.order") == "Labels ordered"
    assert words.label("something.old") == "something.old"  # never hidden
