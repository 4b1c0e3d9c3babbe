"""Properties of scoring that hold for any input text (hypothesis)."""

import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import load_model
from pipeline.predict import ScoreOptions, score_chunk
from pipeline.readers import Chunk

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
OPTIONS = ScoreOptions(threshold=0.5, review_band=0.1, explain=3)
# Rows and their order are the property below: explanations, which any string gets above, would only add their
# cost to every one of the many single-posting calls.
PLAIN = ScoreOptions(threshold=0.5, review_band=0.1, explain=0)


@functools.cache
def loaded(folder):
    return load_model(folder / "model.joblib")


@SETTINGS
@given(text=st.text())
def test_any_string_gets_one_row_with_probabilities_that_sum_to_one(small_model_dir, text):
    model = loaded(small_model_dir)
    [row] = score_chunk(model, Chunk(ids=["x"], texts=[text.strip() or None]), OPTIONS)
    assert row["id"] == "x"
    if row["error"]:
        assert row["label"] == "" and not text.strip()
    else:
        assert 0 <= row["p_kpo"] <= 1 and 0 <= row["p_bpo"] <= 1
        assert row["p_bpo"] + row["p_kpo"] == 1
        assert row["label"] == ("KPO" if row["p_kpo"] >= 0.5 else "BPO")


@SETTINGS
@given(texts=st.lists(st.one_of(st.text(max_size=80), st.sampled_from(["", " ", "Answer calls", "Audit accounts"]))))
def test_n_strings_give_n_rows_in_order(small_model_dir, texts):
    model = loaded(small_model_dir)
    ids = [f"row-{i}" for i in range(len(texts))]
    rows = score_chunk(model, Chunk(ids=ids, texts=[t.strip() or None for t in texts]), PLAIN)
    assert [r["id"] for r in rows] == ids
    single = [score_chunk(model, Chunk([i], [t.strip() or None]), PLAIN)[0] for i, t in zip(ids, texts, strict=True)]
    assert [r["p_kpo"] for r in rows] == [r["p_kpo"] for r in single]
