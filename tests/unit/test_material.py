"""The generator's material: sorted once per catalogue, and sorted anew for a catalogue edited in any way."""

from dataclasses import replace

import pytest

from pipeline.catalogue import load_catalogue
from pipeline.material import build_material


def test_a_catalogue_read_again_gives_the_material_and_an_edited_one_its_own(catalogue):
    own, shared = build_material(catalogue)
    assert build_material(load_catalogue()) == (own, shared)
    duty = "Keep the shared drive's folders tidy"
    neutral = {**catalogue.neutral, "generic_duties": (*catalogue.neutral["generic_duties"], duty)}
    _, edited_shared = build_material(replace(catalogue, neutral=neutral))
    assert duty in edited_shared.duties and duty not in shared.duties
    area = catalogue.areas[0]
    family = replace(area.families[0], duties=area.families[0].duties[:3])
    edited = replace(catalogue, areas=(replace(area, families=(family, *area.families[1:])), *catalogue.areas[1:]))
    assert build_material(edited)[0][family.family] != own[family.family]


def test_the_material_kept_cannot_be_changed_by_a_caller(catalogue):
    own, _ = build_material(catalogue)
    with pytest.raises(TypeError):
        own["a family"] = next(iter(own.values()))
