"""Generate labelled job postings, in the forms they take in the wild, from the catalogue."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from pipeline import config
from pipeline.catalogue import Area, Catalogue, Family, Rate, Region
from pipeline.material import FamilyMaterial, SharedMaterial, build_material
from pipeline.phrasing import (
    capitalise,
    indefinite,
    inflect,
    join_list,
    regional_record_check,
    regional_spelling,
    regional_vocational_qualification,
    sentence,
    starts_with_verb,
)

# Seniority is drawn from one pool for both labels: the label policy says seniority never changes the class.
# Every catalogue title names a person, so neither pool holds "Head of" or " Manager" ("Head of Billing
# Administrator"). "Interim" and " IV" took their places, where they sort, so that no other draw moved.
SENIORITY_PREFIXES = {
    "Senior": "senior", "Lead": "senior", "Principal": "senior", "Interim": "senior", "Experienced": "mid",
    "Junior": "junior", "Associate": "junior", "Trainee": "junior", "Graduate": "junior", "Entry-Level": "junior",
}  # fmt: skip
SENIORITY_SUFFIXES = {" I": "junior", " II": "mid", " III": "senior", " - Entry Level": "junior",
                      " (Mid-Level)": "mid", " - 12 Month Contract": "mid", " IV": "senior"}  # fmt: skip
REF_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"
BULLETS = ("- ", "• ", "* ", "– ", "· ", "")
FORM_WEIGHTS = {
    "occupation": 0.08,
    "occupation_profile": 0.08,
    "snippet": 0.12,
    "short_ad": 0.13,
    "listing": 0.10,
    "full_ad": 0.16,
    "careers_page": 0.13,
    "agency_ad": 0.08,
    "outsourcing_ad": 0.07,
    "feed": 0.05,
}
# Share of a posting's duties and requirements drawn from its own family; the rest come from the shared pools,
# the same for both classes, as real ads mix role-specific lines with generic ones.
FAMILY_DUTY_SHARE = 0.65
FAMILY_REQUIREMENT_SHARE = 0.45
# How often the header and body name the job: often they do not.
TITLE_SHOWN = 0.7
# Chance that each shared register block joins a posting that has room for it; one rate for both classes.
REGISTER_RATE = 0.4
# Chance that a company blurb goes on to say where the job is based; one rate for every class.
WORKPLACE_RATE = 0.4
# Chance that a posting's requirements open with a check, a licence or a site rule; one rate for every class.
PRACTICAL_RATE = 0.3
# Chance that a posting in a region whose ads quote hourly rates gives its pay by the hour; one rate for every
# class and seniority, as contractors and temps are hired to analyse as well as to answer calls.
HOURLY_PAY_SHARE = 0.2
# A line that speaks for a client ("our client is...", "on behalf of...") belongs to an agency's ad only; "our
# clients", the employer's own customers, fits any posting.
_SPEAKS_FOR_A_CLIENT = re.compile(r"\bour client\b(?!s)|\bon behalf of\b", re.IGNORECASE)


@dataclass
class Posting:
    """Everything one generated posting is built from, plus the class-neutral text it used."""

    family: Family
    area: Area
    own: FamilyMaterial
    shared: SharedMaterial
    catalogue: Catalogue
    title: str
    seniority: str
    company: str
    industry: str
    region: Region
    location: str
    rng: random.Random
    known_verbs: frozenset[str]
    # Draws of where the job is based, on a stream of their own: adding that line leaves the rest of every posting
    # as it was, so its effect can be measured on the same postings.
    workplace_rng: random.Random
    # The same for a check, a licence or a site rule among the requirements.
    practical_rng: random.Random
    # The same for pay quoted by the hour instead of a salary.
    pay_rng: random.Random
    title_shown: bool = True
    practical_drawn: bool = False
    neutral_parts: list[str] = field(default_factory=list)

    # -- drawing material ---------------------------------------------------------------------------------
    def neutral(self, key: str, pool: dict[str, tuple[str, ...]] | None = None, agency: bool = False) -> str:
        """Draw one item from a shared list, fill its placeholders and remember it as neutral text.

        "Our client" belongs to agency ads only, and a line naming the title only to postings that show it.
        """
        items = (pool or self.catalogue.neutral)[key]
        choices = [i for i in items if agency or "our client" not in i.lower()]
        if not self.title_shown:
            choices = [i for i in choices if "{title}" not in i] or choices
        template = self.rng.choice(choices or list(items))
        return self.remember(fill(template, self), template)

    def remember(self, text: str, template: str = "") -> str:
        # The title is the role's own signal, not shared material: keep it out of the neutral record.
        self.neutral_parts.append(text.replace(self.title, "").strip() if "{title}" in template else text)
        return text

    def register(self, key: str) -> str:
        """One item of the shared register pools."""
        return self.remember(fill(self.rng.choice(self.catalogue.register.lists[key]), self))

    def blurb(self, agency: bool = False) -> str:
        """A company blurb from the employer's own industry, so the framing fits the role; a staffing firm's blurb
        that speaks for a client only in an agency's ad; sometimes where the job is based."""
        pool = self.catalogue.register.company_blurbs[self.industry]
        template = self.rng.choice(pool)
        if not agency and _SPEAKS_FOR_A_CLIENT.search(template):
            # Move on to the next blurb rather than draw again from a smaller pool: the draw stays one draw from
            # the whole pool, so fixing a few postings' framing leaves every other posting as it was.
            start = pool.index(template)
            following = [*pool[start:], *pool[:start]]
            template = next((b for b in following if not _SPEAKS_FOR_A_CLIENT.search(b)), template)
        text = fill(template, self)
        if agency:
            text = capitalise(text.replace(self.company, "our client", 1))
        if not agency and self.workplace_rng.random() < WORKPLACE_RATE:
            # Where the job is based follows the employer, not the role: a plant, a depot or a hospital site is as
            # likely in an analyst's or a clerk's posting as in a cleaner's, so the setting tells nothing of scope.
            # An agency speaks for its client and says "our" of itself, so its ads leave the line out.
            text += self.workplace()
        return self.remember(text)

    def workplace(self) -> str:
        """A line on where the job is based, from the employer's industry; a remote job names no place."""
        lines = self.catalogue.register.workplaces[self.industry]
        if self.remote:
            lines = tuple(line for line in lines if "{location}" not in line)
        return " " + self.workplace_rng.choice(lines).replace("{location}", self.location) if lines else ""

    def practical_requirement(self) -> list[str]:
        """Once a posting at most: a background check, a driving licence or a site rule in the region's words.

        Ads in and out of scope ask for these alike (the analyst who visits plants needs boots, the payroll clerk
        at a hospital a DBS check), so a licence or a check tells nothing of scope. A remote job asks only checks.
        """
        if self.practical_drawn:
            return []
        self.practical_drawn = True
        if self.practical_rng.random() >= PRACTICAL_RATE:
            return []
        local = self.catalogue.register.local_requirements[self.region.region]
        lines = list(local["checks"])
        if not self.remote:
            lines += [*local["travel"], *self.catalogue.register.lists["practical_requirements"]]
        return [self.remember(self.practical_rng.choice(lines))]

    @property
    def remote(self) -> bool:
        return self.location.lower().startswith("remote")

    def shared_items(self, items: tuple[str, ...], count: int) -> list[str]:
        chosen = sample(self.rng, items, count)
        self.neutral_parts.extend(chosen)
        return chosen

    def duties(self, count: int) -> list[str]:
        """Role duties, mostly from the family, some area-wide, the rest shared by both classes."""
        own_count = max(1, round(count * FAMILY_DUTY_SHARE))
        family_count = max(1, round(own_count * 0.75))
        chosen = sample(self.rng, self.own.duties, family_count)
        chosen += sample(self.rng, self.own.area_duties, own_count - len(chosen))
        shared = self.shared_items(self.shared.duties, count - len(chosen))
        return _interleave(chosen, shared, self.rng)

    def requirements(self, count: int, employer_asks: bool = True) -> list[str]:
        """Requirements: some the role's own, the rest from the shared pools (degrees, years, soft skills); where
        an employer asks (`employer_asks`), sometimes a check, a licence or a site rule first, as a must-have."""
        own_count = min(len(self.own.requirements), max(1, round(count * FAMILY_REQUIREMENT_SHARE)))
        chosen = sample(self.rng, self.own.requirements, own_count)
        pool = self.shared.requirements + self.catalogue.register.lists["qualification_items"]
        shared = [fill(item, self) for item in self.shared_items(pool, count - len(chosen))]
        practical = self.practical_requirement() if employer_asks else []
        return practical + _interleave(chosen, shared, self.rng)

    def tools(self, count: int) -> list[str]:
        own = sample(self.rng, self.own.tools, count)
        if self.rng.random() < 0.5:
            own += self.shared_items(self.shared.tools, 1)
        return own

    def inflect(self, duty: str, form: str) -> str:
        return inflect(duty, form, self.known_verbs)

    @property
    def role_name(self) -> str:
        """How the body refers to the job: by its title, or generically when the posting does not name it."""
        return self.title if self.title_shown else self.rng.choice(("this role", "the post", "the position"))


def _posting_stream(seed: int, name: str, index: int, n_postings: int, label: str) -> random.Random:
    """A posting's own random stream for one kind of line; out-of-scope postings count from their own start, so
    resizing the BPO/KPO ones moves none of theirs."""
    return random.Random(
        f"{seed}-{name}-{index}" if index < n_postings else f"{seed}-{name}-{label}-{index - n_postings}"
    )


def _interleave(first: list[str], second: list[str], rng: random.Random) -> list[str]:
    """Mix two lists, keeping the first list's order mostly at the front as real ads lead with the role."""
    merged = list(first)
    for item in second:
        merged.insert(rng.randrange(min(1, len(merged)) + len(merged) // 2, len(merged) + 1), item)
    return merged


def sample(rng: random.Random, items: tuple[str, ...], count: int) -> list[str]:
    """Draw up to `count` distinct items."""
    return rng.sample(list(items), min(max(count, 0), len(items)))


_ARTICLE_BEFORE = re.compile(r"\b([Aa])n? (\{title\}|\{degree_field\})")


def fill(template: str, posting: Posting) -> str:
    """Fill the shared pools' placeholders; 'a'/'an' before a filled title follows its sound."""
    rng = posting.rng
    field_names = posting.catalogue.register.degree_fields[posting.catalogue.settings[posting.area.area]["field"]]
    values = {
        "{company}": posting.company,
        "{title}": posting.title if posting.title_shown else "",
        "{location}": posting.location,
        "{domain}": re.sub(r"[^a-z0-9]", "", posting.company.lower()) + ".com",
        "{date}": f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.choice((2026, 2027))}",
        "{ref}": f"{rng.choice(REF_LETTERS)}{rng.choice(REF_LETTERS)}-{rng.randint(1000, 99999)}",
        "{years}": str(
            {"junior": rng.randint(0, 2), "mid": rng.randint(2, 5), "senior": rng.randint(5, 10)}[posting.seniority]
            or 1
        ),
        # Half the time a subject any role might ask for, so the degree names no function by itself.
        "{degree_field}": rng.choice(
            field_names if rng.random() < 0.5 else posting.catalogue.register.degree_fields[ANY_FIELD]
        ),
    }
    if "{title}" in template and not posting.title_shown:
        template = _ARTICLE_BEFORE.sub(lambda m: "this role" if m.group(2) == "{title}" else m.group(0), template)
        template = template.replace("{title}", "this role")

    def article(match: re.Match) -> str:
        word = values[match.group(2)]
        chosen = indefinite(word)
        return (chosen.capitalize() if match.group(1) == "A" else chosen) + " " + match.group(2)

    template = _ARTICLE_BEFORE.sub(article, template)
    for key, value in values.items():
        if key in template:
            template = template.replace(key, value)
    return template


# The register's list of subjects that fit any role.
ANY_FIELD = "any"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def salary_line(posting: Posting) -> str:
    """Pay by the posting's region and seniority, never by its class: a salary, or sometimes a rate by the hour
    where the region's ads quote them."""
    rng, region = posting.rng, posting.region
    low_band, high_band = region.bands[posting.seniority]
    low = rng.randint(low_band, max(low_band, high_band - 2))
    high = rng.randint(low + 1, high_band + 1)
    render = (lambda v: f"{v * region.unit:,}") if region.unit > 1 else str
    text = fill_pay(rng.choice(region.pay), render(low), render(high))
    # The rate is drawn on the posting's own stream after the salary, so a posting that keeps its salary reads
    # exactly as before.
    if region.rates and posting.pay_rng.random() < HOURLY_PAY_SHARE:
        text = rate_text(posting.pay_rng.choice(region.rates), posting.seniority, posting.pay_rng)
    return posting.remember(text)


def rate_text(rate: Rate, seniority: str, rng: random.Random) -> str:
    """A rate template filled with a low and a high figure inside the seniority's band, the range at least a fifth
    of the band wide: a rate of "$15 - $16 per hour" reads as a typo."""
    low_band, high_band = rate.bands[seniority]
    width = max(1, (high_band - low_band) // 5)
    low = rng.randint(low_band, high_band - width)
    high = rng.randint(low + width, high_band)
    return fill_pay(rng.choice(rate.pay), f"{low:,}", f"{high:,}")


def fill_pay(template: str, low: str, high: str) -> str:
    return template.replace("{low}", low).replace("{high}", high)


def make_title(family: Family, rng: random.Random) -> tuple[str, str]:
    """A title from the family, sometimes with a seniority word from the shared pool, and its seniority."""
    title = rng.choice(family.titles)
    roll = rng.random()
    if roll < 0.28:
        prefix = rng.choice(sorted(SENIORITY_PREFIXES))
        return f"{prefix} {title}", SENIORITY_PREFIXES[prefix]
    if roll < 0.36:
        suffix = rng.choice(sorted(SENIORITY_SUFFIXES))
        if suffix == " IV" and title.endswith(("Manager", "Lead", "Head")):
            return title, "senior"  # a manager's title takes no level
        return title + suffix, SENIORITY_SUFFIXES[suffix]
    return title, rng.choice(("junior", "mid", "mid", "senior"))


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
            lambda: capitalise(
                f"{_the(posting.role_name)} {join_list([posting.inflect(d, 'third') for d in duties])}."
            ),
            lambda: f"You'll spend your time {join_list([posting.inflect(d, 'gerund') for d in duties])}.",
            lambda: f"This role {join_list([posting.inflect(d, 'third') for d in duties])}.",
        ]
    return rng.choice(frames)()


def _the(role_name: str) -> str:
    return role_name if role_name.startswith(("this ", "the ")) else f"the {role_name}"


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
    pool = posting.own.metrics if posting.own.metrics and posting.rng.random() < 0.6 else posting.shared.metrics
    metrics = sample(posting.rng, pool, posting.rng.randint(1, 3))
    frames = (
        "Success is measured by {}.",
        "You'll be measured on {}.",
        "Your targets cover {}.",
        "We track {}.",
        "KPIs include {}.",
    )
    return posting.rng.choice(frames).format(join_list(metrics))


def ways_sentence(posting: Posting) -> str:
    pool = (
        posting.own.ways_of_working
        if posting.own.ways_of_working and posting.rng.random() < 0.6
        else posting.shared.ways_of_working
    )
    ways = sample(posting.rng, pool, posting.rng.randint(1, 2))
    frames = (
        "The work involves {}.",
        "Expect to spend your time {}.",
        "This means {}.",
        "You'll be {}.",
    )
    return posting.rng.choice(frames).format(join_list(ways))


def register_blocks(posting: Posting, keys: tuple[str, ...] = ("qualification_paragraphs", "working_conditions",
                                                               "culture_lines")) -> list[str]:  # fmt: skip
    """Shared register paragraphs, each joining at the same rate whatever the class."""
    return [posting.register(key) for key in keys if posting.rng.random() < REGISTER_RATE]


def regional_wording(text: str, region: Region) -> str:
    """The text in the region's own words: how its ads spell the noun licence and name a criminal record check and
    a vocational qualification. The catalogue's writers used their own (licence, the UK's "DBS check" and NVQs in
    the out-of-scope lines of every region), and the wording told scope where only the region should."""
    text = regional_record_check(regional_spelling(text, region.spelling), region.record_check)
    return regional_vocational_qualification(text, region.vocational_qualification)


def opener(posting: Posting, agency: bool = False) -> str:
    """The first line of an ad: an intro naming the title when it is shown, else a neutral opener."""
    if posting.title_shown and posting.rng.random() < 0.7:
        return posting.neutral("intro_lines", agency=agency)
    return posting.register("about_job_openers")


# -- posting forms -------------------------------------------------------------------------------------------
def form_occupation(posting: Posting) -> str:
    """One or two plain sentences, as in an occupation classification."""
    rng = posting.rng
    duties = posting.duties(rng.randint(2, 4))
    verbs_ok = all(starts_with_verb(d) for d in duties)
    third_person_duties = join_list([posting.inflect(d, "third") for d in duties])
    frames: list[Callable[[], str]] = [
        lambda: sentence(join_list(duties)),
        lambda: " ".join(sentence(d) for d in duties),
        lambda: sentence(join_list(duties[:-1]) + "; " + duties[-1]),
    ]
    if verbs_ok:
        frames += [
            lambda: f"Workers in this occupation {join_list(duties)}.",
            lambda: f"Typical tasks: {join_list([posting.inflect(d, 'gerund') for d in duties])}.",
        ]
        if posting.title_shown:
            frames += [
                lambda: f"{capitalise(indefinite(posting.title))} {posting.title.lower()} {third_person_duties}.",
                lambda: f"{posting.title}: {join_list([posting.inflect(d, 'gerund') for d in duties])}.",
            ]
    return rng.choice(frames)()


def form_occupation_profile(posting: Posting) -> str:
    """An occupation profile: what workers do and need, in the third person; the body never names the job."""
    rng = posting.rng
    duties = posting.duties(rng.randint(4, 7))
    # The subjects are plural, so the duties keep their base form: "Job holders reply to...", not "replies".
    lead = rng.choice(("Workers in this occupation", "People in this role", "They", "These workers",
                       "Job holders"))  # fmt: skip
    parts = [f"{lead} {join_list(duties[:2])}." if starts_with_verb(duties[0]) else sentence(join_list(duties[:2]))]
    if rng.random() < 0.6:
        parts.append(heading(rng.choice(("Typical tasks", "Tasks include", "What the work involves")), rng) + "\n"
                     + bullets(duties[2:], rng))  # fmt: skip
    else:
        parts.append(" ".join(sentence(d) for d in duties[2:]))
    # A profile describes an occupation, not one employer's vacancy: no checks, licences or site rules.
    requirements = posting.requirements(rng.randint(2, 4), employer_asks=False)
    parts.append(heading(rng.choice(("Entry requirements", "Skills and knowledge", "How to get in")), rng) + "\n"
                 + "; ".join(requirements) + ".")  # fmt: skip
    if rng.random() < 0.4:
        parts.append(posting.register("working_conditions"))
    title_line = [posting.title] if posting.title_shown and rng.random() < 0.5 else []
    return "\n\n".join(title_line + parts)


def form_snippet(posting: Posting) -> str:
    """A two-to-four sentence listing snippet, as shown in search results."""
    rng = posting.rng
    parts = [opener(posting)]
    parts.append(duty_prose(posting, posting.duties(rng.randint(2, 3))))
    if rng.random() < 0.6:
        parts.append(requirement_prose(posting, posting.requirements(rng.randint(1, 3))))
    if rng.random() < 0.4:
        parts.append(posting.location)
    return " ".join(parts)


def form_short_ad(posting: Posting) -> str:
    """A short ad of a paragraph or two."""
    rng = posting.rng
    parts = [opener(posting)]
    if rng.random() < 0.5:
        parts.append(posting.blurb())
    parts.append(duty_prose(posting, posting.duties(rng.randint(3, 5))))
    if rng.random() < 0.4:
        parts.append(tools_sentence(posting, posting.tools(rng.randint(2, 3))))
    parts.append(requirement_prose(posting, posting.requirements(rng.randint(2, 4))))
    parts += register_blocks(posting)
    if rng.random() < 0.5:
        parts.append(salary_line(posting) + ".")
    if rng.random() < 0.4:
        parts.append(posting.neutral("application_instructions"))
    separator = "\n\n" if rng.random() < 0.4 else " "
    text = separator.join(parts)
    return f"{posting.title}\n{text}" if posting.title_shown and rng.random() < 0.5 else text


def form_listing(posting: Posting) -> str:
    """A job-board listing: header lines, then bulleted duties and requirements."""
    rng = posting.rng
    lines = ([posting.title] if posting.title_shown else []) + [f"{posting.company} - {posting.location}"]
    if rng.random() < 0.6:
        lines.append(salary_line(posting))
    if rng.random() < 0.6:
        lines.append(posting.neutral("work_arrangements"))
    lines.append("")
    lines.append(heading(fill(rng.choice(posting.catalogue.neutral["heading_duties"]), posting), rng))
    lines.append(bullets(posting.duties(rng.randint(3, 6)), rng))
    lines.append(heading(fill(rng.choice(posting.catalogue.neutral["heading_requirements"]), posting), rng))
    lines.append(bullets(posting.requirements(rng.randint(2, 5)), rng))
    if rng.random() < REGISTER_RATE:
        lines.append(posting.register("working_conditions"))
    if rng.random() < 0.5:
        lines.append(posting.neutral("recruiter_noise"))
    return "\n".join(lines)


def _full_sections(posting: Posting, agency: bool) -> list[str]:
    rng = posting.rng
    pool = posting.catalogue.neutral
    about = posting.blurb(agency=agency)
    role = [opener(posting, agency=agency)]
    if rng.random() < 0.6:
        role.append(duty_prose(posting, posting.duties(rng.randint(1, 2))))
    if rng.random() < 0.5:
        role.append(ways_sentence(posting))
    if rng.random() < 0.4:
        role.append(posting.neutral("delivery_lines"))
    if rng.random() < 0.4:
        role.append(metrics_sentence(posting))

    duties = posting.duties(rng.randint(4, 8))
    prose = rng.random() < 0.3
    duty_block = (
        duty_prose(posting, duties) if prose else bullets(duties, rng, rng.choice(("base", "base", "gerund")), posting)
    )
    requirements = posting.requirements(rng.randint(3, 7))
    requirement_block = requirement_prose(posting, requirements) if prose else bullets(requirements, rng)
    if rng.random() < REGISTER_RATE:
        requirement_block += "\n" + posting.register("qualification_paragraphs")
    if rng.random() < 0.6:
        requirement_block += "\n" + tools_sentence(posting, posting.tools(rng.randint(2, 4)))

    benefits = posting.shared_items(pool["benefits"], rng.randint(2, 6))
    benefit_block = bullets(benefits, rng)
    if rng.random() < 0.7:
        benefit_block = salary_line(posting) + "\n" + benefit_block
    if rng.random() < 0.5:
        benefit_block += "\n" + posting.neutral("work_arrangements")
    if rng.random() < REGISTER_RATE:
        benefit_block += "\n" + posting.register("working_conditions")

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
    if rng.random() < REGISTER_RATE:
        tail.append(posting.register("culture_lines"))
    if rng.random() < 0.6:
        tail.append(posting.neutral("eeo_statements"))
    if rng.random() < 0.7:
        tail.append(posting.neutral("application_instructions", agency=agency))
    if rng.random() < 0.5:
        tail.append(posting.neutral("closing_lines", agency=agency))
    if tail:
        sections.append("\n".join(tail))
    return sections


def form_full_ad(posting: Posting) -> str:
    """A full ad with sections: about us, the role, duties, requirements, benefits, how to apply."""
    rng = posting.rng
    header = [posting.title] if posting.title_shown else []
    if rng.random() < 0.5:
        header.append(posting.location)
    if rng.random() < 0.3:
        header.insert(0, posting.neutral("recruiter_noise"))
    sections = _full_sections(posting, agency=False)
    if rng.random() < 0.4:
        sections.append(posting.neutral("recruiter_noise"))
    return "\n\n".join(["\n".join(header)] + sections if header else sections)


def form_agency_ad(posting: Posting) -> str:
    """A recruitment agency's ad for a client, with the agency's noise around it."""
    rng = posting.rng
    header = f"{posting.title} | {posting.location}" if posting.title_shown else posting.location
    sections = _full_sections(posting, agency=True)
    sections.append(posting.neutral("recruiter_noise", agency=True))
    if rng.random() < 0.5:
        sections.append(posting.neutral("recruiter_noise", agency=True))
    return header + "\n\n" + "\n\n".join(sections)


def form_careers_page(posting: Posting) -> str:
    """A large employer's careers page: about the job, responsibilities, minimum and preferred qualifications."""
    rng = posting.rng
    headings = ("About the job", "Responsibilities", "Minimum qualifications", "Preferred qualifications")
    about = [posting.register("about_job_openers")]
    if rng.random() < 0.6:
        about.append(posting.blurb())
    if rng.random() < 0.5:
        about.append(duty_prose(posting, posting.duties(rng.randint(1, 2))))
    sections = [heading(headings[0], rng) + "\n" + " ".join(about)]
    sections.append(heading(headings[1], rng) + "\n" + bullets(posting.duties(rng.randint(4, 6)), rng))
    minimum = posting.requirements(rng.randint(2, 4))
    sections.append(heading(headings[2], rng) + "\n" + bullets(minimum, rng))
    preferred = posting.requirements(rng.randint(2, 5))
    if rng.random() < 0.5:
        preferred.append(posting.register("qualification_paragraphs"))
    sections.append(heading(headings[3], rng) + "\n" + bullets(preferred, rng))
    tail = register_blocks(posting, ("working_conditions", "culture_lines"))
    if rng.random() < 0.5:
        tail.append(salary_line(posting))
    if rng.random() < 0.6:
        tail.append(posting.neutral("eeo_statements"))
    if tail:
        sections.append("\n".join(tail))
    header = [f"{posting.title}\n{posting.company} | {posting.location}"] if posting.title_shown else []
    return "\n\n".join(header + sections)


def form_outsourcing_ad(posting: Posting) -> str:
    """An outsourcing provider's or shared-service centre's ad: the delivery centre, the account, the work."""
    rng = posting.rng
    parts = []
    if posting.title_shown:
        parts.append(f"{posting.title} | {posting.location}" if rng.random() < 0.5 else f"Hiring: {posting.title}")
    parts.append(posting.register("provider_intros"))
    if rng.random() < 0.5:
        parts.append(posting.neutral("delivery_lines"))
    parts.append(heading(rng.choice(("Your role", "Job description", "Roles and responsibilities")), rng) + "\n"
                 + bullets(posting.duties(rng.randint(3, 6)), rng))  # fmt: skip
    parts.append(heading(rng.choice(("Qualifications", "Who can apply", "Requirements")), rng) + "\n"
                 + bullets(posting.requirements(rng.randint(2, 5)), rng))  # fmt: skip
    parts += register_blocks(posting, ("working_conditions",))
    if rng.random() < 0.6:
        parts.append(salary_line(posting))
    if rng.random() < 0.5:
        parts.append(posting.neutral("application_instructions"))
    return "\n\n".join(parts)


def form_feed(posting: Posting) -> str:
    """A one-line feed listing or alert: the title when shown, one duty, place and maybe pay."""
    rng = posting.rng
    duty = posting.duties(1)[0]
    bits = [posting.title] if posting.title_shown else []
    bits.append(capitalise(duty))
    bits.append(posting.location)
    if rng.random() < 0.5:
        bits.append(salary_line(posting))
    if rng.random() < 0.3:
        bits.append(rng.choice(("Apply now", "Immediate start", "Full-time", "Hybrid", "Apply today")))
    return rng.choice((" - ", " | ", " · ", ". ")).join(bits)


FORMS: dict[str, Callable[[Posting], str]] = {
    "occupation": form_occupation,
    "occupation_profile": form_occupation_profile,
    "snippet": form_snippet,
    "short_ad": form_short_ad,
    "listing": form_listing,
    "full_ad": form_full_ad,
    "careers_page": form_careers_page,
    "agency_ad": form_agency_ad,
    "outsourcing_ad": form_outsourcing_ad,
    "feed": form_feed,
}


def known_verbs(catalogue: Catalogue) -> frozenset[str]:
    """Every first word of a duty phrase: the verbs the inflector may change after 'and'."""
    duties = [d for a in catalogue.areas for d in a.duties] + [d for f in catalogue.families for d in f.duties]
    duties += list(catalogue.neutral["generic_duties"]) + list(catalogue.register.lists["neutral_duties"])
    return frozenset(d.split(" ", 1)[0] for d in duties if starts_with_verb(d))


def in_scope_industry_shares(catalogue: Catalogue, borderline_share: float) -> dict[str, float]:
    """The share of in-scope postings that each employer industry gets, as generate_postings draws them: both
    classes alike, an area uniformly or through a grey-zone family, then one of the area's industries uniformly."""
    shares: dict[str, float] = {}
    for label in config.LABELS:
        areas = [a for a in catalogue.areas if a.label == label]
        grey = [f for f in catalogue.families if f.label == label and f.borderline]
        for area in areas:
            p_area = 1 / len(areas)
            if grey:
                through_grey = sum(f.area == area.area for f in grey) / len(grey)
                p_area = (1 - borderline_share) * p_area + borderline_share * through_grey
            industries = catalogue.settings[area.area]["industries"]
            for industry in industries:
                shares[industry] = shares.get(industry, 0.0) + p_area / len(industries) / len(config.LABELS)
    return shares


def draw_industry(catalogue: Catalogue, area: Area, rng: random.Random, shares: dict[str, float] | None) -> str:
    """The employer's industry: one of the area's, uniformly; or, for out-of-scope work, weighted by `shares`.

    Out-of-scope areas list every industry (the catalogue checks it), and weighting them as in-scope postings have
    them makes the employer, and so its company blurb, say nothing about scope.
    """
    industries = catalogue.settings[area.area]["industries"]
    if shares is None:
        return rng.choice(industries)
    return rng.choices(industries, [shares.get(i, 0.0) for i in industries])[0]


def generate_postings(
    catalogue: Catalogue,
    n_postings: int,
    seed: int,
    borderline_share: float = config.PREPARE.borderline_share,
    with_neutral: bool = False,
    n_out_of_scope: int = 0,
) -> pd.DataFrame:
    """Generate `n_postings` labelled postings, half of each class, deterministically for `seed`.

    Areas are drawn uniformly within a class, then families within the area, so a class with many families in
    one area does not drown the others; `borderline_share` of postings come from grey-zone families. Then
    `n_out_of_scope` postings of work that is neither, labelled NEITHER, from the same forms and pools. The
    employer's industry comes from the area's settings (for out-of-scope work, at each industry's share of
    in-scope postings), the region (and so the pay and currency) is drawn apart from the class, and every shared
    pool is drawn at one rate for both classes.
    """
    rng = random.Random(seed)
    pool = catalogue.neutral
    own, shared = build_material(catalogue)
    verbs = known_verbs(catalogue)
    forms, weights = zip(*FORM_WEIGHTS.items(), strict=True)
    by_label = {label: [a for a in catalogue.areas if a.label == label] for label in config.CATALOGUE_LABELS}
    borderline = {
        label: [f for f in catalogue.families if f.label == label and f.borderline] for label in config.CATALOGUE_LABELS
    }
    in_scope_shares = in_scope_industry_shares(catalogue, borderline_share)
    rows = []
    out_of_scope_rng = random.Random(f"{seed}-{config.NEITHER}")
    for index in range(n_postings + (n_out_of_scope if by_label[config.NEITHER] else 0)):
        label = config.LABELS[index % len(config.LABELS)] if index < n_postings else config.NEITHER
        if label == config.NEITHER:
            # A stream of its own: adding or resizing out-of-scope postings leaves the BPO/KPO ones unchanged.
            rng = out_of_scope_rng
        if borderline[label] and rng.random() < borderline_share:
            family = rng.choice(borderline[label])
            area = catalogue.area(family.area)
        else:
            area = rng.choice(by_label[label])
            clear = [f for f in area.families if not f.borderline] or list(area.families)
            family = rng.choice(clear)
        title, seniority = make_title(family, rng)
        region = rng.choice(catalogue.register.regions)
        form = rng.choices(forms, weights)[0]
        posting = Posting(
            family=family,
            area=area,
            own=own[family.family],
            shared=shared,
            catalogue=catalogue,
            title=title,
            seniority=seniority,
            company=rng.choice(pool["companies"]),
            industry=draw_industry(catalogue, area, rng, in_scope_shares if label == config.NEITHER else None),
            region=region,
            location=rng.choice(region.locations),
            rng=rng,
            known_verbs=verbs,
            title_shown=form != "occupation_profile" and rng.random() < TITLE_SHOWN,
            workplace_rng=_posting_stream(seed, "workplace", index, n_postings, label),
            practical_rng=_posting_stream(seed, "practical", index, n_postings, label),
            pay_rng=_posting_stream(seed, "pay", index, n_postings, label),
        )
        text = regional_wording(FORMS[form](posting), region)
        row = {
            config.ID_COLUMN: f"syn-{seed}-{index:06d}",
            config.TEXT_COLUMN: text,
            config.LABEL_COLUMN: label,
            config.GROUP_COLUMN: family.family,
            config.AREA_COLUMN: area.area,
            config.FAMILY_COLUMN: family.family,
            config.TITLE_COLUMN: title,
            config.FORM_COLUMN: form,
            config.BORDERLINE_COLUMN: family.borderline,
            config.SOURCE_COLUMN: config.SOURCE_SYNTHETIC,
        }
        if with_neutral:
            row["neutral_text"] = regional_wording("\n".join(posting.neutral_parts), region)
        rows.append(row)
    return pd.DataFrame(rows)
