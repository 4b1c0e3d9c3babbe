"""Reading CSV, JSONL and TXT in chunks, and the errors for broken input."""

import re

import pytest

from pipeline.errors import DataError
from pipeline.readers import iter_chunks, read_labelled, sniff_separator


def collect(path, **kwargs):
    ids, texts = [], []
    for chunk in iter_chunks(path, **kwargs):
        ids += chunk.ids
        texts += chunk.texts
    return ids, texts


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_csv_joins_columns_keeps_ids_and_chunks(tmp_path):
    rows = "".join(f"r{i},Title {i},Body {i}\n" for i in range(25))
    path = write(tmp_path, "p.csv", "ref,title,description\n" + rows)
    ids, texts = collect(path, text_columns=("title", "description"), id_column="ref", chunk_size=4)
    assert ids == [f"r{i}" for i in range(25)]
    assert texts[3] == "Title 3\nBody 3"


def test_csv_quoted_newlines_commas_bom_and_empty_cells(tmp_path):
    content = '\ufeffid,text\n1,"line one\nline two, with comma"\n2,\n3,"  "\n'
    ids, texts = collect(write(tmp_path, "q.csv", content), id_column="id")
    assert ids == ["1", "2", "3"]
    assert texts == ["line one\nline two, with comma", None, None]


def test_csv_semicolons_are_detected(tmp_path):
    ids, texts = collect(write(tmp_path, "s.csv", "id;text\n7;hello, world\n"), id_column="id")
    assert (ids, texts) == (["7"], ["hello, world"])
    assert sniff_separator('"a;b",c,d') == ","


def test_csv_header_only_gives_no_rows(tmp_path):
    assert collect(write(tmp_path, "h.csv", "id,text\n")) == ([], [])


def test_csv_missing_column_lists_the_columns(tmp_path):
    with pytest.raises(DataError, match=r"no column 'text'.*'title', 'body'"):
        collect(write(tmp_path, "m.csv", "title,body\na,b\n"))


def test_default_ids_are_row_numbers(tmp_path):
    ids, _ = collect(write(tmp_path, "n.csv", "text\na\nb\n"))
    assert ids == ["1", "2"]


def test_an_id_column_is_kept_without_being_named(tmp_path):
    """A file's own ids were once replaced by row numbers unless --id-column named them: lost without a word."""
    csv_ids, _ = collect(write(tmp_path, "i.csv", "text,id\na,job-7\nb,job-3\n"), chunk_size=1)
    jsonl_ids, _ = collect(write(tmp_path, "i.jsonl", '{"id": "job-7", "text": "a"}\n{"id": 3, "text": "b"}\n'))
    assert csv_ids == ["job-7", "job-3"]  # across chunks too
    assert jsonl_ids == ["job-7", "3"]
    named, _ = collect(write(tmp_path, "r.csv", "ref,id,text\nr1,i1,a\n"), id_column="ref")
    assert named == ["r1"]


def test_a_record_missing_the_id_the_first_one_had_is_an_error(tmp_path):
    """Ids taken from the first record are expected in every record: a row number mixed in could clash with them."""
    path = write(tmp_path, "m.jsonl", '{"id": "a1", "text": "x"}\n{"text": "y"}\n')
    with pytest.raises(DataError, match="line 2 has no field 'id'"):
        collect(path)


def test_jsonl_values_and_malformed_line_number(tmp_path):
    path = write(tmp_path, "a.jsonl", '{"id": 1, "text": "ok"}\n\n{"id": 2, "text": 42}\n{"id": 3, "text": null}\n')
    assert collect(path, id_column="id") == (["1", "2", "3"], ["ok", "42", None])
    bad = write(tmp_path, "b.jsonl", '{"text": "ok"}\n{"text": oops}\n')
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        collect(bad)


@pytest.mark.parametrize("content", ['{\n  "text": "a"\n}\n', '{ "id": 1,\n  "text": "a" }\n'])
def test_a_pretty_printed_object_is_named_as_such(tmp_path, content):
    """It once failed as "line 1 is not valid JSON: Expecting property name", which points at the quotes."""
    with pytest.raises(DataError, match="line 1 starts a JSON object that runs over several lines"):
        collect(write(tmp_path, "export.json", content))
    # A record cut short is only invalid: its line does not end where a pretty-printer breaks one.
    with pytest.raises(DataError, match="line 1 is not valid JSON"):
        collect(write(tmp_path, "cut.jsonl", '{"text": "a"\n'))


@pytest.mark.parametrize("content", ['[{"text": "a"}, {"text": "b"}]\n', '[\n  {"text": "a"}\n]\n'])
def test_a_json_array_is_named_as_such(tmp_path, content):
    """An array, on one line or pretty-printed, once failed as "line 1 is not a JSON object" or "not valid JSON"."""
    with pytest.raises(DataError, match="is a JSON array, not JSON lines"):
        collect(write(tmp_path, "export.json", content))
    with pytest.raises(DataError, match="is a JSON array, not JSON lines"):
        read_labelled(write(tmp_path, "labelled.json", content))


def test_a_workbook_is_named_with_the_way_to_read_it(tmp_path):
    """An Excel export once got "cannot tell the format from its suffix; pass --input-format csv", which then
    failed on the workbook's bytes."""
    with pytest.raises(DataError, match=r"spreadsheet workbook.*save the sheet as CSV"):
        collect(write(tmp_path, "Jobs.XLSX", b"PK\x03\x04", mode="wb"))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Jobs.docx", "a Word document"),
        ("ad.PDF", "a PDF"),
        ("old.doc", "a Word document"),
        ("notes.odt", "a text document"),
    ],
)
def test_a_document_is_named_with_the_way_to_give_its_text(tmp_path, name, kind):
    """A Word file was told to pass --input-format, which then called it a spreadsheet workbook."""
    with pytest.raises(
        DataError,
        match=rf"^.*{re.escape(name)} is {kind}, which is not read; copy its postings into a \.txt file, one per "
        r"line, to score them \(or a CSV with text and label columns, for labelled data\)$",
    ):
        collect(write(tmp_path, name, b"PK\x03\x04", mode="wb"))


def test_txt_one_posting_per_line_with_blank_lines_kept(tmp_path):
    assert collect(write(tmp_path, "t.txt", "one\n\nthree\n")) == (["1", "2", "3"], ["one", None, "three"])


def test_invalid_utf8_names_file_and_byte_offset(tmp_path):
    path = write(tmp_path, "l.csv", b"id,text\n1,caf\xe9\n", mode="wb")
    with pytest.raises(DataError, match=r"l\.csv is not valid utf-8-sig at byte 13.*--encoding"):
        collect(path)
    assert collect(path, encoding="latin-1")[1] == ["café"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing.csv", "does not exist"),
        (lambda p: p, "is a directory"),
        (lambda p: write(p, "x.csv", b"\x00\x01\x02binary", mode="wb"), "binary file"),
        (lambda p: write(p, "e.csv", ""), "is empty"),
        (lambda p: write(p, "x.parquet", "x"), "--input-format"),
    ],
)
def test_unreadable_inputs(tmp_path, setup, message):
    with pytest.raises(DataError, match=message):
        collect(setup(tmp_path))


def test_labelled_postings_exported_as_html_are_learnt_as_their_text(tmp_path):
    """Users' labelled postings pasted from a board's HTML: their tags and references became words the model learnt
    and the shortcut audit counted. Read as their text, as predict scores them; markup alone is an empty text."""
    path = write(tmp_path, "l.csv", 'text,label\n"<p>Advise on <b>tax</b> law &amp; treaties</p>",KPO\n')
    assert read_labelled(path)["text"].tolist() == ["Advise on tax law & treaties"]
    with pytest.raises(DataError, match=r"has empty text in data rows 2;"):
        read_labelled(write(tmp_path, "e.csv", 'text,label\nAnswer calls,BPO\n"<p>&nbsp;</p>",KPO\n'))


def test_read_labelled_lists_bad_labels_and_rows(tmp_path):
    path = write(tmp_path, "l.csv", "text,label\na,BPO\nb,kpo\nc,Other\n")
    with pytest.raises(DataError, match=r"'Other', 'kpo' \(data rows 2, 3\)"):
        read_labelled(path)
    with pytest.raises(DataError, match="has no rows"):
        read_labelled(write(tmp_path, "h.csv", "text,label\n"))


@pytest.mark.parametrize(
    "content",
    [
        "id,text,label,gold,description\n1,Calls,KPO,BPO,Answer inbound calls\n2,Tax,BPO,KPO,Advise on tax law\n",
        '{"id": 1, "text": "Calls", "label": "KPO", "gold": "BPO", "description": "Answer inbound calls"}\n'
        '{"id": 2, "text": "Tax", "label": "BPO", "gold": "KPO", "description": "Advise on tax law"}\n',
    ],
    ids=["csv", "jsonl"],
)
def test_the_chosen_columns_stand_in_for_a_text_and_label_of_the_files_own(tmp_path, content):
    """evaluate --label-column gold on a file that also has 'label' once stopped in pandas ("'DataFrame' object has
    no attribute 'str'"): the rename made two columns named 'label'."""
    path = write(tmp_path, "gold.jsonl" if content.startswith("{") else "gold.csv", content)
    for text_column, label_column, texts, labels in [
        ("text", "gold", ["Calls", "Tax"], ["BPO", "KPO"]),
        ("description", "label", ["Answer inbound calls", "Advise on tax law"], ["KPO", "BPO"]),
        ("description", "gold", ["Answer inbound calls", "Advise on tax law"], ["BPO", "KPO"]),
    ]:
        frame = read_labelled(path, text_column, label_column)
        assert list(frame.columns).count("text") == 1 and list(frame.columns).count("label") == 1
        assert frame["text"].tolist() == texts and frame["label"].tolist() == labels


def test_one_column_cannot_be_both_the_text_and_the_label(tmp_path):
    """--text-column gold --label-column gold scored the label words as the postings."""
    path = write(tmp_path, "gold.csv", "text,gold\nAnswer calls,BPO\nAdvise on tax,KPO\n")
    with pytest.raises(DataError, match=r"gold\.csv: the text and the label cannot both be column 'gold'"):
        read_labelled(path, text_column="gold", label_column="gold")


def test_columns_named_the_other_way_round_are_swapped_not_left_out(tmp_path):
    path = write(tmp_path, "swapped.csv", "label,text\nAnswer inbound calls,BPO\nAdvise on tax law,KPO\n")
    frame = read_labelled(path, text_column="label", label_column="text")
    assert frame[["text", "label"]].values.tolist() == [["Answer inbound calls", "BPO"], ["Advise on tax law", "KPO"]]


def test_labels_are_read_without_the_spaces_around_them(tmp_path):
    """ " KPO " is KPO: kept as written, it would reach the metrics and the model as a label of its own."""
    path = write(tmp_path, "spaced.csv", 'text,label\nAnswer calls," BPO"\nDraft contracts,"KPO "\n')
    assert read_labelled(path)["label"].tolist() == ["BPO", "KPO"]


def test_a_labelled_posting_exactly_as_long_as_predict_scores_is_read(tmp_path):
    """prepare refuses a posting longer than predict scores, and only such: one of exactly the limit is read."""
    from pipeline import config

    limit = config.PREDICT.max_text_chars
    path = write(tmp_path, "long.csv", f"text,label\n{'a' * limit},BPO\nDraft contracts,KPO\n")
    assert read_labelled(path)["text"].str.len().tolist() == [limit, len("Draft contracts")]
    write(tmp_path, "longer.csv", f"text,label\n{'a' * (limit + 1)},BPO\nDraft contracts,KPO\n")
    with pytest.raises(DataError, match="longer"):
        read_labelled(tmp_path / "longer.csv")


@pytest.mark.parametrize("block", [*range(1, 30), 1 << 16])
def test_a_cr_lf_cut_by_a_block_end_is_a_line_end_and_a_lone_cr_a_character(tmp_path, monkeypatch, block):
    """A CR LF whose CR ends one block of bytes and whose LF starts the next is a line end, and a lone CR that ends
    a block is a character of its field all the same; the block sizes put a block end at every place in the rows."""
    import pipeline.readers

    monkeypatch.setattr(pipeline.readers, "_BLOCK", block)
    # Two CRs in a row, and a CR CR LF line end, cut anywhere too.
    content = b"id,text\r\nr1,Answer calls\r\nr2,Log\rtickets\r\nr3,Draft\r\rcontracts\r\r\nr4,Audit accounts\r\n"
    path = write(tmp_path, "p.csv", content, "wb")
    ids, texts = collect(path, text_columns=("text",), id_column="id", chunk_size=2)
    assert ids == ["r1", "r2", "r3", "r4"]
    assert texts[0] == "Answer calls" and "\r" not in texts[0] and texts[1].split() == ["Log", "tickets"]
    assert texts[2].split() == ["Draft", "contracts"] and texts[3] == "Audit accounts"


@pytest.mark.parametrize(
    "argument, expected",
    [
        ("n\udcc3\udcb3minas", "nóminas"),  # UTF-8 bytes an ASCII locale could not decode
        ("r\udcc3\udca9sum\udcc3\udca9 \udcff", "résumé \udcff"),  # a stray byte stands out alone
        ("résumé", "résumé"),
    ],
)
def test_an_argument_is_read_as_utf8_around_a_stray_byte(argument, expected):
    """One stray byte turned a whole argument into Latin-1 ("rÃ©sumÃ©s"), and its probability moved from 0.82 to
    0.58; then, under an ASCII locale, left every accented letter of it undecoded: only the stray byte stands out."""
    from pipeline.readers import argument_text

    assert argument_text(argument) == expected


# The characters pandas asks for at a time (its C parser's read size): where a block of the CSV it reads ends.
_PANDAS_READ = 1 << 18


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_quote_left_open_is_named_below_quoted_fields_cut_by_a_block_end(tmp_path, newline):
    """The quote left open on line 4 was closed by line 5's opening quote and the two rows read as one, exit 0.
    Checked block by block, a doubled quote, a closing quote and what follows it (a separator, a line end, a stray
    CR kept in its cell) cut by a block end read as before, and the quote left open is found wherever the block
    ends, as the quote that starts a block too."""
    tricky = f'7,"""hi"", go","x"\ry{newline}'
    tail = f'4,"Process invoices,x{newline}5,"Build models",x{newline}'
    for place in range(len(tricky) + len('4,"') + 1):
        filler = "a" * (_PANDAS_READ - place - len(f"id,text,note{newline}1,,{newline}"))
        path = write(tmp_path, "cut.csv", f"id,text,note{newline}1,{filler},{newline}{tricky}{tail}")
        with pytest.raises(DataError, match=r"^\S+cut\.csv line 4 opens a quoted field that is not closed: the next "
                                            r"""quote, on line 5, is followed by 'Build models"'"""):  # fmt: skip
            collect(path, keep_columns=("note",))
