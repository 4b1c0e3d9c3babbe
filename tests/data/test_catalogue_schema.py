"""A catalogue entry without its id is refused in one line that names the file and the entry."""

import json
import shutil

import pytest
from console import run

from pipeline import config
from pipeline.catalogue import load_catalogue
from pipeline.errors import DataError

CLASS_FILE = "bpo_a.json"


def broken_catalogue(tmp_path, damage):
    """A copy of the project's catalogue whose first area of bpo_a.json `damage` has changed."""
    folder = tmp_path / "catalogue"
    shutil.copytree(config.CATALOGUE_DIR, folder)
    data = json.loads((folder / CLASS_FILE).read_text(encoding="utf-8"))
    damage(data["areas"])
    (folder / CLASS_FILE).write_text(json.dumps(data), encoding="utf-8")
    return folder


def drop_family_id(areas):
    del areas[0]["families"][1]["family"]


def blank_family_id(areas):
    areas[0]["families"][0]["family"] = "  "


def drop_area_id(areas):
    del areas[1]["area"]


def null_area_id(areas):
    areas[0]["area"] = None


def quoted_borderline_flag(areas):
    areas[0]["families"][0]["borderline"] = "false"


CASES = [
    (drop_family_id, r"bpo_a\.json, area 'customer_support': family number 2 has no 'family' id$"),
    (blank_family_id, r"bpo_a\.json, area 'customer_support': family number 1 has no 'family' id$"),
    (drop_area_id, r"bpo_a\.json: area number 2 has no 'area' id$"),
    (null_area_id, r"bpo_a\.json: area number 1 has no 'area' id$"),
    # bool("false") is True: a quoted flag would silently mark a clear family borderline.
    (
        quoted_borderline_flag,
        r"bpo_a\.json, area 'customer_support', family '[a-z_]+': 'borderline' must be true or false, not 'false'$",
    ),
]


@pytest.mark.parametrize(("damage", "pattern"), CASES, ids=[damage.__name__ for damage, _ in CASES])
def test_an_entry_without_its_id_is_named(tmp_path, damage, pattern):
    folder = broken_catalogue(tmp_path, damage)
    with pytest.raises(DataError, match=pattern) as raised:
        load_catalogue(folder)
    assert str(folder / CLASS_FILE) in str(raised.value) and "\n" not in str(raised.value)


def test_the_untouched_copy_loads(tmp_path):
    """The copy itself is sound, so the errors above come from the damage alone."""
    catalogue = load_catalogue(broken_catalogue(tmp_path, lambda areas: None))
    assert catalogue.area("customer_support").families
    assert all(area.area for area in catalogue.areas) and all(f.family for f in catalogue.families)


def test_prepare_says_which_file_and_entry_in_one_line(tmp_path):
    folder = broken_catalogue(tmp_path, drop_family_id)
    args = ["prepare", "--catalogue", str(folder), "--output-dir", str(tmp_path / "out"), "--n-postings", "300"]
    result = run(*args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.stderr
    assert f"{folder / CLASS_FILE}, area 'customer_support': family number 2 has no 'family' id" in lines[-1]
    assert not (tmp_path / "out" / "train.csv").exists()


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        # The generator fills these lines on a stream of their own, with the location only: a {company} would
        # reach the posting unfilled.
        (
            lambda lines: lines["bank"].append("Our {company} office is in {location}."),
            r"workplaces 'bank': lines may only use \{location\}, not \{company\}$",
        ),
        (lambda lines: lines.pop("bank"), r"'workplaces' must map every industry"),
    ],
    ids=["other_placeholder", "industry_without_lines"],
)
def test_a_workplace_line_the_generator_cannot_fill_is_refused(tmp_path, damage, pattern):
    folder = broken_register(tmp_path, lambda data: damage(data["workplaces"]))
    with pytest.raises(DataError, match=pattern):
        load_catalogue(folder)


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        # These lines are used as written: a placeholder would reach the posting unfilled.
        (
            lambda data: data["local_requirements"]["UK"]["checks"].append("a DBS check for {company}"),
            r"requirement 'a DBS check for \{company\}' uses \{company\}; these lines take no placeholders$",
        ),
        (
            lambda data: data["practical_requirements"].append("boots for the {location} site"),
            r"requirement 'boots for the \{location\} site' uses \{location\}",
        ),
        # A region without its own lines would draw another country's checks, or fail mid-run.
        (lambda data: data["local_requirements"].pop("IN"), r"local_requirements: regions missing: IN; unknown: none$"),
        (
            lambda data: data["local_requirements"].update(XX={"checks": ["a check"], "travel": ["a licence"]}),
            r"regions missing: none; unknown: XX$",
        ),
        (lambda data: data["local_requirements"].update(US=["a check"]), r"'US': needs exactly checks and travel$"),
        (lambda data: data["local_requirements"]["US"].pop("travel"), r"'US': needs exactly checks and travel$"),
        (lambda data: data["local_requirements"]["US"].update(travel=[]), r"'US': 'travel' must be a non-empty list"),
    ],
    ids=[
        "check_placeholder",
        "practical_placeholder",
        "region_missing",
        "region_unknown",
        "not_grouped",
        "travel_missing",
        "travel_empty",
    ],
)
def test_a_practical_requirement_the_generator_cannot_use_is_refused(tmp_path, damage, pattern):
    with pytest.raises(DataError, match=pattern):
        load_catalogue(broken_register(tmp_path, damage))


def broken_register(tmp_path, damage):
    """A copy of the catalogue whose register.json `damage` has changed in place."""
    folder = tmp_path / "catalogue"
    shutil.copytree(config.CATALOGUE_DIR, folder)
    register = folder / config.REGISTER_POOL_PATH.name
    data = json.loads(register.read_text(encoding="utf-8"))
    damage(data)
    register.write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_out_of_scope_work_without_an_industry_is_refused(tmp_path):
    """An industry no out-of-scope area may draw would employ in-scope work only, and so tell scope."""
    folder = tmp_path / "catalogue"
    shutil.copytree(config.CATALOGUE_DIR, folder)
    settings = folder / config.AREA_SETTINGS_PATH.name
    data = json.loads(settings.read_text(encoding="utf-8"))
    data["areas"]["oos_care_aides"]["industries"].remove("insurer")
    settings.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=r"out-of-scope area 'oos_care_aides': needs every industry, lacks insurer$"):
        load_catalogue(folder)


def _pay(region: str, change):
    """A damage to one region's pay: `change` receives the region's entry of the register."""
    return lambda data: change(data["regions"][region])


# Pay the generator cannot fill would print its placeholder, or draw from a band that runs backwards.
PAY_DAMAGE = {
    "other_placeholder": (
        _pay("UK", lambda r: r["rates"][0]["pay"].append("£{low} per {unit}")),
        r"region 'UK', rate 1: pay '£\{low\} per \{unit\}' must quote \{low\} or \{high\} and no other placeholder$",
    ),
    "no_figure": (
        _pay("UK", lambda r: r["rates"][0]["pay"].append("an hourly rate")),
        r"region 'UK', rate 1: pay 'an hourly rate' must quote \{low\} or \{high\}",
    ),
    "salary_without_figure": (
        _pay("UK", lambda r: r["pay"].append("Competitive salary")),
        r"region 'UK': pay 'Competitive salary' must quote \{low\} or \{high\}",
    ),
    "bands_missing": (_pay("US", lambda r: r["rates"][0].pop("bands")), r"rate 1: missing bands; unknown none$"),
    "unknown_key": (_pay("US", lambda r: r["rates"][0].update(unit=1000)), r"rate 1: missing none; unknown unit$"),
    "not_an_object": (_pay("US", lambda r: r["rates"].append("$20/hr")), r"rate 2: must be an object with pay, bands$"),
    "level_missing": (
        _pay("US", lambda r: r["rates"][0]["bands"].pop("senior")),
        r"region 'US', rate 1: 'bands' needs exactly junior, mid, senior$",
    ),
    "band_backwards": (
        _pay("US", lambda r: r["rates"][0]["bands"].update(mid=[60, 28])),
        r"region 'US', rate 1: band 'mid' must run from low to high, not 60 to 28$",
    ),
    "band_text": (
        _pay("IE", lambda r: r["bands"].update(junior=["28k", "40k"])),
        r"region 'IE': band 'junior' must be two whole numbers, low and high$",
    ),
    "band_boolean": (_pay("IE", lambda r: r["bands"].update(junior=[True, 40])), r"band 'junior' must be two whole"),
    "band_negative": (_pay("IE", lambda r: r["bands"].update(junior=[-5, 40])), r"band 'junior' must be two whole"),
    "unit_text": (
        _pay("IN", lambda r: r.update(unit="k")),
        r"region 'IN': 'unit' must be a whole number of at least 1, not 'k'$",
    ),
    "unit_zero": (_pay("IN", lambda r: r.update(unit=0)), r"region 'IN': 'unit' must be a whole number of at least 1"),
    "not_a_list": (_pay("AU", lambda r: r.update(rates={"pay": []})), r"region 'AU': 'rates' must be a list"),
}


@pytest.mark.parametrize(("damage", "pattern"), PAY_DAMAGE.values(), ids=PAY_DAMAGE.keys())
def test_pay_the_generator_cannot_fill_is_refused(tmp_path, damage, pattern):
    with pytest.raises(DataError, match=pattern):
        load_catalogue(broken_register(tmp_path, damage))


def test_a_spelling_the_generator_cannot_write_is_refused(tmp_path):
    folder = broken_register(tmp_path, lambda data: data["regions"]["PH"].update(spelling="american"))
    with pytest.raises(DataError, match=r"region 'PH': 'spelling' must be one of uk, us, not 'american'$"):
        load_catalogue(folder)


def test_regions_spell_licence_as_their_ads_do():
    regions = {region.region: region.spelling for region in load_catalogue(config.CATALOGUE_DIR).register.regions}
    assert regions["US"] == regions["PH"] == "us"
    assert regions["UK"] == regions["IN"] == "uk"


@pytest.mark.parametrize("name", ["", "  ", 7, "a DBS\ncheck"])
def test_a_criminal_record_check_the_generator_cannot_write_is_refused(tmp_path, name):
    folder = broken_register(tmp_path, lambda data: data["regions"]["AU"].update(record_check=name))
    with pytest.raises(DataError, match=r"region 'AU': 'record_check' must be one line of text"):
        load_catalogue(folder)


def test_a_region_that_names_no_criminal_record_check_is_refused(tmp_path):
    folder = broken_register(tmp_path, lambda data: data["regions"]["ZA"].pop("record_check"))
    with pytest.raises(DataError, match=r"region 'ZA': missing record_check"):
        load_catalogue(folder)


def test_a_region_that_names_no_vocational_qualification_is_refused(tmp_path):
    folder = broken_register(tmp_path, lambda data: data["regions"]["IN"].pop("vocational_qualification"))
    with pytest.raises(DataError, match=r"region 'IN': missing vocational_qualification"):
        load_catalogue(folder)


def test_only_the_uk_names_its_vocational_qualifications_nvqs():
    regions = {r.region: r.vocational_qualification for r in load_catalogue(config.CATALOGUE_DIR).register.regions}
    assert {code for code, name in regions.items() if name == "NVQ"} == {"UK"}


def test_regions_name_a_criminal_record_check_as_their_ads_do():
    regions = {r.region: r.record_check for r in load_catalogue(config.CATALOGUE_DIR).register.regions}
    assert regions["UK"] == "DBS check"
    assert regions["US"] == regions["PH"] == "background check"
    assert regions["AU"] == "police check"


def test_regions_without_rates_quote_salaries_only(tmp_path):
    """Rates are optional: a region whose ads rarely quote them (India, the Philippines) has none."""
    folder = broken_register(tmp_path, lambda data: data["regions"]["US"].pop("rates"))
    regions = {region.region: region for region in load_catalogue(folder).register.regions}
    assert regions["US"].rates == () and regions["IN"].rates == ()
    assert len(regions["UK"].rates) == 1 and regions["UK"].rates[0].bands["senior"] == (28, 65)


def test_a_catalogue_file_that_repeats_a_key_is_refused(tmp_path):
    """json.loads keeps a repeated key's last value: a BPO file given a second "label": "KPO" was read as KPO, and
    prepare learnt its ten areas under the other class, with exit 0."""
    folder = tmp_path / "catalogue"
    shutil.copytree(config.CATALOGUE_DIR, folder)
    path = folder / "bpo_a.json"
    path.write_text(path.read_text().replace('"label": "BPO"', '"label": "BPO", "label": "KPO"', 1))
    with pytest.raises(DataError, match=r"bpo_a\.json repeats the key\(s\) 'label' in one object: give each its own"):
        load_catalogue(folder)
