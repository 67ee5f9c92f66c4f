"""The model catalogue is configuration: validated once, with sentences that name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from chimera.dev.simulator import SimulatorState
from chimera.providers.catalogue import DEFAULT_FILE, MODEL_KEYS, CatalogueError, load_catalogue


def test_the_shipped_catalogue_maps_every_public_choice() -> None:
    catalogue = load_catalogue()
    assert tuple(m.key for m in catalogue.models) == MODEL_KEYS
    assert catalogue.spec(catalogue.routing.auto_small).provider == "groq"


def test_no_shipped_model_is_one_the_providers_have_retired() -> None:
    """The simulator knows the ids Groq and Google shut down (2026-08-16, 2026-12-01)."""
    retired = SimulatorState().retired
    for spec in load_catalogue().models:
        assert spec.provider_model not in retired[spec.provider], spec.key


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda t: t.replace('key = "gemini-flash"', 'key = "gemini-pro"'), "models.2.key"),
        (lambda t: t.replace('provider_model = "openai/gpt-oss-20b"\n', ""), "provider_model"),
        (lambda t: t.replace('gemini = "gemini-flash"', 'gemini = "groq-llama-8b"'), "not a gemini model"),
        (lambda t: t + "\n[[models]\n", "not valid TOML"),
        (lambda t: t.replace('input_usd_per_mtok = "0.15"', 'input_usd_per_mtok = "-1"'), "input_usd_per_mtok"),
    ],
)
def test_a_bad_catalogue_is_refused_with_the_file_and_the_field(tmp_path: Path, edit: object, words: str) -> None:
    bad = tmp_path / "models.toml"
    bad.write_text(edit(DEFAULT_FILE.read_text()))  # type: ignore[operator]

    with pytest.raises(CatalogueError) as refused:
        load_catalogue(bad)

    assert str(bad) in str(refused.value) and words in str(refused.value)


def test_a_missing_catalogue_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path / "nowhere.toml")
