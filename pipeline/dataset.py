"""Build the labelled dataset: generate, add users' postings, clean, deduplicate and split by group."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline import config
from pipeline.catalogue import Catalogue
from pipeline.errors import DataError
from pipeline.generate import generate_postings
from pipeline.near_copies import near_copies
from pipeline.readers import (
    LABELLED_SUFFIXES,
    JsonNumber,
    data_rows,
    format_suffix,
    is_json_string,
    read_labelled,
    render_json,
)

# Every byte but a-z becomes a space: the same as replacing each run of characters other than letters with one
# space, at a third of the cost (evaluate keys every training posting). UTF-8 writes each character beyond ASCII
# in bytes above 127, so bullets, dashes and quotes become spaces too. Text with a letter beyond ASCII takes the
# slower way, which keeps the letters of every script.
_LETTERS_ONLY = bytes(code if ord("a") <= code <= ord("z") else ord(" ") for code in range(256))
_NOT_A_LETTER = re.compile(r"[\W\d_]+")
_LETTER_BEYOND_ASCII = re.compile(r"[^\W\d_\x00-\x7f]")
_SPACE = re.compile(r"[ \t\r\f\v]+")
FIELD_COLUMNS = (config.ID_COLUMN, config.TEXT_COLUMN, config.LABEL_COLUMN, config.AREA_COLUMN,
                 config.BORDERLINE_COLUMN, config.FORM_COLUMN)  # fmt: skip
MIN_ROWS_PER_CLASS = 2


def clean_text(text: str) -> str:
    """Normalise whitespace: collapse runs of spaces, trim lines, drop blank-line runs beyond one."""
    lines = [_SPACE.sub(" ", line).strip() for line in str(text).replace("\r\n", "\n").split("\n")]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return cleaned.strip()


def near_duplicate_key(text: str) -> str:
    """A key shared by postings that differ only in case, punctuation, digits or spacing, in any script."""
    return hashlib.sha1(b" ".join(_letters(text).split())).hexdigest()


def letter_words(text: str) -> list[str]:
    """The words of a text as the near-duplicate key reads them: lower case, letters only, of any script."""
    return _letters(text).decode("utf-8").split()


def key_of_words(words: list[str]) -> str:
    """The near-duplicate key of a text given as its letter_words: evaluate needs both of every training posting,
    and reading its letters once saves a third of a second a file."""
    return hashlib.sha1(" ".join(words).encode()).hexdigest()


def _letters(text: str) -> bytes:
    """The text in lower case with every run of characters other than letters a space, as UTF-8."""
    lowered = text.lower()
    if _LETTER_BEYOND_ASCII.search(lowered):
        # Letters of every script count: folding them to spaces gave every Greek or Chinese posting one key.
        return _NOT_A_LETTER.sub(" ", lowered).encode("utf-8")
    return lowered.encode("utf-8").translate(_LETTERS_ONLY)


def deduplicate(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the first of each set of near-identical texts."""
    keys = frame[config.TEXT_COLUMN].map(near_duplicate_key)
    return frame.loc[~keys.duplicated()].reset_index(drop=True)


def parse_flag(value) -> bool:
    """One reading of yes/no fields wherever they come from: JSON booleans, and "true"/"yes"/"1" in any case."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in (*config.TRUE_WORDS, "y")


def with_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its borderline column, where it has one, read as booleans from any yes/no spelling."""
    if config.BORDERLINE_COLUMN not in frame:
        return frame
    return frame.assign(**{config.BORDERLINE_COLUMN: frame[config.BORDERLINE_COLUMN].map(parse_flag)})


def labelled_files(folder: Path) -> list[Path]:
    """The labelled files in a folder, sorted: every CSV and JSON-lines suffix predict reads, in any case; or
    the one file, when `folder` is a file.

    Hidden files and folders and Markdown notes (the folder's README.md) are skipped; any other file, and a folder
    inside it, is refused by name rather than silently left out of training (a batch folder's postings were).
    """
    folder = Path(folder)
    if folder.is_file():
        return [_readable_labelled_file(folder, "use another file")]
    if not folder.is_dir():
        return []
    paths = [path for path in sorted(folder.iterdir()) if not path.name.startswith(".")]
    for path in paths:
        if path.is_dir():
            raise DataError(
                f"{path} is a folder, and only the files directly in {folder} are read: move its files up into "
                f"{folder}, or name the folder with a leading dot to leave it out"
            )
    return [
        _readable_labelled_file(path, "move it out of the folder") for path in paths if path.suffix.lower() != ".md"
    ]


def _readable_labelled_file(path: Path, otherwise: str) -> Path:
    if format_suffix(path) not in LABELLED_SUFFIXES:
        raise DataError(
            f"{path} is not a file prepare reads ({path.suffix or 'no suffix'}); save it as CSV (.csv, .tsv) or "
            f"JSON lines (.jsonl, .ndjson, .json), compressed or not (.gz, .bz2, .xz), or {otherwise}"
        )
    return path


def load_field_set(field_dir: Path = config.FIELD_DIR) -> pd.DataFrame:
    """Read the hand-written field set (every labelled file in `field_dir`); it is evaluated, never trained on."""
    paths = labelled_files(field_dir)
    if not paths:
        return pd.DataFrame(columns=list(FIELD_COLUMNS) + [config.SOURCE_COLUMN])
    frames = [read_labelled(path) for path in paths]
    for path, one in zip(paths, frames, strict=True):  # rows counted in their own file, which the message names
        _check_ids(one, str(path), numbered=False)
    frame = pd.concat(frames, ignore_index=True)
    _check_ids(frame, "the field set", numbered=False)
    frame[config.TEXT_COLUMN] = frame[config.TEXT_COLUMN].map(clean_text)
    # Area, form and the borderline mark give the report its slices; a set of one's own may leave them out.
    for column in (config.AREA_COLUMN, config.FORM_COLUMN):
        frame[column] = frame[column].fillna("") if column in frame else ""
    frame[config.BORDERLINE_COLUMN] = frame.get(config.BORDERLINE_COLUMN, pd.Series(False, frame.index)).map(parse_flag)
    frame[config.SOURCE_COLUMN] = config.SOURCE_FIELD
    return frame[list(FIELD_COLUMNS) + [config.SOURCE_COLUMN]]


def policy_service(rule: str) -> str:
    """The service of a label-policy rule, its label in capitals as the challenge files' hands did not all write it:
    "Neither: hospitality — kitchen porters" -> "NEITHER: hospitality"."""
    service = rule.split(" — ", 1)[0].strip()
    label, colon, rest = service.partition(":")
    return f"{label.strip().upper()}:{rest}" if colon else service


CHALLENGE_COLUMNS = (*FIELD_COLUMNS, config.TITLE_COLUMN, config.SOURCE_COLUMN)


def load_challenge_set(challenge_dir: Path = config.CHALLENGE_DIR) -> pd.DataFrame:
    """Read the challenge set: postings written apart from the generator, evaluated and perturbed, never trained on.

    Its files keep the title apart from the body; the text scored is the title line, then the body, as a
    posting reads. Clarity becomes the borderline flag and the register the form.
    """
    paths = sorted(Path(challenge_dir).glob("*.jsonl")) if Path(challenge_dir).is_dir() else []
    if not paths:
        return pd.DataFrame(columns=list(CHALLENGE_COLUMNS))
    # Read as any labelled file is, so a malformed line or a missing field is named, not a pandas traceback.
    frames = []
    for path in paths:
        # A register or clarity written as a JSON number is refused as one, not read as its digits.
        frame = read_labelled(path, numbers_kept=(config.CHALLENGE_REGISTER_COLUMN, config.CHALLENGE_CLARITY_COLUMN))
        for column in (config.ID_COLUMN, config.CHALLENGE_REGISTER_COLUMN, config.CHALLENGE_CLARITY_COLUMN):
            if column not in frame:
                raise DataError(
                    f"{path} has no {column!r} field: every challenge posting needs an id, its register (the form "
                    "it is written in) and its clarity (clear or borderline), by which it is reported"
                )
        _check_ids(frame, str(path), numbered=False)
        frames.append(frame.assign(**{_FILE: str(path)}))
    frame = pd.concat(frames, ignore_index=True)
    _check_ids(frame, f"the challenge set in {challenge_dir}", numbered=False)
    _check_challenge_fields(frame)
    if config.TITLE_COLUMN not in frame:
        frame[config.TITLE_COLUMN] = ""
    titles = frame[config.TITLE_COLUMN].fillna("").astype(str).map(clean_text)
    bodies = frame[config.CHALLENGE_BODY_COLUMN].fillna("").astype(str).map(clean_text)
    frame[config.TEXT_COLUMN] = [f"{t}\n{b}" if t else b for t, b in zip(titles, bodies, strict=True)]
    frame[config.TITLE_COLUMN] = titles
    frame[config.BORDERLINE_COLUMN] = frame[config.CHALLENGE_CLARITY_COLUMN] == "borderline"
    frame[config.FORM_COLUMN] = frame[config.CHALLENGE_REGISTER_COLUMN].str.strip()
    # The whole rule made 346 slices, most of one or two postings, too thin to read; its service makes about 70.
    rules = frame.get(config.CHALLENGE_POLICY_COLUMN, pd.Series("", index=frame.index)).fillna("").astype(str)
    frame[config.AREA_COLUMN] = rules.map(policy_service)
    frame[config.SOURCE_COLUMN] = config.SOURCE_CHALLENGE
    return frame[list(CHALLENGE_COLUMNS)]


def _check_challenge_fields(frame: pd.DataFrame) -> None:
    """Every posting's register and clarity, not only the file's: one without its clarity counted as clear, and one
    without its register fell in a form with no name, without a word. Each is read as JSON gives it: `true` was
    taken for the text 'True', and a list for the text '[]'."""
    for file, posting, register, clarity in zip(
        frame[_FILE], frame[config.ID_COLUMN], frame[config.CHALLENGE_REGISTER_COLUMN],
        frame[config.CHALLENGE_CLARITY_COLUMN], strict=True,
    ):  # fmt: skip
        where = f"{file}: challenge posting {posting!r}"
        if _missing(clarity):
            raise DataError(f"{where} has no clarity (clear or borderline), by which the challenge set is reported")
        if not is_json_string(clarity) or clarity not in config.CHALLENGE_CLARITIES:
            raise DataError(f"{where} has clarity {_as_written(clarity)}; it must be clear or borderline")
        if _missing(register):
            raise DataError(f"{where} has no register (the form it is written in), by which it is reported")
        if not is_json_string(register):
            raise DataError(f"{where} has register {_as_written(register)}; it must be a name (the form it is "
                            "written in)")  # fmt: skip


def _missing(value) -> bool:
    """A field left out (NaN in the frame), null, or a blank text."""
    return (
        value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip())
    )


def _as_written(value) -> str:
    """A field's value as a message shows it: a text quoted as Python does, anything else as JSON writes it."""
    if isinstance(value, JsonNumber):  # the digits as the file wrote them
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | dict):  # numbers inside as written, not as the texts they are kept as
        return render_json(value)
    try:
        return json.dumps(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        return repr(value)


def load_user_postings(user_dir: Path = config.USER_LABELLED_DIR, source: str = config.SOURCE_USER) -> pd.DataFrame:
    """Read users' own labelled postings (CSV/JSONL with `text` and `label`; optional id, group, area), or with
    `source` the project's written postings, which take the same form."""
    paths = labelled_files(user_dir)
    if not paths:
        return pd.DataFrame(columns=list(config.DATASET_COLUMNS))
    frames = []
    for path in paths:
        frame = read_labelled(path)
        if config.ID_COLUMN not in frame:
            # The whole file name, suffix included: mine.csv and mine.jsonl must not make the same ids.
            frame[config.ID_COLUMN] = [f"{path.name}-{i + 1}" for i in range(len(frame))]
        _check_ids(frame, str(path))
        frame[config.TEXT_COLUMN] = frame[config.TEXT_COLUMN].map(clean_text)
        frames.append(frame.assign(**{_FILE: path.name}))
    frame = pd.concat(frames, ignore_index=True)
    _check_ids_across(frame, user_dir)
    frame = frame.drop(columns=_FILE)
    check_labels_agree(frame, f"{'users' if source == config.SOURCE_USER else source} postings in {user_dir}")
    frame[config.GROUP_COLUMN] = filled_groups(frame, config.USER_GROUP_PREFIX)
    for column in config.DATASET_COLUMNS:
        if column not in frame:
            frame[column] = ""
    frame[config.BORDERLINE_COLUMN] = frame[config.BORDERLINE_COLUMN].map(parse_flag)
    frame[config.SOURCE_COLUMN] = source
    return frame[list(config.DATASET_COLUMNS)]


_FILE = "\x00file"


def _check_ids_across(frame: pd.DataFrame, folder: Path) -> None:
    """Refuse an id used in more than one file: ids name one posting, wherever it comes from."""
    ids = frame[config.ID_COLUMN].astype(str)
    repeated = ids.duplicated(keep=False)
    if repeated.any():
        clashes = frame.loc[repeated].groupby(ids[repeated])[_FILE].apply(lambda files: ", ".join(sorted(set(files))))
        shown = [f"{value} ({files})" for value, files in list(clashes.items())[:5]]
        raise DataError(f"files in {folder} repeat ids: {'; '.join(shown)}; give each posting its own id")


def check_labels_agree(frame: pd.DataFrame, whose: str) -> None:
    """Refuse near-identical texts given different labels: deduplication would keep one label without a word, and a
    model trained on both learns the text's words as either label. `whose` names the postings: "users' postings in
    data/raw/labelled"."""
    keys = frame[config.TEXT_COLUMN].map(near_duplicate_key)
    labels_per_text = frame.groupby(keys)[config.LABEL_COLUMN].nunique()
    disputed = labels_per_text.index[labels_per_text > 1]
    if len(disputed):
        rows = frame[keys == disputed[0]]
        pairs = zip(rows[config.ID_COLUMN], rows[config.LABEL_COLUMN], strict=True)
        named = ", ".join(f"{row_id} ({label})" for row_id, label in pairs)
        more = f"; {len(disputed) - 1} more such text(s)" if len(disputed) > 1 else ""
        raise DataError(f"{whose} give one text (or near copies of it) different labels: {named}{more}; keep one label")


def check_files_labels_agree(splits: list[tuple[Path, pd.DataFrame]]) -> None:
    """The check above over the files train and tune read together; a row of a file without ids is named as prepare
    names it (mine.csv-3)."""
    frames = []
    for path, frame in splits:
        numbered = [f"{Path(path).name}-{row + 1}" for row in range(len(frame))]
        ids = frame[config.ID_COLUMN].tolist() if config.ID_COLUMN in frame else numbered
        texts = frame[config.TEXT_COLUMN].fillna("").astype(str).tolist()
        labels = frame[config.LABEL_COLUMN].tolist()
        frames.append(pd.DataFrame({config.ID_COLUMN: ids, config.TEXT_COLUMN: texts, config.LABEL_COLUMN: labels}))
    if frames:
        whose = f"the postings of {', '.join(str(path) for path, _ in splits)}"
        check_labels_agree(pd.concat(frames, ignore_index=True), whose)


def check_user_labels_agree(user_postings: pd.DataFrame, others: pd.DataFrame, whose: str = "your postings") -> None:
    """Refuse a user's posting that is a near copy of a generated, field or challenge posting with another label:
    deduplication kept the other posting, its label with it, and the user's correction was lost without a word."""
    label_of = dict(
        zip(
            others[config.TEXT_COLUMN].map(near_duplicate_key),
            zip(others[config.ID_COLUMN], others[config.LABEL_COLUMN], strict=True),
            strict=True,
        )
    )
    clashes = []
    for row_id, text, label in zip(
        user_postings[config.ID_COLUMN],
        user_postings[config.TEXT_COLUMN],
        user_postings[config.LABEL_COLUMN],
        strict=True,
    ):
        other = label_of.get(near_duplicate_key(text))
        if other is not None and other[1] != label:
            clashes.append(f"{row_id} ({label}) copies {other[0]} ({other[1]})")
    if clashes:
        more = f"; {len(clashes) - 3} more" if len(clashes) > 3 else ""
        raise DataError(
            f"{len(clashes)} of {whose} {'are near copies' if len(clashes) > 1 else 'is a near copy'} of "
            f"another posting with another label: {'; '.join(clashes[:3])}{more}. One text keeps one label: give "
            "yours the other's, or write your own text (generated ids start syn-, the project's written ones h and a "
            "letter; the others are the field and challenge sets')"
        )


def _check_ids(frame: pd.DataFrame, name: str, numbered: bool = True) -> None:
    """Refuse missing and repeated ids in one file's postings; `numbered` where a file without ids has its rows
    numbered (users' files), which the advice then offers."""
    if config.ID_COLUMN not in frame:
        raise DataError(f"{name} has no '{config.ID_COLUMN}' column")
    # A blank cell, a JSON null or a record without the field: two of them stopped prepare with a TypeError, or
    # were said to repeat the id "", and one was kept with no id at all.
    missing = frame[config.ID_COLUMN].isna() | (frame[config.ID_COLUMN].astype(str).str.strip() == "")
    if missing.any():
        numbering = f", or leave '{config.ID_COLUMN}' out of every row to have them numbered" if numbered else ""
        raise DataError(
            f"{name} has postings without an id (data rows {data_rows(missing.reset_index(drop=True))}); give each "
            f"its own{numbering}"
        )
    repeated = frame[config.ID_COLUMN].astype(str).duplicated(keep=False)
    if repeated.any():
        values = sorted(set(frame.loc[repeated, config.ID_COLUMN].astype(str)))
        raise DataError(f"{name} repeats ids: {', '.join(values[:10])}{'...' if len(values) > 10 else ''}")


def group_split(
    frame: pd.DataFrame, test_size: float, seed: int, tied: Sequence[set[str]] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split so that every group lies wholly on one side, taking test groups from every area of both labels.

    Groups are dealt out area by area, round-robin, until each label's test share reaches `test_size`; a
    label with a single group cannot be split and is refused. Users' own postings are dealt apart, so that adding
    them moves no generated posting to the other side (dealt together, 36 postings of a user's moved some 4,000
    generated ones, and no figure before could be set beside one after), and in the order of a hash of each group
    and the seed, so that one of them added or dropped moves few other groups (at most one where they name no area); a
    user's posting in a group the generated postings have goes where that group went. The project's written postings
    and a user's are dealt apart from each other too, for the same reason.

    Each set of `tied` groups (users' near copies of another label) ends on one side: the groups prepare filled in
    go where the set's other groups went, to the test split only if all of those did (where the user gave none of
    them, only if all the set did). Dealt apart, a posting of a user's went to one side and its near copy under
    another label to the other, and the model fitted without the test split learnt one and was scored on the other.
    """
    for label in config.CATALOGUE_LABELS:
        rows = frame[frame[config.LABEL_COLUMN] == label]
        if label in config.LABELS or len(rows):
            _check_splittable(label, rows)
    users = (
        frame[config.SOURCE_COLUMN].isin(config.GIVEN_SOURCES)
        if config.SOURCE_COLUMN in frame
        else pd.Series(False, index=frame.index)
    )
    test_groups = _test_groups(frame.loc[~users], test_size, random.Random(seed))
    apart = users & ~frame[config.GROUP_COLUMN].isin(set(frame.loc[~users, config.GROUP_COLUMN]))
    if apart.any():
        # Each source in its own pool: dealt with the project's written postings, a user's few groups went to the
        # test split or not by where their hashes fell among those, and prepare's reason for none in test was wrong.
        for _, own in frame.loc[apart].groupby(config.SOURCE_COLUMN):
            test_groups |= _test_groups(own, test_size, f"users-{seed}")
    generated_groups = set(frame.loc[~users, config.GROUP_COLUMN])
    for groups in tied:
        followers = {group for group in groups if is_filled_group(group, config.USER_GROUP_PREFIX)}
        leaders = (groups - followers) or groups
        # Every group of the set that is not a generated family's moves, the given ones too: two groups a user gave
        # a pair of copies were dealt apart, one to each side, whatever the warning said.
        movable = groups - generated_groups
        test_groups = (test_groups | movable) if leaders <= test_groups else (test_groups - movable)
    in_test = frame[config.GROUP_COLUMN].isin(test_groups)
    return frame.loc[~in_test].reset_index(drop=True), frame.loc[in_test].reset_index(drop=True)


def _check_splittable(label: str, rows: pd.DataFrame) -> None:
    if len(rows) < MIN_ROWS_PER_CLASS or rows[config.GROUP_COLUMN].nunique() < 2:
        raise DataError(
            f"class {label} has {len(rows)} rows in {rows[config.GROUP_COLUMN].nunique()} group(s); "
            f"at least {MIN_ROWS_PER_CLASS} rows in 2 groups are needed to split it"
        )


def _test_groups(frame: pd.DataFrame, test_size: float, order: random.Random | str) -> set[str]:
    """The groups of `frame` dealt to the test split, label by label; a label of one group stays in training.

    `order` is a random stream that shuffles the groups and areas (the generated postings'), or a salt: groups and
    areas then go in the order of a hash of each with the salt, which no other's arrival or departure changes.
    """
    test_groups: set[str] = set()
    # CATALOGUE_LABELS lists BPO and KPO first: the order of the draws, which a seed's split depends on.
    for label in [label for label in config.CATALOGUE_LABELS if (frame[config.LABEL_COLUMN] == label).any()]:
        rows = frame[frame[config.LABEL_COLUMN] == label]
        if rows[config.GROUP_COLUMN].nunique() < 2:
            continue
        sizes = rows.groupby(config.GROUP_COLUMN).size()
        areas = rows.groupby(config.GROUP_COLUMN)[config.AREA_COLUMN].first()
        queues: dict[str, list[str]] = {}
        for group in sorted(sizes.index):
            queues.setdefault(str(areas[group]), []).append(group)
        for area, queue in queues.items():
            queues[area] = _arranged(queue, order)
        areas_in_turn = _arranged(sorted(queues), order)
        target, taken = test_size * len(rows), 0
        while taken < target and any(len(queues[a]) > 1 for a in areas_in_turn):
            for area in areas_in_turn:
                # Keep at least one group of every area in training, so every area is learnt.
                if taken >= target or len(queues[area]) <= 1:
                    continue
                group = queues[area].pop()
                test_groups.add(group)
                taken += int(sizes[group])
        if taken == 0:
            groups = sorted(sizes.index)
            test_groups.add(order.choice(groups) if isinstance(order, random.Random) else _arranged(groups, order)[0])
    return test_groups


def _arranged(items: list[str], order: random.Random | str) -> list[str]:
    """`items` shuffled by a random stream, or sorted by a hash of each with a salt."""
    if isinstance(order, random.Random):
        order.shuffle(items)
        return items
    return sorted(items, key=lambda item: salted_hash(order, item))


def salted_hash(salt, item: str) -> int:
    """A number for `item` that depends on it and the salt alone, in any process: deals users' groups to a split
    or a fold without moving the others when one is added."""
    return int.from_bytes(hashlib.sha256(f"{salt}\0{item}".encode()).digest(), "big")


def remove_overlap(train: pd.DataFrame, evaluation: pd.DataFrame) -> pd.DataFrame:
    """Drop training rows that are near-copies of any evaluation posting."""
    evaluation_keys = set(evaluation[config.TEXT_COLUMN].map(near_duplicate_key))
    keep = ~train[config.TEXT_COLUMN].map(near_duplicate_key).isin(evaluation_keys)
    return train.loc[keep].reset_index(drop=True)


def build_dataset(
    catalogue: Catalogue,
    params: config.PrepareParams,
    user_postings: pd.DataFrame | None = None,
    field_set: pd.DataFrame | None = None,
    challenge_set: pd.DataFrame | None = None,
    written_postings: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Return the train and test splits, the field set and the challenge set (cleaned), leak-free.

    No training posting is a near-copy of a test, field or challenge posting, and no test posting a near-copy of
    a field or challenge posting: the shipped model learns from the test split too.
    """
    generated = generate_postings(
        catalogue,
        params.n_postings,
        params.seed,
        params.borderline_share,
        n_out_of_scope=round(params.n_postings * params.out_of_scope_share),
    )
    written = written_postings if written_postings is not None else pd.DataFrame(columns=list(config.DATASET_COLUMNS))
    users = user_postings if user_postings is not None else pd.DataFrame(columns=list(config.DATASET_COLUMNS))
    generated_ids = "generated ids look like syn-42-000001"
    for theirs, whose, others, what, hint in (
        (users, "users'", generated, "generated", generated_ids),
        (
            users,
            "users'",
            written,
            "the project's written",
            "theirs are h, a hand's letter and a number; ids made from a file's name change with its name",
        ),
        (written, "the project's written", generated, "generated", generated_ids),
    ):
        taken = set(others[config.ID_COLUMN].astype(str)) & set(theirs[config.ID_COLUMN].astype(str))
        if taken:
            raise DataError(
                f"{whose} postings use ids of {what} postings: {', '.join(sorted(taken)[:10])}; rename them ({hint})"
            )
    data = pd.concat([generated] + [frame for frame in (written, users) if len(frame)], ignore_index=True)
    data[config.TEXT_COLUMN] = data[config.TEXT_COLUMN].map(clean_text)
    field = field_set if field_set is not None else pd.DataFrame(columns=list(FIELD_COLUMNS))
    challenge = challenge_set if challenge_set is not None else pd.DataFrame(columns=list(CHALLENGE_COLUMNS))
    source = data[config.SOURCE_COLUMN]
    # Users' postings against every other posting, the written ones included; the written ones against the rest.
    for given, others, whose in (
        (config.SOURCE_USER, source != config.SOURCE_USER, "your postings"),
        (config.SOURCE_WRITTEN, ~source.isin(config.GIVEN_SOURCES), "the project's written postings"),
    ):
        if (source == given).any():
            check_user_labels_agree(data[source == given], pd.concat([data[others], field, challenge]), whose)
    data = deduplicate(data)
    data, tied = _with_near_copies_kept_together(data, pd.concat([field, challenge], ignore_index=True))
    train, test = group_split(data, params.test_size, params.seed, tied)
    train = remove_overlap(train, pd.concat([test, field, challenge], ignore_index=True))
    test = remove_overlap(test, pd.concat([field, challenge], ignore_index=True))
    return {"train": train, "test": test, "field": field, "challenge": challenge}


def _with_near_copies_kept_together(
    data: pd.DataFrame, evaluation: pd.DataFrame
) -> tuple[pd.DataFrame, list[set[str]]]:
    """Users' postings that the near-duplicate key passes over but their runs of words show to be near copies (a
    word or two edited, a sentence appended, a template filled in another way). Those without a group of their own
    join their copies' group when the copies share their label, so they go to one side of the split; a group a
    user gave is kept, and one of theirs in a group the generated postings use still goes where that group went.
    Copies of another label keep their own groups, each label's, and the groups of each set of them are returned,
    for group_split to keep on one side. Copies of a field or challenge posting are left out, as exact ones are.
    Generated postings are left as they are: their role families already group them, and one family's postings
    share too many words to tell apart."""
    users = data[config.SOURCE_COLUMN].isin(config.GIVEN_SOURCES)
    if not users.any():
        return data, []
    mine = data.loc[users]
    texts = [*mine[config.TEXT_COLUMN], *evaluation[config.TEXT_COLUMN]]
    labels = mine[config.LABEL_COLUMN].tolist()
    found = near_copies([letter_words(text) for text in texts], len(mine), kinds=labels)
    groups = mine[config.GROUP_COLUMN].astype(str).tolist()
    generated_groups = set(data.loc[~users, config.GROUP_COLUMN].astype(str))
    joined = list(groups)
    filled = [is_filled_group(group, config.USER_GROUP_PREFIX) for group in groups]
    for indices in _members(found.groups).values():
        given = sorted({groups[i] for i in indices if not filled[i]},
                       key=lambda group: (group not in generated_groups, group))  # fmt: skip
        target = given[0] if given else min(groups[i] for i in indices)
        for i in indices:
            if filled[i]:
                joined[i] = target
    kept = [i for i in range(len(mine)) if i not in found.of_others]
    tied = [{joined[i] for i in indices} for indices in _sets_across_labels(found.ties, labels, kept)]
    data = data.copy()
    data.loc[users, config.GROUP_COLUMN] = joined
    positions = mine.index.tolist()
    return data.drop(index=[positions[i] for i in sorted(found.of_others)]).reset_index(drop=True), tied


def _members(components: list[int], indices: list[int] | None = None) -> dict[int, list[int]]:
    """The indices (`indices`, else 0, 1, ...) in each component, by the component's name."""
    members: dict[int, list[int]] = {}
    for index, component in zip(indices if indices is not None else range(len(components)), components, strict=True):
        members.setdefault(component, []).append(index)
    return members


def _sets_across_labels(ties: list[int], labels: list[str], indices: list[int]) -> list[list[int]]:
    """The sets of near copies among `indices` (`ties`: each text's set) that hold more than one label."""
    sets = _members([ties[i] for i in indices], indices).values()
    return [members for members in sets if len({labels[i] for i in members}) > 1]


def near_copies_of_another_label(
    user_postings: pd.DataFrame, folder: Path, written_postings: pd.DataFrame | None = None
) -> str:
    """A warning naming users' postings that are near copies of one of theirs, or of the project's written
    postings, with another label, or ''. Not refused as exact copies are: the measure cannot tell a mislabelled edit
    from two jobs that share a long paragraph. group_split keeps each set of them on one side of the split."""
    if not len(user_postings):
        return ""
    mine = len(user_postings)
    others = [] if written_postings is None else [written_postings]
    postings = pd.concat([user_postings, *others], ignore_index=True)
    labels = postings[config.LABEL_COLUMN].tolist()
    words = [letter_words(str(text)) for text in postings[config.TEXT_COLUMN]]
    found = near_copies(words, len(words), kinds=labels)
    # Sets that hold a user's posting: the written postings among themselves are the project's to keep apart.
    across = [s for s in _sets_across_labels(found.ties, labels, list(range(len(labels)))) if min(s) < mine]
    if not across:
        return ""
    ids = postings[config.ID_COLUMN].astype(str).tolist()
    pairs = [f"{ids[i]} ({labels[i]}) and {ids[j]} ({labels[j]})" for i, j in found.across if min(i, j) < mine]
    more = f"; {len(pairs) - 3} more" if len(pairs) > 3 else ""
    count = sum(index < mine for members in across for index in members)
    theirs = "" if max(map(max, across)) < mine else " or of the project's written postings"
    return (
        f"Warning: {count} of your postings in {folder} are near copies of one of yours{theirs} with another label "
        f"(pairs of consecutive words overlapping by {config.NEAR_COPY.min_jaccard} or more): "
        f"{'; '.join(pairs[:3])}{more}. "
        "Each set is kept on one side of the split; one text keeps one label, so correct the label that is wrong "
        "(postings that share a long paragraph count as copies too)"
    )


def user_postings_placed(
    user_postings: pd.DataFrame, splits: dict[str, pd.DataFrame], source: str = config.SOURCE_USER
) -> dict:
    """Where users' own postings (or the project's written ones: `source`) went: how many were read, how many sit
    in each of the shipped model's splits, and the ids left out as near copies of another posting (of theirs, a
    generated one, or one the model is evaluated on), which keeps a copy from counting twice or sitting on both
    sides of a split."""
    ids = user_postings[config.ID_COLUMN].astype(str).tolist()
    mine = [splits[name].loc[splits[name][config.SOURCE_COLUMN] == source] for name in config.SHIPPED_SPLITS]
    placed = {name: set(frame[config.ID_COLUMN]) for name, frame in zip(config.SHIPPED_SPLITS, mine, strict=True)}
    kept = set().union(*placed.values())
    return (
        {"read": len(ids)}
        | {name: len(found) for name, found in placed.items()}
        | {"left_out": [i for i in ids if i not in kept]}
        # How many groups they form: near copies share one, and a label's only group stays in training.
        | {"groups": int(pd.concat(mine)[config.GROUP_COLUMN].nunique())}
    )


def format_user_postings(placed: dict, folder: Path, whose: str = "your postings") -> str:
    """One line for prepare: how many of the user's postings (or `whose`) were read, where they went, which were
    left out."""
    line = f"{whose} in {folder}: {placed['read']} read; {placed['train']} in train, {placed['test']} in test"
    left_out = placed["left_out"]
    if left_out:
        shown = ", ".join(left_out[:10]) + ("..." if len(left_out) > 10 else "")
        line += f"; {len(left_out)} left out as near copies of another posting: {shown}"
    if placed["train"] and not placed["test"]:
        groups = placed.get("groups", 0)
        line += (
            f"; none in test, as they form {groups} group{'s' * (groups != 1)} (near copies, or a group you gave, "
            "share one) and each label keeps a group in training"
        )
    return line


def summarise(splits: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    """Rows per label for each split."""
    return {
        name: {
            str(label): int(count) for label, count in frame[config.LABEL_COLUMN].value_counts().sort_index().items()
        }
        | {"total": len(frame)}
        for name, frame in splits.items()
    }


def read_split(path: Path) -> pd.DataFrame:
    """Read a split written by prepare; an empty split (say, no field set) is an empty frame."""
    path = Path(path)
    if path.is_dir():  # it was said not to exist
        raise DataError(
            f"{path} is a directory; pass a labelled CSV or JSON-lines file (a folder of them is read by prepare: "
            "bpo-kpo prepare --labelled FOLDER)"
        )
    if not path.is_file():
        raise DataError(f"{path} does not exist; run `bpo-kpo prepare` (or `make data`) first")
    # The readers' own: a user's file (train --data mine.tsv) may be another format, encoding or shape than the
    # splits prepare writes, and each of those is named with its fix; so is a missing column or a label spelt
    # otherwise, rather than a KeyError, or a label dropped without a word.
    frame = read_labelled(path, header_only=True)
    frame = with_flags(frame)
    if config.TEXT_COLUMN in frame:
        # A file that prepare did not write may hold near copies: each set of them is one group, as users' postings
        # are in prepare, so that no fold of the cross-validation scores a posting whose near copy it learnt.
        frame[config.GROUP_COLUMN] = filled_groups(frame, "copies-")
    return frame


def filled_groups(frame: pd.DataFrame, prefix: str) -> pd.Series:
    """Each posting's group: its `group` cell, or where there is none or it is blank, `prefix` and the near-duplicate
    key of its text, so that near copies share a group. A blank cell read as a group of its own put every posting
    left blank on one side of the split (39 of a user's 40 in test)."""
    if config.GROUP_COLUMN in frame:
        groups = frame[config.GROUP_COLUMN].fillna("").astype(str).str.strip()
    else:
        groups = pd.Series("", index=frame.index, dtype=object)
    blank = groups == ""
    # Keyed only where needed: a split written by prepare has every group, and keying it cost a third of a second.
    if blank.any():
        groups[blank] = prefix + frame.loc[blank, config.TEXT_COLUMN].map(near_duplicate_key).str[:_FILLED_KEY_DIGITS]
    return groups


# How many hex digits of the near-duplicate key name a group filled_groups gives.
_FILLED_KEY_DIGITS = 16


def is_filled_group(group: str, prefix: str) -> bool:
    """Whether `group` is one filled_groups gave (`prefix`, then digits of the key), not a user's ("user-zzz")."""
    return re.fullmatch(re.escape(prefix) + f"[0-9a-f]{{{_FILLED_KEY_DIGITS}}}", group) is not None


def read_splits(paths: tuple[Path, ...]) -> pd.DataFrame:
    """Several splits as one frame, in the order given (see join_splits)."""
    return join_splits([(path, read_split(path)) for path in paths])


def join_splits(splits: list[tuple[Path, pd.DataFrame]]) -> pd.DataFrame:
    """Splits already read, as one frame in the order given; a posting id in two of them is refused (among the
    files that have ids: a user's file may have none)."""
    for path, frame in splits:
        if config.ID_COLUMN in frame:  # an id repeated inside one file was said to be in more than one of them
            _check_ids(frame, str(path))
    frames = [frame for _, frame in splits]
    ids = pd.concat([f[config.ID_COLUMN] for f in frames if config.ID_COLUMN in f] or [pd.Series(dtype=str)])
    repeated = ids[ids.duplicated()]
    if len(repeated):
        paths = ", ".join(str(path) for path, _ in splits)
        raise DataError(f"id {repeated.iloc[0]!r} is in more than one of {paths}: give each split once")
    return pd.concat(frames, ignore_index=True)


def in_scope(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows labelled BPO or KPO: the only ones the BPO/KPO model trains on and is measured on."""
    return frame[frame[config.LABEL_COLUMN].isin(config.LABELS)].reset_index(drop=True)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's texts and labels, in order: identifies exactly what a model was trained on."""
    digest = hashlib.sha256()
    for text, label in zip(frame[config.TEXT_COLUMN], frame[config.LABEL_COLUMN], strict=True):
        digest.update(f"{label}\t{text}\x00".encode())
    return digest.hexdigest()
