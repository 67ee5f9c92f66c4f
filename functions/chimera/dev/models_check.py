"""`chimera models`: the catalogue, and whether each provider still serves each configured id.

Providers retire models every few months. Run this in a deploy pipeline (with the real keys in
the environment): it exits 1 when a configured id is not in its provider's model list, so a
retired model is caught before people meet the fallback.
"""

from __future__ import annotations

from chimera.providers.base import ProviderError
from chimera.providers.catalogue import CatalogueError, load_catalogue
from chimera.runtime import build_providers
from chimera.settings import ChatSettings

OK, MISSING, UNCHECKED = "served", "NOT SERVED", "not checked"


async def check_models(settings: ChatSettings) -> int:
    """Print the catalogue and each id's status; the exit code: 0 all served, 1 one is not, 2 unusable."""
    try:
        catalogue = load_catalogue(settings.chimera_models_file)
    except CatalogueError as exc:
        print(exc)
        return 2
    print(f"Model catalogue: {catalogue.source}")
    providers = build_providers(settings)
    served: dict[str, set[str] | None] = {}
    for name, provider in providers.items():
        try:
            served[name] = await provider.list_models()
        except ProviderError as exc:
            print(f"  {name}: could not list models ({exc.kind.value}, {exc.status or 'no status'}): {exc.detail}")
            served[name] = None
        finally:
            await provider.aclose()
    missing = 0
    rows = [("choice", "label", "provider", "provider model", "context", "status")]
    for spec in catalogue.models:
        ids = served.get(spec.provider)
        status = UNCHECKED if ids is None else OK if spec.provider_model in ids else MISSING
        missing += status == MISSING
        rows.append((spec.key, spec.label, spec.provider, spec.provider_model, f"{spec.context_tokens:,}", status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if not providers:
        print("No provider key is set (GROQ_API_KEY, GOOGLE_GENERATIVE_AI_API_KEY): ids were not checked.")
    if missing:
        print(f"{missing} configured model id(s) are not served: update CHIMERA_MODELS_FILE (or catalogue.toml).")
        return 1
    if any(ids is None for name, ids in served.items()):
        return 2
    return 0
