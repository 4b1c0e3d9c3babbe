"""Leakage: near-copies are removed, and whole role families (not titles) sit on one side of the split."""

import random

import pandas as pd
import pytest

from pipeline import config
from pipeline.dataset import build_dataset, group_split, near_duplicate_key


def test_the_split_keeps_every_family_on_one_side(catalogue):
    from pipeline.generate import generate_postings

    frame = generate_postings(catalogue, 1200, seed=13)
    assert (frame.groupby("family")["title"].nunique() > 1).any()  # families hold several titles
    train, test = group_split(frame, 0.2, seed=13)
    assert set(train["family"]).isdisjoint(test["family"])


def test_planted_near_duplicates_come_out_once(catalogue):
    text = "Key supplier invoices into the ledger and chase missing purchase orders with the buying team."
    variants = [text, text.upper(), text.replace(" ", "  "), text.replace(".", "!"), text + " 2026"]
    users = pd.DataFrame(
        {
            "id": [f"u{i}" for i in range(len(variants))],
            "text": variants,
            "label": config.BPO,
            "group": [f"g{i}" for i in range(len(variants))],  # different groups: only deduplication can catch them
            "area": "billing_accounts",
        }
    )
    for column in config.DATASET_COLUMNS:
        if column not in users:
            users[column] = ""
    splits = build_dataset(catalogue, config.PrepareParams(seed=2, n_postings=300), users[list(config.DATASET_COLUMNS)])
    combined = pd.concat([splits["train"], splits["test"]])
    keys = combined["text"].map(near_duplicate_key)
    assert (keys == near_duplicate_key(text)).sum() == 1
    assert keys.is_unique


@pytest.mark.parametrize("evaluation_set", ["field", "challenge"])
def test_no_posting_the_shipped_model_learns_from_copies_a_field_posting(catalogue, evaluation_set):
    """The shipped model learns from the training and test splits: a user's copy of a field or challenge posting
    must leave both, wherever the split puts its group (the challenge set could be left out of either check
    unseen: the files on disk, which older code wrote, were all that tested it)."""
    # Words, not numbers, tell the postings apart: the near-duplicate key ignores digits.
    words = (
        "amber azure beige black blue brown coral cream cyan denim ebony gold green grey indigo ivory jade khaki "
        "lemon lilac lime maroon navy olive peach pink plum red rose ruby"
    )
    field = pd.DataFrame(
        {"id": [f"f{i}" for i in range(30)], "label": config.BPO,
         "text": [f"Answer customer emails about order {word} and log each one." for word in words.split(" ")]}
    )  # fmt: skip
    users = pd.DataFrame(
        {"id": [f"u{i}" for i in range(30)], "text": field["text"].str.upper(), "label": config.BPO,
         "group": [f"g{i}" for i in range(30)], "area": "billing_accounts"}
    )  # fmt: skip
    for column in config.DATASET_COLUMNS:
        if column not in users:
            users[column] = ""
    sets = {"field_set": field} if evaluation_set == "field" else {"challenge_set": field}
    splits = build_dataset(catalogue, config.PrepareParams(seed=2, n_postings=300), users[list(config.DATASET_COLUMNS)],
                           **sets)  # fmt: skip
    assert len(splits[evaluation_set]) == 30
    learnt = pd.concat([splits["train"], splits["test"]])["text"].map(near_duplicate_key)
    assert not set(learnt) & set(field["text"].map(near_duplicate_key))


def _users(rows: list[tuple], groups: list[str] | None = None) -> pd.DataFrame:
    """Users' postings (id, text, label) as prepare reads them: in the `groups` given (blank: none), else each a
    group of its own."""
    from pipeline.dataset import filled_groups

    frame = pd.DataFrame(rows, columns=["id", "text", "label"]).assign(area="", source=config.SOURCE_USER)
    frame["group"] = groups if groups is not None else ""
    frame["group"] = filled_groups(frame, config.USER_GROUP_PREFIX)
    for column in config.DATASET_COLUMNS:
        if column not in frame:
            frame[column] = ""
    return frame[list(config.DATASET_COLUMNS)]


def test_edited_copies_of_a_users_posting_sit_on_one_side_and_copies_of_a_field_posting_on_none(catalogue):
    """The near-duplicate key catches copies that differ in case, punctuation, digits or spacing only: a copy with
    a word edited went to the other side of the split from its twin, and a field posting with "Apply today."
    appended was learnt from. Postings that share a paragraph and differ in their duties stay apart."""
    colours = "amber azure beige coral cream denim ebony ivory jade khaki lemon lilac maroon olive peach plum ruby"
    words = [*colours.split(), "sage", "teal", "umber"]
    boilerplate = "We are a growing regional employer with flexible hours, a pension and a friendly team."
    pool = [*words, "invoice", "ledger", "supplier", "statement", "payroll", "roster", "claim", "refund", "order"]
    rows, twins = [], []
    for i, word in enumerate(words):
        label = config.BPO if i % 2 else config.KPO
        text = (f"Handle the {word} account queue: answer customer emails, update the {word} tracker, log "
                f"each request and escalate {word} complaints to the shift supervisor before the cut-off.")  # fmt: skip
        rows += [(f"u{i}", text, label), (f"v{i}", text.replace("answer customer", "answer client"), label)]
        twins.append((f"u{i}", f"v{i}"))
        # Same paragraph, duties of their own as long as it: no copy of another posting.
        duties = " ".join(random.Random(i).sample(pool, 16))
        rows.append((f"w{i}", f"{boilerplate} {duties}.", label))
    posting = (
        "Answer customer calls about broken deliveries, book engineer visits and log every call in the "
        "ticketing system so that nothing is lost between shifts."
    )
    field = pd.DataFrame({"id": ["f1"], "label": [config.BPO], "text": [posting]})
    rows.append(("copy", field["text"][0] + " Apply today.", config.BPO))
    splits = build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), _users(rows), field)
    side = {posting: name for name in ("train", "test") for posting in splits[name]["id"]}
    assert all(side[a] == side[b] for a, b in twins), [(a, b) for a, b in twins if side[a] != side[b]]
    assert any(side[posting].startswith("test") for posting in side if posting[0] in "uvw")  # users were dealt
    assert "copy" not in side
    groups = pd.concat([splits["train"], splits["test"]]).set_index("id")["group"]
    assert groups[[f"w{i}" for i in range(len(words))]].nunique() == len(words)


def test_near_copies_of_another_label_or_in_a_group_given_keep_their_groups(catalogue):
    """A long company paragraph over a few lines of duties made every posting of one employer a near copy of every
    other, BPO and KPO alike, and one group kept them all out of the test split; a posting in a generated family's
    group that an ungrouped copy reached was renamed into another family, and moved to the other side."""
    from pipeline.generate import generate_postings

    boilerplate = (
        "Acme Group is a family-owned business founded in a small market town, now with offices in four countries, "
        "a staff pension, a cycle scheme, a quiet room and a volunteering day each year; "
    )
    duties = {config.BPO: "answer customer calls and log each case", config.KPO: "build credit risk models"}
    teams = ["amber", "azure", "coral", "denim", "ebony", "ivory", "jade", "khaki", "lemon", "olive"]
    rows = [(f"{label}-{team}", f"{boilerplate}{duties[label]} for the {team} team.", label)
            for label in duties for team in teams]  # fmt: skip
    splits = build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), _users(rows))
    mine = pd.concat([splits["train"], splits["test"]]).query("source == @config.SOURCE_USER")
    assert len(mine) == 20
    # Each label's copies share a group, and the two labels' groups are two.
    assert mine.groupby("label")["group"].nunique().to_dict() == {config.BPO: 1, config.KPO: 1}
    assert mine["group"].nunique() == 2
    # Groups the user gave are kept, even between copies; an ungrouped copy joins a given group, not the reverse.
    families = sorted(set(generate_postings(catalogue, 300, seed=3)["group"]))
    text = "Answer customer emails about late parcels, refund the fee and log every case in the ticketing system."
    given = _users([("h1", text, config.BPO), ("h2", "Process supplier invoices and chase approvals.", config.BPO),
                    ("g1", text.replace("late", "lost"), config.BPO), ("u1", text.replace("late", "held"), config.BPO)],
                   groups=[families[-1], families[-1], families[0], ""])  # fmt: skip
    splits = build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), given)
    placed = pd.concat([splits["train"], splits["test"]]).set_index("id")["group"]
    assert placed[["h1", "h2", "g1"]].tolist() == [families[-1], families[-1], families[0]]
    assert placed["u1"] in (families[0], families[-1])
    # A group the user named with the prefix prepare uses is still the user's: "user-zzz" is not broken up.
    named = _users([("p", text, config.BPO), ("q", "Process supplier invoices and chase approvals.", config.BPO),
                    ("r", text.replace("late", "lost"), config.BPO)], groups=["user-zzz", "user-zzz", ""])  # fmt: skip
    splits = build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), named)
    assert (
        pd.concat([splits["train"], splits["test"]]).set_index("id")["group"][["p", "q", "r"]].tolist()
        == ["user-zzz"] * 3
    )


def test_a_near_copy_under_another_label_is_named_and_kept_on_one_side_with_its_copy(catalogue):
    """A posting of a user's with one word edited and the other label was dealt to the test split and its copy to
    training, without a word, and the model fitted without the test split learnt the one it was scored against. Each
    such pair now sits on one side, each label keeping its own group, and prepare names them."""
    duties = ["review supplier invoices against purchase orders and chase missing approvals",
              "answer customer calls about late parcels and log each case in the ticket system",
              "reconcile the bank statements each month and post the journals for the auditors",
              "screen job applicants by phone and book their interviews with the hiring managers",
              "check insurance claims against the policy wording and request missing documents",
              "update supplier records in the ERP and match delivery notes to the orders raised",
              "moderate posts on the forum against the house rules and escalate the abusive ones",
              "build weekly sales reports in Excel and send them to the regional sales managers"]  # fmt: skip
    rows = []
    for n, duty in enumerate(duties):
        text = f"{duty.capitalize()}, working to the service levels agreed with the client team."
        rows += [(f"p{n}", text, config.BPO), (f"p{n}x", text.replace("working", "held"), config.KPO)]
    users = _users(rows)
    splits = build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), users)
    side = {posting: name for name in ("train", "test") for posting in splits[name]["id"]}
    assert [side[f"p{n}"] for n in range(len(duties))] == [side[f"p{n}x"] for n in range(len(duties))]
    groups = pd.concat([splits["train"], splits["test"]]).set_index("id")["group"]
    assert all(groups[f"p{n}"] != groups[f"p{n}x"] for n in range(len(duties)))  # each label keeps its own group
    # Groups the user gave, one a posting: the pairs were dealt apart, one to each side.
    given = _users(rows, groups=[f"given-{posting}" for posting, _, _ in rows])
    splits = build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), given)
    side = {posting: name for name in ("train", "test") for posting in splits[name]["id"]}
    assert [side[f"p{n}"] for n in range(len(duties))] == [side[f"p{n}x"] for n in range(len(duties))]
    from pipeline.dataset import near_copies_of_another_label

    assert near_copies_of_another_label(users.iloc[:3], "mine") == (
        "Warning: 2 of your postings in mine are near copies of one of yours with another label (pairs of "
        "consecutive words overlapping by 0.6 or more): p0 (BPO) and p0x (KPO). Each set is kept on one side of "
        "the split; one text keeps one label, so correct the label that is wrong (postings that share a long "
        "paragraph count as copies too)"
    )
    assert near_copies_of_another_label(users.iloc[[0, 2, 4]], "mine") == ""


def test_prepare_says_why_none_of_the_users_postings_reached_the_test_split():
    """Forty postings of two templates, a city apart, form two groups, one per label, and each label keeps its
    only group in training: prepare said "40 in train, 0 in test" without why."""
    from pipeline.dataset import format_user_postings

    line = format_user_postings({"read": 40, "train": 40, "test": 0, "left_out": [], "groups": 2}, "mine")
    assert line == ("your postings in mine: 40 read; 40 in train, 0 in test; none in test, as they form 2 groups (near "
                    "copies, or a group you gave, share one) and each label keeps a group in training")  # fmt: skip
    assert "none in test" not in format_user_postings({"read": 9, "train": 6, "test": 3, "left_out": [], "groups": 9},
                                                      "mine")  # fmt: skip
