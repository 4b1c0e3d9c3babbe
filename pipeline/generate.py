"""Generate labelled job postings, in the forms they take in the wild, from the catalogue."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from pipeline import config
from pipeline.catalogue import Area, Catalogue, Family
from pipeline.phrasing import capitalise, inflect, join_list, sentence, starts_with_verb

# Seniority is drawn from one pool for both labels: the label policy says seniority never changes the class.
SENIORITY_PREFIXES = ("Senior", "Junior", "Lead", "Principal", "Associate", "Trainee", "Graduate", "Entry-Level",
                      "Experienced")  # fmt: skip
SENIORITY_SUFFIXES = (" I", " II", " III", " - Entry Level", " (Mid-Level)", " - 12 Month Contract")
REF_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"
BULLETS = ("- ", "• ", "* ", "– ", "· ", "")
FORM_WEIGHTS = {
    "occupation": 0.14,
    "snippet": 0.16,
    "short_ad": 0.18,
    "listing": 0.14,
    "full_ad": 0.28,
    "agency_ad": 0.10,
}


@dataclass
class Posting:
    """Everything one generated posting is built from, plus the class-neutral text it used."""

    family: Family
    area: Area
    title: str
    company: str
    location: str
    rng: random.Random
    known_verbs: frozenset[str]
    neutral_parts: list[str] = field(default_factory=list)

    # -- drawing material ---------------------------------------------------------------------------------
    def neutral(self, key: str, pool: dict[str, tuple[str, ...]]) -> str:
        """Draw one item from the shared pool, fill its placeholders and remember it as neutral text."""
        template = self.rng.choice(pool[key])
        text = fill(template, self)
        # The title is the role's own signal, not shared material: keep it out of the neutral record.
        self.neutral_parts.append(text.replace(self.title, "").strip() if "{title}" in template else text)
        return text

    def duties(self, count: int, generic: tuple[str, ...]) -> list[str]:
        """Role duties, mostly from the family, some area-wide, an occasional generic office duty."""
        family_share = max(1, round(count * 0.7))
        chosen = sample(self.rng, self.family.duties, family_share)
        chosen += sample(self.rng, self.area.duties, count - family_share)
        if self.rng.random() < 0.3:
            extra = self.rng.choice(generic)
            self.neutral_parts.append(extra)
            chosen.insert(self.rng.randrange(len(chosen) + 1), extra)
        return chosen

    def requirements(self, count: int, generic: tuple[str, ...]) -> list[str]:
        """Requirements, mostly from the family, some area-wide and some generic."""
        family_share = max(1, round(count * 0.6))
        chosen = sample(self.rng, self.family.requirements, family_share)
        chosen += sample(self.rng, self.area.requirements, max(0, count - family_share - 1))
        if self.rng.random() < 0.7:
            extra = self.rng.choice(generic)
            self.neutral_parts.append(extra)
            chosen.append(extra)
        return chosen

    def tools(self, count: int) -> list[str]:
        return sample(self.rng, self.family.tools + self.area.tools, count)

    def inflect(self, duty: str, form: str) -> str:
        return inflect(duty, form, self.known_verbs)


def sample(rng: random.Random, items: tuple[str, ...], count: int) -> list[str]:
    """Draw up to `count` distinct items."""
    return rng.sample(list(items), min(max(count, 0), len(items)))


def fill(template: str, posting: Posting) -> str:
    """Fill the neutral pool's placeholders."""
    rng = posting.rng
    replacements = {
        "{company}": posting.company,
        "{title}": posting.title,
        "{location}": posting.location,
        "{domain}": posting.company.lower().replace(" & ", "").replace(" ", "").replace(",", "") + ".com",
        "{date}": f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.choice((2026, 2027))}",
        "{ref}": f"{rng.choice(REF_LETTERS)}{rng.choice(REF_LETTERS)}-{rng.randint(1000, 99999)}",
    }
    if posting.title[:1] in "AEIOU":
        template = template.replace("a {title}", "an {title}").replace("A {title}", "An {title}")
    for key, value in replacements.items():
        if key in template:
            template = template.replace(key, value)
    return template


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def salary_line(posting: Posting, pool: dict[str, tuple[str, ...]]) -> str:
    """A salary line whose numbers come from one distribution for both labels, so pay never leaks the class."""
    rng = posting.rng
    template = rng.choice(pool["salary_templates"])
    low = rng.randrange(24, 120) * 1000
    high = low + rng.randrange(4, 30) * 1000
    text = template.replace("{low}", f"{low:,}").replace("{high}", f"{high:,}")
    posting.neutral_parts.append(text)
    return text


def indefinite(word: str) -> str:
    """'a' or 'an' by the first letter, which is right for nearly every job title."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def make_title(family: Family, rng: random.Random) -> str:
    """A title from the family, sometimes with a seniority word from the shared pool."""
    title = rng.choice(family.titles)
    roll = rng.random()
    if roll < 0.25:
        title = f"{rng.choice(SENIORITY_PREFIXES)} {title}"
    elif roll < 0.32:
        title += rng.choice(SENIORITY_SUFFIXES)
    return title


def heading(text: str, rng: random.Random) -> str:
    """Headings appear in many casings and markups in real postings."""
    style = rng.randrange(6)
    if style == 0:
        return text.upper()
    if style == 1:
        return text + ":"
    if style == 2:
        return f"**{text}**"
    if style == 3:
        return f"## {text}"
    return text


def bullets(items: list[str], rng: random.Random, verb_form: str = "base", posting: Posting | None = None) -> str:
    """Render items as a bulleted list in a randomly chosen but consistent style."""
    marker = rng.choice(BULLETS)
    numbered = rng.random() < 0.1
    end = "." if rng.random() < 0.4 else ""
    lines = []
    for index, item in enumerate(items, start=1):
        if posting is not None and verb_form != "base":
            item = posting.inflect(item, verb_form)
        prefix = f"{index}. " if numbered else marker
        lines.append(f"{prefix}{capitalise(item)}{end}")
    return "\n".join(lines)


# -- prose frames: each takes the posting and a list of phrases ------------------------------------------------
def duty_prose(posting: Posting, duties: list[str]) -> str:
    """One or two sentences about the duties, in one of many frames."""
    rng = posting.rng
    verbs_ok = all(starts_with_verb(d) for d in duties)
    frames: list[Callable[[], str]] = [
        lambda: f"You will {join_list(duties)}.",
        lambda: f"In this role you'll {join_list(duties)}.",
        lambda: (
            f"Day to day, you will {'; '.join(duties[:-1])}; and {duties[-1]}."
            if len(duties) > 1
            else f"Day to day, you will {duties[0]}."
        ),
        lambda: f"Key tasks: {', '.join(duties)}.",
        lambda: f"Main duties are to {join_list(duties)}.",
        lambda: f"You'll be expected to {join_list(duties, oxford=True)}.",
        lambda: " ".join(sentence(d) for d in duties),
    ]
    if verbs_ok:
        frames += [
            lambda: f"Your responsibilities include {join_list([posting.inflect(d, 'gerund') for d in duties])}.",
            lambda: f"The {posting.title} {join_list([posting.inflect(d, 'third') for d in duties])}.",
            lambda: f"You'll spend your time {join_list([posting.inflect(d, 'gerund') for d in duties])}.",
            lambda: f"This role {join_list([posting.inflect(d, 'third') for d in duties])}.",
        ]
    return rng.choice(frames)()


def requirement_prose(posting: Posting, requirements: list[str]) -> str:
    """One or two sentences about the requirements."""
    rng = posting.rng
    first, rest = requirements[0], requirements[1:]
    frames: list[Callable[[], str]] = [
        lambda: f"You'll need {join_list(requirements)}.",
        lambda: f"We're looking for {join_list(requirements, oxford=True)}.",
        lambda: f"Candidates should have {join_list(requirements)}.",
        lambda: f"Ideally you bring {join_list(requirements)}.",
        lambda: f"Requirements: {'; '.join(requirements)}.",
        lambda: f"Essential: {first}." + (f" Desirable: {join_list(rest)}." if rest else ""),
        lambda: f"To succeed you will have {join_list(requirements)}.",
        lambda: f"What you need: {', '.join(requirements)}.",
    ]
    return rng.choice(frames)()


def tools_sentence(posting: Posting, tools: list[str]) -> str:
    frames = (
        "Experience with {} is a plus.",
        "You will work in {} every day.",
        "Tools: {}.",
        "Our stack includes {}.",
        "Familiarity with {} is expected.",
        "Systems used: {}.",
    )
    conjunction = posting.rng.choice(("and", "or"))
    return posting.rng.choice(frames).format(join_list(tools, conjunction))


def metrics_sentence(posting: Posting) -> str:
    metrics = sample(posting.rng, posting.area.metrics, posting.rng.randint(1, 3))
    frames = (
        "Success is measured by {}.",
        "You'll be measured on {}.",
        "Your targets cover {}.",
        "We track {}.",
        "KPIs include {}.",
    )
    return posting.rng.choice(frames).format(join_list(metrics))


def ways_sentence(posting: Posting) -> str:
    ways = sample(posting.rng, posting.area.ways_of_working, posting.rng.randint(1, 2))
    frames = (
        "The work involves {}.",
        "Expect to spend your time {}.",
        "This means {}.",
        "You'll be {}.",
    )
    return posting.rng.choice(frames).format(join_list(ways))


# -- posting forms -------------------------------------------------------------------------------------------
def form_occupation(posting: Posting, pool: dict) -> str:
    """One or two plain sentences, as in an occupation classification."""
    rng = posting.rng
    duties = sample(rng, posting.family.duties, rng.randint(2, 4))
    verbs_ok = all(starts_with_verb(d) for d in duties)
    third_person_duties = join_list([posting.inflect(d, "third") for d in duties])
    frames: list[Callable[[], str]] = [
        lambda: sentence(join_list(duties)),
        lambda: (
            sentence(duties[0])
            + " May "
            + sentence(join_list(duties[1:])).lower()[:1]
            + sentence(join_list(duties[1:]))[1:]
        ),
        lambda: " ".join(sentence(d) for d in duties),
        lambda: sentence(join_list(duties[:-1]) + "; " + duties[-1]),
    ]
    if verbs_ok:
        frames += [
            lambda: f"{indefinite(posting.title).capitalize()} {posting.title.lower()} {third_person_duties}.",
            lambda: f"{posting.title}: {join_list([posting.inflect(d, 'gerund') for d in duties])}.",
            lambda: f"Workers in this occupation {join_list(duties)}.",
            lambda: f"{posting.title}s {join_list(duties)}.",
        ]
    return rng.choice(frames)()


def form_snippet(posting: Posting, pool: dict) -> str:
    """A two-to-four sentence listing snippet, as shown in search results."""
    rng = posting.rng
    parts = [posting.neutral("intro_lines", pool)]
    parts.append(duty_prose(posting, posting.duties(rng.randint(2, 3), pool["generic_duties"])))
    if rng.random() < 0.6:
        parts.append(requirement_prose(posting, posting.requirements(rng.randint(1, 3), pool["generic_requirements"])))
    if rng.random() < 0.4:
        parts.append(posting.location)
    return " ".join(parts)


def form_short_ad(posting: Posting, pool: dict) -> str:
    """A short ad of a paragraph or two."""
    rng = posting.rng
    parts = [posting.neutral("intro_lines", pool)]
    if rng.random() < 0.5:
        parts.append(posting.neutral("company_blurbs", pool))
    parts.append(duty_prose(posting, posting.duties(rng.randint(3, 5), pool["generic_duties"])))
    if rng.random() < 0.4:
        parts.append(tools_sentence(posting, posting.tools(rng.randint(2, 3))))
    parts.append(requirement_prose(posting, posting.requirements(rng.randint(2, 4), pool["generic_requirements"])))
    if rng.random() < 0.5:
        parts.append(salary_line(posting, pool) + ".")
    if rng.random() < 0.4:
        parts.append(posting.neutral("application_instructions", pool))
    separator = "\n\n" if rng.random() < 0.4 else " "
    return separator.join(parts)


def form_listing(posting: Posting, pool: dict) -> str:
    """A job-board listing: header lines, then bulleted duties and requirements."""
    rng = posting.rng
    lines = [posting.title, f"{posting.company} - {posting.location}"]
    if rng.random() < 0.6:
        lines.append(salary_line(posting, pool))
    if rng.random() < 0.6:
        lines.append(posting.neutral("work_arrangements", pool))
    lines.append("")
    lines.append(heading(fill(rng.choice(pool["heading_duties"]), posting), rng))
    lines.append(bullets(posting.duties(rng.randint(3, 6), pool["generic_duties"]), rng))
    lines.append(heading(fill(rng.choice(pool["heading_requirements"]), posting), rng))
    lines.append(bullets(posting.requirements(rng.randint(2, 5), pool["generic_requirements"]), rng))
    if rng.random() < 0.5:
        lines.append(posting.neutral("recruiter_noise", pool))
    return "\n".join(lines)


def _full_sections(posting: Posting, pool: dict, agency: bool) -> list[str]:
    rng = posting.rng
    about = posting.neutral("company_blurbs", pool)
    if agency:
        about = about.replace(posting.company, "our client", 1)
        about = capitalise(about) if about.startswith("our client") else about
    role = [posting.neutral("intro_lines", pool)]
    if rng.random() < 0.6:
        role.append(duty_prose(posting, posting.duties(rng.randint(1, 2), pool["generic_duties"])))
    if rng.random() < 0.5:
        role.append(ways_sentence(posting))
    if rng.random() < 0.4:
        role.append(posting.neutral("delivery_lines", pool))
    if rng.random() < 0.4:
        role.append(metrics_sentence(posting))

    duties = posting.duties(rng.randint(4, 8), pool["generic_duties"])
    prose = rng.random() < 0.3
    duty_block = (
        duty_prose(posting, duties) if prose else bullets(duties, rng, rng.choice(("base", "base", "gerund")), posting)
    )
    requirements = posting.requirements(rng.randint(3, 7), pool["generic_requirements"])
    requirement_block = requirement_prose(posting, requirements) if prose else bullets(requirements, rng)
    if rng.random() < 0.6:
        requirement_block += "\n" + tools_sentence(posting, posting.tools(rng.randint(2, 4)))

    benefits = sample(rng, pool["benefits"], rng.randint(2, 6))
    posting.neutral_parts.extend(benefits)
    benefit_block = bullets(benefits, rng)
    if rng.random() < 0.7:
        benefit_block = salary_line(posting, pool) + "\n" + benefit_block
    if rng.random() < 0.5:
        benefit_block += "\n" + posting.neutral("work_arrangements", pool)

    sections = []

    def add(key: str, body: str) -> None:
        if rng.random() < 0.85:
            sections.append(heading(fill(rng.choice(pool[key]), posting), rng) + "\n" + body)
        else:
            sections.append(body)

    if not agency and rng.random() < 0.3:
        add("heading_role", " ".join(role))
        add("heading_about", about)
    else:
        add("heading_about", about)
        add("heading_role", " ".join(role))
    add("heading_duties", duty_block)
    add("heading_requirements", requirement_block)
    add("heading_benefits", benefit_block)
    tail = []
    if rng.random() < 0.6:
        tail.append(posting.neutral("eeo_statements", pool))
    if rng.random() < 0.7:
        tail.append(posting.neutral("application_instructions", pool))
    if rng.random() < 0.5:
        tail.append(posting.neutral("closing_lines", pool))
    if tail:
        sections.append("\n".join(tail))
    return sections


def form_full_ad(posting: Posting, pool: dict) -> str:
    """A full ad with sections: about us, the role, duties, requirements, benefits, how to apply."""
    rng = posting.rng
    header = [posting.title]
    if rng.random() < 0.5:
        header.append(posting.location)
    if rng.random() < 0.3:
        header.insert(0, posting.neutral("recruiter_noise", pool))
    sections = _full_sections(posting, pool, agency=False)
    if rng.random() < 0.4:
        sections.append(posting.neutral("recruiter_noise", pool))
    return "\n".join(header) + "\n\n" + "\n\n".join(sections)


def form_agency_ad(posting: Posting, pool: dict) -> str:
    """A recruitment agency's ad for a client, with the agency's noise around it."""
    rng = posting.rng
    header = f"{posting.title} | {posting.location}"
    sections = _full_sections(posting, pool, agency=True)
    sections.append(posting.neutral("recruiter_noise", pool))
    if rng.random() < 0.5:
        sections.append(posting.neutral("recruiter_noise", pool))
    return header + "\n\n" + "\n\n".join(sections)


FORMS: dict[str, Callable[[Posting, dict], str]] = {
    "occupation": form_occupation,
    "snippet": form_snippet,
    "short_ad": form_short_ad,
    "listing": form_listing,
    "full_ad": form_full_ad,
    "agency_ad": form_agency_ad,
}


def known_verbs(catalogue: Catalogue) -> frozenset[str]:
    """Every first word of a duty phrase: the verbs the inflector may change after 'and'."""
    duties = [d for a in catalogue.areas for d in a.duties] + [d for f in catalogue.families for d in f.duties]
    duties += list(catalogue.neutral["generic_duties"])
    return frozenset(d.split(" ", 1)[0] for d in duties if starts_with_verb(d))


def generate_postings(
    catalogue: Catalogue,
    n_postings: int,
    seed: int,
    borderline_share: float = config.PREPARE.borderline_share,
    with_neutral: bool = False,
) -> pd.DataFrame:
    """Generate `n_postings` labelled postings, half of each class, deterministically for `seed`.

    Areas are drawn uniformly within a class, then families within the area, so a class with many families in
    one area does not drown the others; `borderline_share` of postings come from grey-zone families.
    """
    rng = random.Random(seed)
    pool = catalogue.neutral
    verbs = known_verbs(catalogue)
    forms, weights = zip(*FORM_WEIGHTS.items(), strict=True)
    by_label = {label: [a for a in catalogue.areas if a.label == label] for label in config.LABELS}
    borderline = {
        label: [f for f in catalogue.families if f.label == label and f.borderline] for label in config.LABELS
    }
    rows = []
    for index in range(n_postings):
        label = config.LABELS[index % len(config.LABELS)]
        if borderline[label] and rng.random() < borderline_share:
            family = rng.choice(borderline[label])
            area = catalogue.area(family.area)
        else:
            area = rng.choice(by_label[label])
            clear = [f for f in area.families if not f.borderline] or list(area.families)
            family = rng.choice(clear)
        posting = Posting(
            family=family,
            area=area,
            title=make_title(family, rng),
            company=rng.choice(pool["companies"]),
            location=rng.choice(pool["locations"]),
            rng=rng,
            known_verbs=verbs,
        )
        form = rng.choices(forms, weights)[0]
        text = FORMS[form](posting, pool)
        row = {
            config.ID_COLUMN: f"syn-{seed}-{index:06d}",
            config.TEXT_COLUMN: text,
            config.LABEL_COLUMN: label,
            config.GROUP_COLUMN: family.family,
            config.AREA_COLUMN: area.area,
            config.FAMILY_COLUMN: family.family,
            config.TITLE_COLUMN: posting.title,
            config.FORM_COLUMN: form,
            config.BORDERLINE_COLUMN: family.borderline,
            config.SOURCE_COLUMN: config.SOURCE_SYNTHETIC,
        }
        if with_neutral:
            row["neutral_text"] = "\n".join(posting.neutral_parts)
        rows.append(row)
    return pd.DataFrame(rows)
