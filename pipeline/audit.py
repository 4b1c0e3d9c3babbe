"""Shortcut audit: words and bigrams tied to one class that are not function terms of the reviewed lexicon."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config
from pipeline.errors import DataError
from pipeline.files import read_json


@dataclass(frozen=True)
class Lexicon:
    """The reviewed function terms: each word or word pair names the policy bullet it is evidence of."""

    bullets: dict[str, str]
    terms: dict[str, str]  # term -> bullet id
    # Ordinary words the catalogue's role phrases still tie to one class: the model does not read them.
    masked: frozenset[str] = frozenset()

    def bullet_of(self, feature: str) -> str | None:
        """The bullet a feature belongs to: the feature itself, else its longest listed run of words."""
        if feature in self.terms:
            return self.terms[feature]
        words = feature.split()
        # An n-gram carries function when any listed word or word pair inside it does ("inbound calls").
        for size in (2, 1):
            for start in range(len(words) - size + 1):
                bullet = self.terms.get(" ".join(words[start : start + size]))
                if bullet:
                    return bullet
        return None

    def is_function_term(self, feature: str) -> bool:
        return self.bullet_of(feature) is not None

    def mentions_function(self, text: str, analyse) -> bool:
        """True when any word or word pair of a text is a function term (`analyse` is the model's tokenizer)."""
        tokens = analyse(text)
        return any(t in self.terms for t in tokens) or any(f"{a} {b}" in self.terms for a, b in pairwise(tokens))


def parse_lexicon(data: dict, where: str) -> Lexicon:
    """Check the lexicon's schema: bullets, terms under known bullets, no term twice, no ordinary word listed."""
    bullets = data.get("bullets")
    terms = data.get("terms")
    if not isinstance(bullets, dict) or not isinstance(terms, dict):
        raise DataError(f"{where}: needs 'bullets' and 'terms' objects")
    ordinary = {str(w).lower() for w in data.get("never", [])}
    flat: dict[str, str] = {}
    for bullet, words in terms.items():
        if bullet not in bullets:
            raise DataError(f"{where}: terms listed under unknown bullet {bullet!r}; add it to 'bullets'")
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise DataError(f"{where}: terms of {bullet!r} must be a list of non-empty strings")
        for word in words:
            term = " ".join(word.lower().split())
            if term in flat and flat[term] != bullet:
                raise DataError(f"{where}: {term!r} is listed under both {flat[term]!r} and {bullet!r}")
            if term in ordinary:
                raise DataError(f"{where}: {term!r} is an ordinary job-ad word and may not be a function term")
            flat[term] = bullet
    masked = frozenset(str(w).lower() for w in data.get("masked", []))
    both = sorted(masked & set(flat))
    if both:
        raise DataError(f"{where}: function terms may not be masked: {', '.join(both[:10])}")
    return Lexicon(bullets={str(k): str(v) for k, v in bullets.items()}, terms=flat, masked=masked)


def load_lexicon(path: Path = config.FUNCTION_TERMS_PATH) -> Lexicon:
    return parse_lexicon(read_json(path, "function-term lexicon"), str(path))


def analyser(masked: frozenset[str] = frozenset(), ngram_max: int = 1):
    """The model's own tokenizer (lower case, accents stripped, stop and masked words out), n-grams to ngram_max."""
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.model import stop_word_list

    return CountVectorizer(
        ngram_range=(1, ngram_max), stop_words=stop_word_list(masked=masked), strip_accents="unicode", lowercase=True
    ).build_analyzer()


def class_frequencies(
    texts: list[str], labels: list[str], masked: frozenset[str] = frozenset(), ngram_max: int = 2, min_df: int = 2
) -> pd.DataFrame:
    """Document frequency of every word and n-gram in each class, with the smoothed ratio between the classes.

    The ratio adds one posting to each class, so a feature seen only in one class has a finite ratio that still
    grows with its frequency there.
    """
    vectorizer = _presence_counter(masked, ngram_max, min_df=min_df)
    return _frequencies(vectorizer, vectorizer.fit_transform(texts), labels)


def _frequencies(vectorizer, matrix, labels: list[str]) -> pd.DataFrame:
    """class_frequencies of a posting-by-feature presence `matrix` whose columns `vectorizer` names."""
    is_kpo = np.asarray(labels) == config.KPO
    n_kpo, n_bpo = int(is_kpo.sum()), int((~is_kpo).sum())
    if not n_kpo or not n_bpo:
        raise DataError("the shortcut audit needs postings of both classes")
    df_kpo = np.asarray(matrix[is_kpo].sum(axis=0)).ravel()
    df_bpo = np.asarray(matrix[~is_kpo].sum(axis=0)).ravel()
    smoothed_kpo, smoothed_bpo = (df_kpo + 1) / (n_kpo + 1), (df_bpo + 1) / (n_bpo + 1)
    return pd.DataFrame(
        {
            "feature": vectorizer.get_feature_names_out(),
            "df_BPO": df_bpo,
            "df_KPO": df_kpo,
            "share_BPO": df_bpo / n_bpo,
            "share_KPO": df_kpo / n_kpo,
            "ratio": smoothed_ratio(df_kpo, n_kpo, df_bpo, n_bpo),
            "ratio_low95": ratio_lower_bound(df_kpo, n_kpo, df_bpo, n_bpo),
            "toward": np.where(smoothed_kpo >= smoothed_bpo, config.KPO, config.BPO),
        }
    )


def _presence_counter(masked: frozenset[str], ngram_max: int, min_df: int = 1, vocabulary=None):
    """A vectorizer that marks which words and n-grams a posting has, with the model's own tokenizer."""
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.model import stop_word_list

    return CountVectorizer(
        binary=True, ngram_range=(1, ngram_max), min_df=min_df, stop_words=stop_word_list(masked=masked),
        strip_accents="unicode", lowercase=True, dtype=np.int32, vocabulary=vocabulary,
    )  # fmt: skip


def smoothed_ratio(df_a: np.ndarray, n_a: int, df_b: np.ndarray, n_b: int) -> np.ndarray:
    """How many times more often a feature occurs in one class's postings than in the other's (the larger way),
    each class's share smoothed by one posting, so a feature seen in one class only has a finite ratio."""
    share_a, share_b = (np.asarray(df_a) + 1) / (n_a + 1), (np.asarray(df_b) + 1) / (n_b + 1)
    return np.maximum(share_a / share_b, share_b / share_a)


def ratio_lower_bound(df_a: np.ndarray, n_a: int, df_b: np.ndarray, n_b: int) -> np.ndarray:
    """The lower end of a 95% interval for smoothed_ratio, from the usual normal interval of a log ratio of two
    shares: on a few hundred postings a ratio over 3 is often chance, which a ratio alone cannot say."""
    counts_a, counts_b = np.asarray(df_a) + 1.0, np.asarray(df_b) + 1.0
    spread = np.sqrt(1 / counts_a - 1 / (n_a + 1) + 1 / counts_b - 1 / (n_b + 1))
    return smoothed_ratio(df_a, n_a, df_b, n_b) * np.exp(-1.96 * spread)


def class_ratio(features, is_positive: np.ndarray) -> np.ndarray:
    """smoothed_ratio of every column of a posting-by-feature matrix (sparse or dense) between the classes."""
    is_positive = np.asarray(is_positive, dtype=bool)
    present = features > 0
    return smoothed_ratio(
        np.asarray(present[is_positive].sum(axis=0)).ravel(),
        int(is_positive.sum()),
        np.asarray(present[~is_positive].sum(axis=0)).ravel(),
        int((~is_positive).sum()),
    )


def skewed_features(
    frequencies: pd.DataFrame,
    lexicon: Lexicon,
    min_share: float = config.AUDIT.min_share,
    max_ratio: float = config.AUDIT.max_ratio,
    min_count: int = config.AUDIT.min_count,
) -> pd.DataFrame:
    """Features common in one class (share >= min_share, and min_count postings) whose ratio exceeds max_ratio,
    most frequent first."""
    common = (frequencies[["share_BPO", "share_KPO"]].max(axis=1) >= min_share) & (
        frequencies[["df_BPO", "df_KPO"]].max(axis=1) >= min_count
    )
    skewed = frequencies[common & (frequencies["ratio"] > max_ratio)].copy()
    skewed["bullet"] = skewed["feature"].map(lambda f: lexicon.bullet_of(f) or "")
    skewed["share"] = skewed[["share_BPO", "share_KPO"]].max(axis=1)
    return skewed.sort_values(["share", "feature"], ascending=[False, True]).reset_index(drop=True)


def audit_data(frequencies: pd.DataFrame, lexicon: Lexicon, params: config.AuditParams = config.AUDIT) -> dict:
    """The data audit: every common skewed feature must be a function term; the rest are shortcuts."""
    skewed, shortcuts = _skewed_and_shortcuts(
        frequencies, lexicon, params.min_share, params.max_ratio, params.min_count
    )
    return {
        "min_share": params.min_share,
        "max_ratio": params.max_ratio,
        "features_checked": int((frequencies[["share_BPO", "share_KPO"]].max(axis=1) >= params.min_share).sum()),
        "skewed_function_terms": int((skewed["bullet"] != "").sum()),
        "shortcuts": _records(shortcuts.head(params.report_rows)),
        "n_shortcuts": len(shortcuts),
        "most_skewed": _records(skewed.head(params.report_rows)),
    }


def audit_user_postings(brought: pd.DataFrame, postings: int, params: config.AuditParams = config.AUDIT) -> dict:
    """The audit of users' own `postings`: the words and bigrams they bring (`brought`, from features_brought),
    and those of them that tie one class.

    Among thousands of generated postings, a habit of a user's postings (a company name, a template's boilerplate)
    stays under the data audit's share, yet the model can learn it: "acme" in 50 KPO postings and no BPO one is a
    KPO word to it. A feature counts as the user's when at least `user_min_count` of their postings and at least
    half of all the postings that use it are theirs; it ties one class when, over the whole training data
    (`frequencies`), its ratio is above max_ratio and it is no function term. The ratio, not its interval: the model
    learns from the postings it has, whether or not chance wrote the habit into them.
    """
    shortcuts = brought[(brought["bullet"] == "") & (brought["ratio"] > params.max_ratio)]
    shortcuts = shortcuts.sort_values(["df_user", "feature"], ascending=[False, True])
    return {
        "postings": postings,
        "user_min_count": params.user_min_count,
        "max_ratio": params.max_ratio,
        "features_brought": len(brought),
        "shortcuts": _records(shortcuts.head(params.report_rows)),
        "n_shortcuts": len(shortcuts),
    }


def features_brought(
    frequencies: pd.DataFrame,
    user_texts: list[str],
    lexicon: Lexicon,
    min_count: int = config.AUDIT.user_min_count,
    ngram_max: int = 2,
) -> pd.DataFrame:
    """The rows of `frequencies` that users' postings bring (in at least `min_count` of them, and at least half of
    all the postings that use one), with how many of theirs use each (`df_user`) and its lexicon bullet. Limits are
    passed one by one: make reruns a stage when a parameter it reads changes, and a group passed whole reads all."""
    vectorizer = _presence_counter(lexicon.masked, ngram_max, vocabulary=frequencies["feature"].tolist())
    in_user = np.asarray(vectorizer.transform(user_texts).sum(axis=0)).ravel()
    in_all = frequencies["df_BPO"].to_numpy() + frequencies["df_KPO"].to_numpy()
    theirs = (in_user >= min_count) & (2 * in_user >= in_all)
    brought = frequencies[theirs].assign(df_user=in_user[theirs])
    return brought.assign(bullet=brought["feature"].map(lambda f: lexicon.bullet_of(f) or ""))


def shortcut_features(
    frequencies: pd.DataFrame, lexicon: Lexicon, params: config.AuditParams = config.AUDIT
) -> list[str]:
    """Every shortcut of the data audit, in its order: the audit's own record lists the first `report_rows`."""
    shortcuts = _skewed_and_shortcuts(frequencies, lexicon, params.min_share, params.max_ratio, params.min_count)[1]
    return shortcuts["feature"].tolist()


def _skewed_and_shortcuts(
    frequencies: pd.DataFrame, lexicon: Lexicon, min_share: float, max_ratio: float, min_count: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The common skewed features, and those of them that are no function term: the shortcuts. The limits are
    passed one by one, as make reads which parameters a stage depends on from the calls."""
    skewed = skewed_features(frequencies, lexicon, min_share, max_ratio, min_count)
    return skewed, skewed[skewed["bullet"] == ""]


def format_user_audit(result: dict, folder: Path) -> str:
    """One line for prepare: what the audit of the user's postings checked and found."""
    return (
        f"audit of your postings in {folder}: {result['features_brought']:,} words and bigrams come mostly from "
        f"them (in at least {result['user_min_count']} of them, and half of all the postings that use one); "
        f"{result['n_shortcuts']} tie one class (ratio > {result['max_ratio']:g}) without being function terms"
    )


# What to do about words that postings tie to one class, whether the data audit or the model's finds them.
_TAKE_OUT_A_HABIT = (
    "take out a habit of your postings (a company name, a template's boilerplate) or write postings of the other "
    "class that use it"
)
SHORTCUT_ADVICE = (
    f"The model can learn them in place of the work: {_TAKE_OUT_A_HABIT}; if one names a function, list it in "
    f"{config.FUNCTION_TERMS_PATH.name}"
)


def user_shortcut_message(result: dict, folder: Path, rows: int = 8) -> str:
    """The warning that names the words the user's postings tie to one class, and what to do about them."""
    names = ", ".join(
        f"{r['feature']!r} ({r['toward']} x{r['ratio']:.1f}, in {r['df_user']} of yours)"
        for r in result["shortcuts"][:rows]
    )
    more = f" and {result['n_shortcuts'] - rows} more" if result["n_shortcuts"] > rows else ""
    return (
        f"your postings in {folder} tie {result['n_shortcuts']} words or bigrams to one class without their being "
        f"function terms: {names}{more}. {SHORTCUT_ADVICE}"
    )


def audit_weights(
    features: np.ndarray,
    weights: np.ndarray,
    frequencies: pd.DataFrame,
    lexicon: Lexicon,
    params: config.AuditParams = config.AUDIT,
) -> dict:
    """The model audit: among the heaviest features, none may be a non-lexicon word with a ratio above max_ratio.

    Features of the model that the frequency table lacks (rarer n-grams) are judged by the lexicon alone.
    """
    order = np.argsort(-np.abs(weights))[: params.model_top_k]
    ratio, low, toward = (
        dict(zip(frequencies["feature"], frequencies[c], strict=True)) for c in ("ratio", "ratio_low95", "toward")
    )
    heaviest = pd.DataFrame(
        {
            "feature": features[order].astype(str),
            "weight": np.round(weights[order].astype(float), 4),
            "ratio": [round(float(ratio.get(f, np.nan)), 2) for f in features[order]],
            "ratio_low95": [round(float(low.get(f, np.nan)), 2) for f in features[order]],
            # The class the feature is more frequent in, which the weight's sign need not be (a word shared with
            # a bigram that carries the class).
            "toward": [str(toward.get(f, "")) for f in features[order]],
        }
    )
    heaviest["bullet"] = heaviest["feature"].map(lambda f: lexicon.bullet_of(f) or "")
    shortcuts = heaviest[(heaviest["bullet"] == "") & (heaviest["ratio"] > params.max_ratio)]
    return {
        "top_k": min(params.model_top_k, len(features)),
        "function_terms_in_top_k": int((heaviest["bullet"] != "").sum()),
        "shortcuts": _records(shortcuts),
        "n_shortcuts": len(shortcuts),
    }


def audit_pipeline(pipeline, train: pd.DataFrame, lexicon: Lexicon, params: config.AuditParams = config.AUDIT) -> dict:
    """The model audit (audit_weights) of a fitted BPO/KPO Pipeline, against the class frequencies of its BPO/KPO
    training rows `train`, counted with the Pipeline's own tokenizer: counted with the default stop words, a model
    trained to read them (--stop-words none) had its stop-word shortcuts counted in neither class. Only the
    heaviest features are counted: under half the time of counting every n-gram, for the same verdict."""
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.model import pipeline_parts, weights_toward

    features, weights = weights_toward(pipeline, config.POSITIVE_LABEL)
    heaviest = features[np.argsort(-np.abs(weights))[: params.model_top_k]].astype(str).tolist()
    counter = CountVectorizer(
        analyzer=pipeline_parts(pipeline)[0].build_analyzer(), vocabulary=heaviest, binary=True, dtype=np.int32
    )
    frequencies = _frequencies(
        counter, counter.transform(train[config.TEXT_COLUMN].tolist()), train[config.LABEL_COLUMN].tolist()
    )
    return audit_weights(features, weights, frequencies, lexicon, params)


def beyond_chance(result: dict, params: config.AuditParams = config.AUDIT) -> list[dict]:
    """The shortcuts of a model audit whose ratio's 95% interval lies above the limit. On a few hundred postings
    words tie one class by chance, and train's warning would list dozens that more postings would untie."""
    return [record for record in result["shortcuts"] if record["ratio_low95"] > params.max_ratio]


def model_shortcut_message(shortcuts: list[dict], top_k: int, rows: int = 8) -> str:
    """train's warning naming the heaviest features of the model it fitted that tie one class of its data."""
    names = ", ".join(
        f"{r['feature']!r} ({r['toward']} x{r['ratio']:.1f}, weight {r['weight']:+.2f})" for r in shortcuts[:rows]
    )
    more = f" and {len(shortcuts) - rows} more" if len(shortcuts) > rows else ""
    return (
        f"{len(shortcuts)} of the model's {top_k} heaviest features tie one class of its training data beyond chance "
        f"without being function terms: {names}{more}. {SHORTCUT_ADVICE}"
    )


def suggest_masks(
    texts: list[str], labels: list[str], lexicon: Lexicon, params: config.AuditParams = config.AUDIT, rounds: int = 20
) -> list[str]:
    """Ordinary words to mask until the audit passes: each shortcut word, and the more skewed word of each
    shortcut bigram. A maintainer reviews the list before it goes into the lexicon file; prepare never masks
    by itself, so a new shortcut always stops it. A listed word pair with a masked word no longer forms."""
    masked = set(lexicon.masked)
    for _ in range(rounds):
        frequencies = class_frequencies(texts, labels, frozenset(masked))
        shortcuts = skewed_features(frequencies, lexicon, params.min_share, params.max_ratio, params.min_count)
        shortcuts = shortcuts[shortcuts["bullet"] == ""]
        if shortcuts.empty:
            break
        ratio = dict(zip(frequencies["feature"], frequencies["ratio"], strict=True))
        for feature in shortcuts["feature"]:
            words = [w for w in feature.split() if w not in lexicon.terms]
            if words:
                masked.add(max(words, key=lambda w: ratio.get(w, 0.0)))
    return sorted(masked - set(lexicon.masked))


def format_data_audit(result: dict, rows: int = 15) -> str:
    """The audit as text: counts, the most skewed features, and any shortcut."""
    lines = [
        f"shortcut audit: {result['features_checked']:,} words and bigrams in at least "
        f"{result['min_share']:.0%} of a class's postings; {result['skewed_function_terms']} skewed function terms "
        f"(ratio > {result['max_ratio']:g}), {result['n_shortcuts']} skewed non-lexicon features",
        f"  {'feature':28} {'BPO':>7} {'KPO':>7} {'ratio':>7}  lexicon bullet",
    ]
    for row in result["most_skewed"][:rows]:
        lines.append(
            f"  {row['feature'][:28]:28} {row['share_BPO']:7.1%} {row['share_KPO']:7.1%} {row['ratio']:7.1f}  "
            f"{row['bullet'] or 'NOT A FUNCTION TERM'}"
        )
    return "\n".join(lines)


def shortcut_message(
    result: dict,
    rows: int = 8,
    shortcuts: list[str] | None = None,
    yours: frozenset[str] = frozenset(),
    folder: Path | None = None,
    allowed: bool = False,
) -> str:
    """One line naming the shortcuts, for the error that stops prepare, or, `allowed` (--allow-shortcuts), the
    warning that reports them. Of every shortcut (`shortcuts`; the result lists the first few), those that users'
    own postings in `folder` bring (`yours`) are named as theirs, with what to do about them."""
    names = ", ".join(f"{r['feature']!r} ({r['toward']} x{r['ratio']:.1f})" for r in result["shortcuts"][:rows])
    more = f" and {result['n_shortcuts'] - rows} more" if result["n_shortcuts"] > rows else ""
    count = result["n_shortcuts"]
    these = "words or bigrams tie" if count != 1 else "word or bigram ties"
    message = f"shortcut audit {'found' if allowed else 'failed'}: {count} {these} one class without being "
    message += f"{'function terms' if count != 1 else 'a function term'}: {names}{more}"
    every = shortcuts if shortcuts is not None else [record["feature"] for record in result["shortcuts"]]
    theirs = [feature for feature in every if feature in yours]
    if theirs:
        # They were sent to the generator's pools, which cannot balance a habit of the user's own postings.
        named = ", ".join(map(repr, theirs[:rows])) + (", ..." if len(theirs) > rows else "")
        verb = "come" if len(theirs) > 1 else "comes"
        message += (
            f". {len(theirs)} of them {verb} mostly from your postings in {folder} ({named}): {_TAKE_OUT_A_HABIT}"
        )
    if len(theirs) < count:
        message += (
            f". Balance {'the others' if theirs else 'them'} through the shared pools in "
            f"{config.REGISTER_POOL_PATH.name}"
        )
    message += f"; if one names a function, list it in {config.FUNCTION_TERMS_PATH.name}"
    # Every ratio within chance of the limit: a small sample (prepare --n-postings 300) more likely than the pools.
    if all(record["ratio_low95"] <= result["max_ratio"] for record in result["shortcuts"]):
        message += (
            f". On this many postings chance alone could give these ratios (their 95% intervals reach below "
            f"{result['max_ratio']:g}): more postings (--n-postings) tell"
        )
    # Told to the user who has not passed it; the warning it gives is not told to pass it again.
    return message if allowed else message + "; --allow-shortcuts reports them without stopping"


def _records(frame: pd.DataFrame) -> list[dict]:
    records = []
    for row in frame.to_dict("records"):
        records.append(
            {k: (round(float(v), 4) if isinstance(v, float | np.floating) else _plain(v)) for k, v in row.items()}
        )
    return records


def _plain(value):
    return int(value) if isinstance(value, np.integer) else value
