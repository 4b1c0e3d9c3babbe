"""The postings written by other hands: their files, where prepare puts them, and the checks it makes on them."""

import json
import random

import pandas as pd
import pytest

from pipeline import config
from pipeline.dataset import build_dataset, labelled_files, load_user_postings, read_split
from pipeline.errors import DataError

FORMS = {"careers_page", "agency_ad", "occupation_profile", "outsourcing_ad", "feed", "full_ad", "internal_notice"}


@pytest.fixture(scope="module")
def written():
    return load_user_postings(config.WRITTEN_DIR, config.SOURCE_WRITTEN)


def test_each_hand_wrote_both_labels_alike_in_every_form():
    """A hand whose BPO postings came in one form and its KPO ones in another would teach the form as the label."""
    paths = labelled_files(config.WRITTEN_DIR)
    # Each hand's postings per in-scope label and the least of them near the line: three batches of 100 postings a
    # hand (40 BPO, 40 KPO, 20 out of scope, 15 borderline), then two of 60 (24, 24, 12, 12).
    hands = {letter: (40, 15) for letter in "abcdefghijklmnopqrstuvwx"}
    hands |= {f"{batch}{letter}": (24, 12) for batch in "yz" for letter in "abcdefgh"}
    assert [path.name for path in paths] == [f"hand_{hand}.jsonl" for hand in hands]
    for path in paths:
        rows = pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
        hand = path.stem.removeprefix("hand_")
        assert rows["id"].str.startswith(f"h{hand}-").all() and rows["id"].is_unique, path.name
        assert rows["group"].str.startswith(f"h{hand}-").all(), path.name
        in_scope, least = hands[hand]
        assert rows["label"].value_counts().to_dict() == {config.BPO: in_scope, config.KPO: in_scope,
                                                          config.NEITHER: in_scope // 2}  # fmt: skip
        assert set(rows["form"]) == FORMS, path.name
        forms = pd.crosstab(rows["form"], rows["label"])
        assert (forms[[config.BPO, config.KPO]].sub(forms[config.BPO], axis=0).abs() <= 1).all().all(), path.name
        near_the_line = rows[rows["borderline"]].groupby("label").size()
        assert near_the_line[config.BPO] >= least and near_the_line[config.KPO] >= least, path.name


def test_candidate_postings_judged_and_not_adopted_are_never_trained_on():
    """data/raw/candidates holds batches a rule turned down: a reader that took every JSONL file under data/raw, or a
    candidate file left in data/raw/written, would put them in training."""
    ids = {json.loads(line)["id"] for path in sorted(config.CANDIDATES_DIR.rglob("*.jsonl"))
           for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}  # fmt: skip
    assert len(ids) == 480
    placed = set(read_split(config.TRAIN_PATH)["id"]) | set(read_split(config.TEST_PATH)["id"])
    assert not ids & placed
    assert not ids & set(load_user_postings(config.WRITTEN_DIR, config.SOURCE_WRITTEN)["id"])


def test_every_written_posting_is_trained_on_or_tested_and_no_group_straddles_the_split(written):
    """prepare leaves out a posting that is a near copy of an evaluation posting: none of these may be one, and a
    role family of a hand sits on one side of the split, as the generator's families do."""
    train, test = (read_split(path) for path in (config.TRAIN_PATH, config.TEST_PATH))
    placed = {name: frame[frame[config.SOURCE_COLUMN] == config.SOURCE_WRITTEN] for name, frame in
              (("train", train), ("test", test))}  # fmt: skip
    assert sorted([*placed["train"]["id"], *placed["test"]["id"]]) == sorted(written["id"])
    assert len(placed["test"]) and len(placed["train"])
    assert set(placed["train"]["group"]).isdisjoint(placed["test"]["group"])


def _posting(posting_id: str, text: str, label: str, source: str) -> dict:
    return {column: "" for column in config.DATASET_COLUMNS} | {
        "id": posting_id, "text": text, "label": label, "group": posting_id, "source": source, "borderline": False,
    }  # fmt: skip


def _build(catalogue, written_rows, user_rows):
    frame = lambda rows: pd.DataFrame(rows, columns=list(config.DATASET_COLUMNS))  # noqa: E731
    return build_dataset(catalogue, config.PrepareParams(seed=3, n_postings=300), frame(user_rows),
                         written_postings=frame(written_rows))  # fmt: skip


def test_a_users_posting_may_not_take_a_written_postings_id_or_give_its_text_another_label(catalogue):
    """Deduplication keeps one of two copies and its label without a word; an id names one posting."""
    text = "Answer customer calls about broken deliveries, book engineer visits and log each call in the tracker."
    written = [_posting("ha-001", text, config.BPO, config.SOURCE_WRITTEN)]
    with pytest.raises(DataError, match=r"users' postings use ids of the project's written postings: ha-001"):
        _build(catalogue, written, [_posting("ha-001", "Another text of the user's own", "KPO", config.SOURCE_USER)])
    with pytest.raises(DataError, match=r"1 of your postings is a near copy .*: mine \(KPO\) copies ha-001 \(BPO\)"):
        _build(catalogue, written, [_posting("mine", text.upper(), config.KPO, config.SOURCE_USER)])
    same_label = _build(catalogue, written, [_posting("mine", text.upper(), config.BPO, config.SOURCE_USER)])
    kept = pd.concat([same_label["train"], same_label["test"]])
    assert (kept[config.TEXT_COLUMN].str.lower() == text.lower()).sum() == 1


def test_written_postings_are_dealt_by_their_groups_and_move_no_generated_posting(catalogue):
    import random

    words = [
        "amber",
        "azure",
        "beige",
        "coral",
        "cream",
        "denim",
        "ebony",
        "ivory",
        "jade",
        "khaki",
        "lemon",
        "lilac",
        "maroon",
        "olive",
        "peach",
        "plum",
    ]
    # Texts of their own (near copies of one another across labels would be tied to one side of the split).
    rows = [
        _posting(f"hz-{i:03d}", " ".join(random.Random(i).sample(words, 12)),
                 config.BPO if i % 2 else config.KPO, config.SOURCE_WRITTEN) | {"group": f"hz-family-{i % 6}"}
        for i in range(24)
    ]  # fmt: skip
    alone = _build(catalogue, [], [])
    both = _build(catalogue, rows, [])
    for name in ("train", "test"):
        generated = both[name][both[name][config.SOURCE_COLUMN] == config.SOURCE_SYNTHETIC]
        assert generated["id"].tolist() == alone[name]["id"].tolist()
    sides = {name: set(both[name].loc[both[name]["id"].str.startswith("hz-"), "group"]) for name in ("train", "test")}
    assert sides["train"] and sides["test"] and sides["train"].isdisjoint(sides["test"])


def test_a_users_postings_go_where_they_would_without_the_written_postings(catalogue):
    """Dealt in one pool with the written postings, a user's groups reached the test split or not by where their
    hashes fell among the written ones, so prepare's "none in test, as they form N groups" gave a wrong reason."""
    words = ["amber", "azure", "beige", "coral", "cream", "denim", "ebony", "ivory", "jade", "khaki", "lemon", "lilac"]

    def postings(prefix: str, source: str, families: int) -> list[dict]:
        return [
            _posting(f"{prefix}-{i:03d}", f"{prefix} " + " ".join(random.Random(f"{prefix}{i}").sample(words, 10)),
                     config.BPO if i % 2 else config.KPO, source) | {"group": f"{prefix}-family-{i % families}"}
            for i in range(4 * families)
        ]  # fmt: skip

    users = postings("mine", config.SOURCE_USER, 10)
    alone, beside = _build(catalogue, [], users), _build(catalogue, postings("hz", config.SOURCE_WRITTEN, 40), users)
    for name in ("train", "test"):
        assert sorted(beside[name].loc[beside[name]["id"].str.startswith("mine-"), "id"]) == sorted(
            alone[name].loc[alone[name]["id"].str.startswith("mine-"), "id"]
        ), name


def test_a_users_edited_copy_of_a_written_posting_under_the_other_label_is_named_and_kept_on_its_side(catalogue):
    """An edit of a written posting (a city and an employer changed) labelled the other way went in without a word,
    and both were trained on with opposite labels."""
    from pipeline.dataset import near_copies_of_another_label

    text = ("Answer customer calls about broken deliveries, book engineer visits, log each call in the tracker and "
            "escalate complaints to the team leader before the end of the shift in our Leeds office.")  # fmt: skip
    written = [_posting("ha-001", text, config.BPO, config.SOURCE_WRITTEN)]
    users = [_posting("mine", text.replace("Leeds", "Derby"), config.KPO, config.SOURCE_USER) | {"group": "my-own"}]
    frame = lambda rows: pd.DataFrame(rows, columns=list(config.DATASET_COLUMNS))  # noqa: E731
    warning = near_copies_of_another_label(frame(users), "mine", frame(written))
    assert "1 of your postings in mine are near copies of one of yours or of the project's written postings" in warning
    assert "mine (KPO) and ha-001 (BPO)" in warning
    assert near_copies_of_another_label(frame(users), "mine") == ""
    splits = _build(catalogue, written, users)
    side = {posting: name for name in ("train", "test") for posting in splits[name]["id"]}
    assert side["mine"] == side["ha-001"]
