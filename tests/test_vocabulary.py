"""Every code a person can read has its words, in each language that reads it (issue 15 §1).

The vocabularies are the ``LABELS`` of each domain's ``vocabulary`` module (found here by
walking the package, so a new one is checked without being listed), the problem codes of
``registry.web.messages`` and the audit tags of ``registry.audit.tags``. Each member needs an
English label and a real Indonesian translation; what the public verification page shows
(``ON_VERIFY_PAGE``) needs Chinese and Japanese too.
Every ``StrEnum`` of the registry is either a vocabulary or listed below as internal, with why,
so a new enum cannot slip past unlabelled.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator, Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from flask_babel.speaklater import LazyString

import registry
from registry.audit import tags as events
from registry.catalog.certification import Display, Status
from registry.web import messages

TRANSLATIONS = Path(registry.__file__).parent / "translations"

# Labels that are the same word in a language, so an untranslated-looking msgstr is right.
SAME_WORD = {
    ("id", "kg"): "the SI symbol",
    ("ja", "kg"): "the SI symbol, as Japanese shops write it",
    ("id", "Administrator"): "the Indonesian word too (KBBI: administrator)",
}

# Enums whose codes no one reads as such: what a person sees of them is said elsewhere.
INTERNAL = {
    "registry.catalog.certification.Status": "shown through Display, which has every Status value",
    "registry.verify.rules.Signal": "turned into sentences on the verification page, or into a "
                                    "verdict; never shown as a code",
    "registry.signing.signer.KeyStatus": "said only by the key commands (operators, English)",
    "registry.signing.verifier.VerifyStatus": "the signature check's outcome, turned into a "
                                              "verdict",
    "registry.mail.kinds.MailState": "a mail's delivery state, read by operators in the "
                                     "database and the log (English)",
    "registry.accounts.second_factor.Method": "how a second step passed (authenticator or "
                                             "recovery code): said by the page's message",
    "registry.files.leases.State": "the states every leased file shares; shown through each "
                                   "kind's own State (jobfiles, exportfiles), which has them all",
    "registry.plots.rules.Issue": "a plot's problem, said with its figures by "
                                  "registry.plots.presenters.issue_message "
                                  "(tests/plots/test_plots.py: every one, in en and id)",
}


def vocabulary_modules() -> list[ModuleType]:
    """Each domain's ``vocabulary`` and the problems of ``registry.web.messages``."""
    found = [messages]
    for info in pkgutil.walk_packages(registry.__path__, "registry."):
        if info.name.endswith(".vocabulary"):
            found.append(importlib.import_module(info.name))
    return found


def vocabularies() -> Iterator[tuple[type[StrEnum], Mapping[str, LazyString], bool]]:
    """(enum, its labels, shown on the verification page) for every vocabulary."""
    for module in vocabulary_modules():
        for enum, labels in module.LABELS.items():
            yield enum, labels, enum in module.ON_VERIFY_PAGE


@cache
def catalogue(lang: str) -> Catalog:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        return read_mo(fh)


def msgid(label: LazyString) -> str:
    return str(label._args[0])


def translation_problem(lang: str, label: LazyString) -> str | None:
    english = msgid(label)
    message = catalogue(lang).get(english)
    if message is None or not message.string:
        return f"no {lang} translation of {english!r}"
    if message.string == english and (lang, english) not in SAME_WORD:
        return f"the {lang} catalogue repeats {english!r} untranslated"
    return None


def test_the_vocabularies_are_found() -> None:
    names = {f"{enum.__module__}.{enum.__qualname__}" for enum, _l, _v in vocabularies()}
    assert {"registry.catalog.certification.Display", "registry.catalog.rules.Unit",
            "registry.accounts.models.Role", "registry.printing.jobfiles.State",
            "registry.verify.rules.Verdict", "registry.audit.tags.EventTag.PrintJob"} <= names


@pytest.mark.parametrize("lang", ["id", "zh", "ja"])
def test_every_member_has_a_label_and_its_translation(lang: str) -> None:
    problems = []
    for enum, labels, on_verify_page in vocabularies():
        if lang != "id" and not on_verify_page:
            continue
        for member in enum:
            label = labels.get(member)
            where = f"{enum.__qualname__}.{member.name} ({member.value!r})"
            if label is None:
                problems.append(f"{where}: no label")
                continue
            problem = translation_problem(lang, label)
            if problem:
                problems.append(f"{where}: {problem}")
    assert problems == []


def test_labels_name_only_members() -> None:
    for module in vocabulary_modules():
        for enum, labels in module.LABELS.items():
            assert set(labels) == set(enum), enum


def test_every_stored_status_has_the_words_of_its_display() -> None:
    assert {s.value for s in Status} <= {d.value for d in Display}


def test_every_enum_is_a_vocabulary_or_said_to_be_internal() -> None:
    labelled = {f"{enum.__module__}.{enum.__qualname__}" for enum, _l, _v in vocabularies()}
    found = set()
    for info in pkgutil.walk_packages(registry.__path__, "registry."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, StrEnum) and value.__module__ == info.name:
                found.add(f"{value.__module__}.{value.__qualname__}")
    found |= {f"{g.__module__}.{g.__qualname__}" for g in events.GROUPS}
    assert found - labelled - set(INTERNAL) == set()
    assert set(INTERNAL) <= found, "an internal enum listed here no longer exists"
