"""Generated postings read as one writer's: verbs agree with their subjects, only agencies speak for a client."""

import re

import pytest

from pipeline import config
from pipeline.dataset import read_split
from pipeline.generate import known_verbs
from pipeline.phrasing import third_person

# The plural subjects the occupation profiles open with.
PLURAL_SUBJECTS = ("Workers in this occupation", "People in this role", "They", "These workers", "Job holders")


@pytest.fixture(scope="module")
def generated():
    return read_split(config.TRAIN_PATH)


def test_plural_subjects_take_the_base_form_of_the_verb(generated, catalogue):
    third_person_forms = {third_person(verb) for verb in known_verbs(catalogue)} - set(known_verbs(catalogue))
    opening = re.compile(rf"\b(?:{'|'.join(PLURAL_SUBJECTS)}) (\w+)")
    slips = [
        match.group(0)
        for text in generated[config.TEXT_COLUMN]
        for match in opening.finditer(text)
        if match.group(1) in third_person_forms
    ]
    # Occupation profiles open with these subjects in about one posting in twelve: the check has rows to read.
    assert sum(bool(opening.search(text)) for text in generated[config.TEXT_COLUMN]) > 100
    assert not slips, slips[:5]


def test_only_agency_ads_speak_for_a_client(generated):
    speaks_for_a_client = generated[config.TEXT_COLUMN].str.contains(
        r"\bour client\b(?!s)|\bon behalf of\b", case=False, regex=True
    )
    assert speaks_for_a_client[generated["form"] == "agency_ad"].any()
    assert set(generated.loc[speaks_for_a_client, "form"]) == {"agency_ad"}
