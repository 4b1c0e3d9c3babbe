"""Load and check the hand-written catalogue of service areas, role families and the class-neutral pool."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import config
from pipeline.errors import DataError

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


@dataclass(frozen=True)
class Catalogue:
    """All areas of both classes plus the class-neutral pool shared by both."""

    areas: tuple[Area, ...]
    neutral: dict[str, tuple[str, ...]]

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


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DataError(f"catalogue file {path} is missing") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"catalogue file {path} is not valid UTF-8 JSON: {error}") from error


def parse_class_file(data: dict, where: str) -> list[Area]:
    """Turn one class file's JSON into areas, checking the schema."""
    label = data.get("label")
    if label not in config.LABELS:
        raise DataError(f"{where}: 'label' must be one of {', '.join(config.LABELS)}, got {label!r}")
    areas = []
    for area_data in data.get("areas") or []:
        area_id = area_data.get("area")
        area_where = f"{where}, area {area_id!r}"
        families = []
        for family_data in area_data.get("families") or []:
            family_where = f"{area_where}, family {family_data.get('family')!r}"
            families.append(
                Family(
                    family=str(family_data["family"]),
                    label=label,
                    area=area_id,
                    borderline=bool(family_data.get("borderline", False)),
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


def load_catalogue(catalogue_dir: Path = config.CATALOGUE_DIR) -> Catalogue:
    """Read every class file (all JSON files but the neutral pool) and the neutral pool."""
    catalogue_dir = Path(catalogue_dir)
    neutral_path = catalogue_dir / config.NEUTRAL_POOL_PATH.name
    class_paths = sorted(p for p in catalogue_dir.glob("*.json") if p.name != neutral_path.name)
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
    return Catalogue(areas=tuple(areas), neutral=neutral)


def breadth_counts(catalogue: Catalogue) -> dict[str, int]:
    """Count what the catalogue covers: areas per class, distinct titles and distinct duty/requirement phrases."""
    counts: dict[str, int] = {}
    for label in config.LABELS:
        counts[f"areas_{label}"] = sum(1 for a in catalogue.areas if a.label == label)
        counts[f"families_{label}"] = sum(len(a.families) for a in catalogue.areas if a.label == label)
    counts["borderline_families"] = sum(1 for f in catalogue.families if f.borderline)
    counts["titles"] = len({t.lower() for f in catalogue.families for t in f.titles})
    phrases = {p.lower() for a in catalogue.areas for p in a.duties + a.requirements}
    phrases |= {p.lower() for f in catalogue.families for p in f.duties + f.requirements}
    counts["duty_and_requirement_phrases"] = len(phrases)
    return counts
