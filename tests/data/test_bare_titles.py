"""The bare-title benchmark's titles: each group holds what its name says, so its figures mean what they claim."""

import json

import pytest
from benchmark_scripts import load_benchmark

from pipeline import config


@pytest.fixture(scope="module")
def groups():
    path = load_benchmark("bare_titles").TITLES_PATH
    return json.loads(path.read_text(encoding="utf-8"))["groups"]


def test_in_scope_groups_hold_bpo_and_kpo_titles_and_out_of_scope_groups_only_neither(groups):
    for name, rows in groups.items():
        labels = {row["label"] for row in rows}
        expected = {config.NEITHER} if name.startswith("out_of_scope") else set(config.LABELS)
        assert labels == expected, name


def test_only_the_assistant_groups_use_the_word(groups):
    for name, rows in groups.items():
        with_word = ["assistant" in row["title"].lower().split() for row in rows]
        assert all(with_word) if name.endswith("_assistant") else not any(with_word), name


def test_no_title_is_in_two_places(groups):
    titles = [row["title"].lower() for rows in groups.values() for row in rows]
    assert len(titles) == len(set(titles))
