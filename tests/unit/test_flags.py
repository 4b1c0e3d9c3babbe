"""Yes/no fields read one way wherever they come from: "False" in a CSV is False."""

import pandas as pd
import pytest

from pipeline.dataset import load_field_set, load_user_postings, parse_flag, read_split

FLAGS = {"True": True, "true": True, "yes": True, "1": True, "False": False, "false": False, "no": False, "0": False,
         "": False}  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), [*FLAGS.items(), (True, True), (False, False)])
def test_parse_flag(value, expected):
    assert parse_flag(value) is expected


def labelled_csv(folder, name="postings.csv"):
    folder.mkdir()
    rows = [
        {"id": f"f{i}", "text": f"posting {'abcdefghi'[i]}", "label": "BPO" if i % 2 else "KPO", "area": "a",
         "form": "ad", "borderline": value}
        for i, value in enumerate(FLAGS)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / name, index=False)
    return list(FLAGS.values())


def test_the_field_set_reads_false_as_false(tmp_path):
    expected = labelled_csv(tmp_path / "field")
    assert load_field_set(tmp_path / "field")["borderline"].tolist() == expected


def test_users_postings_read_false_as_false(tmp_path):
    expected = labelled_csv(tmp_path / "labelled")
    assert load_user_postings(tmp_path / "labelled")["borderline"].tolist() == expected


def test_a_written_split_reads_back_as_booleans(tmp_path):
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["BPO", "KPO"], "borderline": [False, True]})
    frame.to_csv(tmp_path / "split.csv", index=False)
    assert read_split(tmp_path / "split.csv")["borderline"].tolist() == [False, True]
