"""Load and check the hand-written catalogue of service areas, role families and the class-neutral pool."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import config
from pipeline.audit import Lexicon, load_lexicon
from pipeline.errors import DataError
from pipeline.files import read_json
from pipeline.phrasing import LICENCE_STEMS

AREA_LISTS = ("duties", "requirements", "tools", "metrics", "ways_of_working")
FAMILY_LISTS = ("titles", "duties", "requirements", "tools")
NEUTRAL_KEYS = (
    "companies",
    "company_blurbs",
    "intro_lines",
    "benefits",
    "locations",
    "delivery_lines",
    "salary_templates",
    "work_arrangements",
    "eeo_statements",
    "application_instructions",
    "recruiter_noise",
    "closing_lines",
    "heading_about",
    "heading_role",
    "heading_duties",
    "heading_requirements",
    "heading_benefits",
    "heading_apply",
    "generic_requirements",
    "generic_duties",
)


@dataclass(frozen=True)
class Family:
    """A role family: titles that do the same work, with the phrases that describe it."""

    family: str
    label: str
    area: str
    borderline: bool
    titles: tuple[str, ...]
    duties: tuple[str, ...]
    requirements: tuple[str, ...]
    tools: tuple[str, ...]
    policy_note: str = ""


@dataclass(frozen=True)
class Area:
    """A service area of one class, with area-wide phrases and its role families."""

    area: str
    name: str
    label: str
    duties: tuple[str, ...]
    requirements: tuple[str, ...]
    tools: tuple[str, ...]
    metrics: tuple[str, ...]
    ways_of_working: tuple[str, ...]
    families: tuple[Family, ...] = field(default_factory=tuple)


REGISTER_LISTS = (
    "qualification_paragraphs",
    "qualification_items",
    "working_conditions",
    "culture_lines",
    "neutral_duties",
    "provider_intros",
    "about_job_openers",
    # Checks, travel and site rules that ads in and out of scope both ask for.
    "practical_requirements",
)
# What a region's ads ask of anyone: background checks and the right to work, and a driving licence in its words.
LOCAL_REQUIREMENT_KEYS = ("checks", "travel")
REGION_KEYS = ("locations", "pay", "bands", "unit", "record_check", "vocational_qualification")
# What an hourly rate needs: its pay templates and its bands by seniority.
RATE_KEYS = ("pay", "bands")
# A value the generator fills in: "{location}", "{company}".
_PLACEHOLDER = re.compile(r"\{\w+\}")
SENIORITY_LEVELS = ("junior", "mid", "senior")


@dataclass(frozen=True)
class Rate:
    """Pay by the hour: templates and bands by seniority, in the region's currency."""

    pay: tuple[str, ...]
    bands: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Region:
    """Where a posting is: its places, pay templates and pay bands by seniority (never by class), the hourly rates
    its ads quote, where they quote any, and its ads' words for a licence, a criminal record check and a vocational
    qualification."""

    region: str
    locations: tuple[str, ...]
    pay: tuple[str, ...]
    bands: dict[str, tuple[int, int]]
    unit: int
    # What its ads call a criminal record check: "DBS check" in the UK, "background check" in the US.
    record_check: str
    # What its ads call a vocational qualification: "NVQ" in the UK, "vocational qualification" elsewhere.
    vocational_qualification: str
    rates: tuple[Rate, ...] = ()
    # How its ads spell the noun licence: "uk" (licence) or "us" (license).
    spelling: str = "uk"


@dataclass(frozen=True)
class Register:
    """The register shared by both classes: qualifications, blurbs by industry, conditions, regions and pay."""

    lists: dict[str, tuple[str, ...]]
    company_blurbs: dict[str, tuple[str, ...]]
    # Where the job is based, by industry: the plant, the depot, the hospital site, the head office.
    workplaces: dict[str, tuple[str, ...]]
    # By region, then by LOCAL_REQUIREMENT_KEYS: "a basic DBS check", "a valid driver's license".
    local_requirements: dict[str, dict[str, tuple[str, ...]]]
    degree_fields: dict[str, tuple[str, ...]]
    regions: tuple[Region, ...]


@dataclass(frozen=True)
class Catalogue:
    """All areas of both classes plus the pools shared by both, the area settings and the function lexicon."""

    areas: tuple[Area, ...]
    neutral: dict[str, tuple[str, ...]]
    register: Register | None = None
    settings: dict[str, dict] = field(default_factory=dict)
    lexicon: Lexicon | None = None

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(family for area in self.areas for family in area.families)

    def area(self, area_id: str) -> Area:
        for area in self.areas:
            if area.area == area_id:
                return area
        raise KeyError(area_id)


def _require_list(obj: dict, key: str, where: str) -> tuple[str, ...]:
    values = obj.get(key)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise DataError(f"{where}: '{key}' must be a non-empty list of strings")
    return tuple(v.strip() for v in values)


def _require_flag(obj: dict, key: str, where: str) -> bool:
    # JSON's true and false only (absent is false): bool("false") would be True, and a quoted flag is a typo.
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise DataError(f"{where}: '{key}' must be true or false, not {value!r}")
    return value


def _read_json(path: Path) -> dict:
    return read_json(path, "catalogue file")


def parse_class_file(data: dict, where: str) -> list[Area]:
    """Turn one class file's JSON into areas, checking the schema."""
    label = data.get("label")
    if label not in config.CATALOGUE_LABELS:
        raise DataError(f"{where}: 'label' must be one of {', '.join(config.CATALOGUE_LABELS)}, got {label!r}")
    areas = []
    for position, area_data in enumerate(data.get("areas") or [], start=1):
        area_id = area_data.get("area") if isinstance(area_data, dict) else None
        if not isinstance(area_id, str) or not area_id.strip():
            raise DataError(f"{where}: area number {position} has no 'area' id")
        area_where = f"{where}, area {area_id!r}"
        families = []
        for number, family_data in enumerate(area_data.get("families") or [], start=1):
            family_id = family_data.get("family") if isinstance(family_data, dict) else None
            if not isinstance(family_id, str) or not family_id.strip():
                raise DataError(f"{area_where}: family number {number} has no 'family' id")
            family_where = f"{area_where}, family {family_id!r}"
            families.append(
                Family(
                    family=family_id,
                    label=label,
                    area=area_id,
                    borderline=_require_flag(family_data, "borderline", family_where),
                    policy_note=str(family_data.get("policy_note", "")),
                    **{key: _require_list(family_data, key, family_where) for key in FAMILY_LISTS},
                )
            )
        if not families:
            raise DataError(f"{area_where}: no role families")
        areas.append(
            Area(
                area=area_id,
                name=str(area_data.get("name", area_id)),
                label=label,
                families=tuple(families),
                **{key: _require_list(area_data, key, area_where) for key in AREA_LISTS},
            )
        )
    if not areas:
        raise DataError(f"{where}: no areas")
    return areas


def parse_neutral(data: dict, where: str) -> dict[str, tuple[str, ...]]:
    """Check the class-neutral pool and return its lists."""
    return {key: _require_list(data, key, where) for key in NEUTRAL_KEYS}


def parse_register(data: dict, where: str) -> Register:
    """Check the shared register pools and return them."""
    lists = {key: _require_list(data, key, where) for key in REGISTER_LISTS}
    blurbs = data.get("company_blurbs")
    fields = data.get("degree_fields")
    regions = data.get("regions")
    if not isinstance(blurbs, dict) or not blurbs:
        raise DataError(f"{where}: 'company_blurbs' must map industries to lists of blurbs")
    workplaces = data.get("workplaces")
    if not isinstance(workplaces, dict) or sorted(workplaces) != sorted(blurbs):
        raise DataError(f"{where}: 'workplaces' must map every industry of 'company_blurbs' to lists of lines")
    # The generator fills these lines on a random stream of their own, and {location} is the one value it has.
    for industry, lines in workplaces.items():
        other = sorted({p for line in lines for p in _PLACEHOLDER.findall(str(line))} - {"{location}"})
        if other:
            raise DataError(
                f"{where}, workplaces {industry!r}: lines may only use {{location}}, not {', '.join(other)}"
            )
    if not isinstance(fields, dict) or not fields:
        raise DataError(f"{where}: 'degree_fields' must map fields to lists of subjects")
    if not isinstance(regions, dict) or not regions:
        raise DataError(f"{where}: 'regions' must map region codes to places, pay templates and bands")
    parsed_local = _parse_local_requirements(data.get("local_requirements"), sorted(regions), where)
    # The generator uses these lines as written, on a random stream of its own.
    as_written = [line for groups in parsed_local.values() for lines in groups.values() for line in lines]
    for line in [*as_written, *lists["practical_requirements"]]:
        placeholder = _PLACEHOLDER.search(line)
        if placeholder:
            raise DataError(
                f"{where}: requirement {line!r} uses {placeholder.group(0)}; these lines take no placeholders"
            )
    parsed_regions = []
    for code, region in sorted(regions.items()):
        missing = [key for key in REGION_KEYS if key not in region]
        if missing:
            raise DataError(f"{where}, region {code!r}: missing {', '.join(missing)}")
        at = f"{where}, region {code!r}"
        pay = _require_list(region, "pay", at)
        _check_pay_templates(pay, at)
        parsed_regions.append(
            Region(
                region=code,
                locations=_require_list(region, "locations", at),
                pay=pay,
                bands=_parse_bands(region["bands"], at),
                unit=_parse_unit(region["unit"], at),
                rates=_parse_rates(region.get("rates", []), at),
                spelling=_parse_spelling(region.get("spelling", "uk"), at),
                record_check=_parse_one_line(region["record_check"], "record_check", at),
                vocational_qualification=_parse_one_line(
                    region["vocational_qualification"], "vocational_qualification", at
                ),
            )
        )
    return Register(
        lists=lists,
        company_blurbs={k: _require_list(blurbs, k, f"{where}, company_blurbs") for k in sorted(blurbs)},
        workplaces={k: _require_list(workplaces, k, f"{where}, workplaces") for k in sorted(workplaces)},
        local_requirements=parsed_local,
        degree_fields={k: _require_list(fields, k, f"{where}, degree_fields") for k in sorted(fields)},
        regions=tuple(parsed_regions),
    )


def _parse_one_line(value, key: str, where: str) -> str:
    """A region's word for something its ads ask for: one line of text."""
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise DataError(f"{where}: {key!r} must be one line of text, not {value!r}")
    return value.strip()


def _parse_spelling(spelling, where: str) -> str:
    if spelling not in LICENCE_STEMS:
        raise DataError(f"{where}: 'spelling' must be one of {', '.join(LICENCE_STEMS)}, not {spelling!r}")
    return spelling


def _parse_bands(bands, where: str) -> dict[str, tuple[int, int]]:
    """Pay bands by seniority: a low and a high whole number for each level, the low one below the high one."""
    if not isinstance(bands, dict) or sorted(bands) != sorted(SENIORITY_LEVELS):
        raise DataError(f"{where}: 'bands' needs exactly {', '.join(SENIORITY_LEVELS)}")
    parsed = {}
    for level, band in bands.items():
        # type() rather than isinstance(): JSON's true is a Python int, and a band of [true, 30] is a typo.
        if not (isinstance(band, list) and len(band) == 2 and all(type(v) is int and v >= 0 for v in band)):
            raise DataError(f"{where}: band {level!r} must be two whole numbers, low and high")
        if band[0] >= band[1]:
            raise DataError(f"{where}: band {level!r} must run from low to high, not {band[0]} to {band[1]}")
        parsed[level] = (band[0], band[1])
    return parsed


def _check_pay_templates(templates: tuple[str, ...], where: str) -> None:
    """Each pay template quotes {low} or {high} (or both) and no other placeholder, which would print unfilled."""
    for template in templates:
        placeholders = set(_PLACEHOLDER.findall(template))
        if not placeholders or placeholders - {"{low}", "{high}"}:
            raise DataError(f"{where}: pay {template!r} must quote {{low}} or {{high}} and no other placeholder")


def _parse_unit(unit, where: str) -> int:
    """What a salary band's figures are multiplied by: 1000 for bands in thousands."""
    if type(unit) is not int or unit < 1:
        raise DataError(f"{where}: 'unit' must be a whole number of at least 1, not {unit!r}")
    return unit


def _parse_rates(rates, where: str) -> tuple[Rate, ...]:
    """A region's hourly rates: each with templates that quote {low} or {high}, and its bands."""
    if not isinstance(rates, list):
        raise DataError(f"{where}: 'rates' must be a list of rates, each with {', '.join(RATE_KEYS)}")
    parsed = []
    for number, rate in enumerate(rates, 1):
        at = f"{where}, rate {number}"
        if not isinstance(rate, dict):
            raise DataError(f"{at}: must be an object with {', '.join(RATE_KEYS)}")
        missing = [key for key in RATE_KEYS if key not in rate]
        unknown = sorted(set(rate) - set(RATE_KEYS))
        if missing or unknown:
            raise DataError(f"{at}: missing {', '.join(missing) or 'none'}; unknown {', '.join(unknown) or 'none'}")
        templates = _require_list(rate, "pay", at)
        _check_pay_templates(templates, at)
        parsed.append(Rate(pay=templates, bands=_parse_bands(rate["bands"], at)))
    return tuple(parsed)


def _parse_local_requirements(local, regions: list[str], where: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """Each region's checks and travel lines: every region needs both, and nothing else."""
    where = f"{where}, local_requirements"
    if not isinstance(local, dict):
        raise DataError(f"{where}: must map each region to its checks and travel lines")
    missing, unknown = sorted(set(regions) - set(local)), sorted(set(local) - set(regions))
    if missing or unknown:
        raise DataError(
            f"{where}: regions missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}"
        )
    parsed = {}
    for code in regions:
        groups = local[code]
        if not isinstance(groups, dict) or sorted(groups) != sorted(LOCAL_REQUIREMENT_KEYS):
            raise DataError(f"{where} {code!r}: needs exactly {' and '.join(LOCAL_REQUIREMENT_KEYS)}")
        parsed[code] = {key: _require_list(groups, key, f"{where} {code!r}") for key in LOCAL_REQUIREMENT_KEYS}
    return parsed


def parse_settings(data: dict, where: str, areas: list[Area], register: Register) -> dict[str, dict]:
    """Every area needs known industries and a known field of study, so its postings are framed coherently."""
    settings = data.get("areas")
    if not isinstance(settings, dict):
        raise DataError(f"{where}: needs an 'areas' object")
    for area in areas:
        entry = settings.get(area.area)
        if not isinstance(entry, dict):
            raise DataError(f"{where}: no settings for area {area.area!r}")
        unknown = [i for i in entry.get("industries", []) if i not in register.company_blurbs]
        if not entry.get("industries") or unknown:
            raise DataError(f"{where}, area {area.area!r}: industries must be known blurb industries: {unknown}")
        if entry.get("field") not in register.degree_fields:
            raise DataError(f"{where}, area {area.area!r}: unknown field {entry.get('field')!r}")
        # Out-of-scope work draws its employer at in-scope postings' shares, which needs every industry to choose
        # from: a missing one would be an employer of in-scope work only, and would tell scope.
        missing = sorted(set(register.company_blurbs) - set(entry["industries"]))
        if area.label == config.NEITHER and missing:
            raise DataError(
                f"{where}, out-of-scope area {area.area!r}: needs every industry, lacks {', '.join(missing)}"
            )
    return settings


def load_catalogue(catalogue_dir: Path = config.CATALOGUE_DIR) -> Catalogue:
    """Read every class file, the neutral pool, the shared register, the area settings and the lexicon."""
    catalogue_dir = Path(catalogue_dir)
    neutral_path = catalogue_dir / config.NEUTRAL_POOL_PATH.name
    class_paths = sorted(p for p in catalogue_dir.glob("*.json") if p.name not in config.CATALOGUE_SUPPORT_FILES)
    if not class_paths:
        raise DataError(f"no catalogue files in {catalogue_dir}")
    areas: list[Area] = []
    for path in class_paths:
        areas.extend(parse_class_file(_read_json(path), str(path)))
    area_ids = [a.area for a in areas]
    family_ids = [f.family for a in areas for f in a.families]
    for kind, ids in (("area", area_ids), ("family", family_ids)):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise DataError(f"catalogue: {kind} ids used more than once: {', '.join(repeated)}")
    neutral = parse_neutral(_read_json(neutral_path), str(neutral_path))
    register_path = catalogue_dir / config.REGISTER_POOL_PATH.name
    register = parse_register(_read_json(register_path), str(register_path))
    settings_path = catalogue_dir / config.AREA_SETTINGS_PATH.name
    settings = parse_settings(_read_json(settings_path), str(settings_path), areas, register)
    lexicon = load_lexicon(catalogue_dir / config.FUNCTION_TERMS_PATH.name)
    return Catalogue(areas=tuple(areas), neutral=neutral, register=register, settings=settings, lexicon=lexicon)


def breadth_counts(catalogue: Catalogue) -> dict[str, int]:
    """Count what the catalogue covers: areas per class, distinct titles and distinct duty/requirement phrases."""
    counts: dict[str, int] = {}
    for label in config.CATALOGUE_LABELS:
        counts[f"areas_{label}"] = sum(1 for a in catalogue.areas if a.label == label)
        counts[f"families_{label}"] = sum(len(a.families) for a in catalogue.areas if a.label == label)
    counts["borderline_families"] = sum(1 for f in catalogue.families if f.borderline)
    counts["titles"] = len({t.lower() for f in catalogue.families for t in f.titles})
    phrases = {p.lower() for a in catalogue.areas for p in a.duties + a.requirements}
    phrases |= {p.lower() for f in catalogue.families for p in f.duties + f.requirements}
    counts["duty_and_requirement_phrases"] = len(phrases)
    return counts
