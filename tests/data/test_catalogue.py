"""The hand-written catalogue: breadth, coverage of the article's services, and consistent labels."""

import re
from collections import defaultdict

from pipeline import config
from pipeline.catalogue import breadth_counts

# Every service the source article names, by the area ids that carry it.
ARTICLE_SERVICES = {
    "BPO": {
        "customer_support",
        "call_centre_inbound",
        "technical_support",
        "hr_administration",
        "recruitment",
        "advertising",
        "marketing",
        "quality_assurance",
    },
    "KPO": {
        "legal_services",
        "research_development",
        "data_analytics",
        "financial_analysis",
        "management_consulting",
        "medical_specialists",
        "engineering_design_analysis",
    },
}


def test_breadth_meets_the_targets(catalogue):
    counts = breadth_counts(catalogue)
    assert counts["areas_BPO"] >= 15
    assert counts["areas_KPO"] >= 15
    assert counts["titles"] >= 150
    assert counts["duty_and_requirement_phrases"] >= 600


def test_every_article_service_has_an_area_of_its_class(catalogue):
    for label, areas in ARTICLE_SERVICES.items():
        present = {a.area for a in catalogue.areas if a.label == label}
        assert areas <= present, areas - present


def test_a_title_belongs_to_one_family_only(catalogue):
    owners = defaultdict(set)
    for family in catalogue.families:
        for title in family.titles:
            owners[title.lower()].add(family.family)
    shared = {title: families for title, families in owners.items() if len(families) > 1}
    assert not shared


def test_titles_carry_no_seniority_word_of_the_shared_pool(catalogue):
    from pipeline.generate import SENIORITY_PREFIXES

    for family in catalogue.families:
        for title in family.titles:
            assert title.split()[0] not in SENIORITY_PREFIXES, title


def test_borderline_families_explain_their_label(catalogue):
    borderline = [f for f in catalogue.families if f.borderline]
    assert {f.label for f in borderline} == set(config.CATALOGUE_LABELS)
    assert all(f.policy_note.strip() for f in borderline)


def test_duties_start_with_a_verb_the_generator_can_inflect(catalogue):
    from pipeline.phrasing import starts_with_verb

    duties = [d for a in catalogue.areas for d in a.duties] + [d for f in catalogue.families for d in f.duties]
    share = sum(starts_with_verb(d) for d in duties) / len(duties)
    assert share > 0.97


# Verbs that office work and hands-on work share: a nurse assesses, a chef designs a menu, a shop assistant advises.
WORK_VERBS_OF_EVERY_KIND = ("assess", "monitor", "manage", "review", "report", "plan", "advise", "recommend",
                            "design", "coordinate", "investigate", "develop", "evaluate")  # fmt: skip


def test_out_of_scope_duties_use_the_verbs_office_work_uses(catalogue):
    """No out-of-scope duty said advise, evaluate, review or develop (0 of 1,478), and few design or assess: the
    scope model learnt them as signs of office work, and a florist who designs bouquets or a nurse who assesses
    patients was scored in scope. Each verb now has out-of-scope duties in several areas."""
    areas_using = defaultdict(set)
    for area in catalogue.areas:
        if area.label != config.NEITHER:
            continue
        for duty in [*area.duties, *(d for family in area.families for d in family.duties)]:
            for verb in WORK_VERBS_OF_EVERY_KIND:
                if re.search(rf"\b{verb}", duty):
                    areas_using[verb].add(area.area)
    assert {verb: len(areas_using[verb]) for verb in WORK_VERBS_OF_EVERY_KIND if len(areas_using[verb]) < 3} == {}


# The eight-word runs the catalogue shared with the hand-written sets when this check was added: stock phrases of a
# trade ("assign ICD-10-CM, CPT and HCPCS codes"), written into the catalogue before those sets came in.
RUNS_SHARED_WITH_HAND_WRITTEN_SETS = {
    "2 years of independent on site monitoring experience",
    "a level 2 or 3 teaching assistant qualification",
    "ability to explain statistical concepts to non statisticians",
    "act as the first point of contact for",
    "assign icd 10 cm cpt and hcpcs codes",
    "board certification in family medicine internal medicine or",
    "computer science information security or a related field",
    "ct mri x ray and ultrasound studies remotely",
    "defects and run regression packs before each release",
    "degree in computer science information security or a",
    "draft patent specifications and claims from invention disclosures",
    "evaluate safety signals from case series literature and",
    "in computer science information security or a related",
    "in mathematics physics financial engineering or computer science",
    "log defects in jira with steps to reproduce",
    "make a set number of outbound calls per",
    "report ct mri x ray and ultrasound studies",
    "site qualification initiation monitoring and close out visits",
    "take part in the on call rota for",
    "write monitoring visit reports and follow up letters",
}


def test_the_catalogue_takes_no_sentence_from_the_hand_written_sets(catalogue):
    """The field, challenge and probe sets measure the model on writing the generator never saw: a line of theirs
    copied into the catalogue would teach the model its own test. No eight-word run beyond those listed is shared."""
    import json

    from pipeline.invariance import word_runs

    phrases = [p for a in catalogue.areas for p in a.duties + a.requirements + a.metrics + a.ways_of_working]
    phrases += [p for f in catalogue.families for p in f.duties + f.requirements + f.titles]
    catalogue_runs = set().union(*(word_runs(phrase, 8) for phrase in phrases))
    folders = (config.FIELD_DIR, config.CHALLENGE_DIR, config.PROBES_DIR)
    files = sorted(path for folder in folders for path in folder.glob("*.jsonl"))
    assert {path.parent for path in files} == set(folders)
    postings = [json.loads(line)["text"] for path in files for line in path.read_text().splitlines() if line.strip()]
    shared = set().union(*(word_runs(text, 8) & catalogue_runs for text in postings))
    assert shared - RUNS_SHARED_WITH_HAND_WRITTEN_SETS == set()
