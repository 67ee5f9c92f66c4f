"""The `chimera` command: `chimera dev` runs everything on a laptop, `chimera migrate` a database,
`chimera models` checks the model catalogue against what the providers serve."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from pydantic import SecretStr

from chimera.dev.settings import LocalSettings
from chimera.dev.simulator.state import SHAPES, Shape
from chimera.settings import ChatSettings, CoreSettings
from chimera.store.migrate import apply_migrations

SIMULATED_KEY = SecretStr("simulated-key-not-secret")


def _local_database(settings: LocalSettings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    from chimera.dev.embedded_postgres import start_embedded_postgres

    data_dir = Path(settings.chimera_data_dir) / "pgdata"
    print(f"Postgres:  embedded, data in {data_dir} (set DATABASE_URL to use your own)")
    return start_embedded_postgres(data_dir)


def dev(host: str, port: int, simulator_port: int, simulator_shape: Shape | None) -> None:
    import uvicorn

    from chimera.dev.app import create_local_app

    settings = LocalSettings()
    if simulator_shape is not None:  # the flag wins over CHIMERA_SIMULATOR_SHAPE
        settings = settings.model_copy(update={"chimera_simulator_shape": simulator_shape})
    database_url = _local_database(settings)
    applied = asyncio.run(apply_migrations(database_url))
    print(f"Migrations: {', '.join(applied) if applied else 'up to date'}")
    # The local person signs in with no form unless a Supabase project is named: then people sign
    # in there (the page learns which from /config.json).
    local_identity = settings.supabase_url is None
    update: dict[str, object] = {"database_url": SecretStr(database_url), "chimera_dev_tokens": local_identity}
    if not local_identity:
        how = "Supabase Auth" if settings.supabase_publishable_key else "a pasted access token"
        print(f"Sign-in:   {how} ({settings.supabase_url}); no local person")
    elif settings.supabase_jwt_secret is None:
        from chimera.dev.local_identity import load_or_create_secret

        secret_file = Path(settings.chimera_data_dir) / "jwt-secret"
        update["supabase_jwt_secret"] = SecretStr(load_or_create_secret(secret_file))
        print(f"Sign-in:   local person {settings.chimera_local_user_id}, tokens signed with {secret_file}")
    if settings.groq_api_key is None and settings.google_generative_ai_api_key is None:
        from chimera.dev.simulator import ProviderSimulator, SimulatorDefaults

        shape = settings.chimera_simulator_shape
        simulator = ProviderSimulator(port=simulator_port, defaults=SimulatorDefaults(shape=shape)).start()
        update |= {
            "groq_api_key": SIMULATED_KEY,
            "google_generative_ai_api_key": SIMULATED_KEY,
            "groq_base_url": simulator.groq_base_url,
            "google_gemini_base_url": simulator.gemini_base_url,
            "chimera_simulated_providers": True,
        }
        print(f"Providers: SIMULATED at {simulator.base_url} (no GROQ_API_KEY or GOOGLE_GENERATIVE_AI_API_KEY set)")
        print(f"           answers are made up ({shape}); set a key to talk to a real model")
    else:
        configured = [
            n for n, k in (("Groq", settings.groq_api_key), ("Gemini", settings.google_generative_ai_api_key)) if k
        ]
        print(f"Providers: {', '.join(configured)}")
    print(f"Chimera:   http://{host}:{port}/")
    uvicorn.run(create_local_app(LocalSettings.model_validate(settings.model_dump() | update)), host=host, port=port)


def migrate() -> None:
    settings = CoreSettings()
    if settings.database_url is None:
        raise SystemExit("DATABASE_URL is not set: point it at the database to migrate.")
    applied = asyncio.run(apply_migrations(settings.database_url.get_secret_value()))
    print(f"Applied: {', '.join(applied)}" if applied else "Nothing to apply: the database is up to date.")


def simulator(host: str, port: int, reasoning_tokens: int | None, shape: Shape) -> None:
    import uvicorn

    from chimera.dev.simulator import SimulatorDefaults, SimulatorState, create_simulator_app

    defaults = SimulatorDefaults(shape=shape)
    if reasoning_tokens is not None:
        defaults.reasoning_tokens = reasoning_tokens
    state = SimulatorState(defaults=defaults)
    print(f"Provider simulator on http://{host}:{port} (GROQ_BASE_URL and GOOGLE_GEMINI_BASE_URL)")
    uvicorn.run(create_simulator_app(state), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chimera", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev_cmd = commands.add_parser("dev", help="serve the API and the page on one port, on embedded defaults")
    dev_cmd.add_argument("--host", default="127.0.0.1")
    dev_cmd.add_argument("--port", type=int, default=8000)
    dev_cmd.add_argument("--simulator-port", type=int, default=0, help="0 picks a free port")
    dev_cmd.add_argument(
        "--simulator-shape",
        choices=SHAPES,
        default=None,
        help="how simulated answers look (default: CHIMERA_SIMULATOR_SHAPE, else mixed: sized by the prompt)",
    )
    commands.add_parser("migrate", help="apply the SQL migrations to DATABASE_URL")
    commands.add_parser(
        "models", help="print the model catalogue; with provider keys set, check each id is served (exit 1 if not)"
    )
    sim_cmd = commands.add_parser("simulator", help="run only the provider simulator")
    sim_cmd.add_argument("--host", default="127.0.0.1")
    sim_cmd.add_argument("--port", type=int, default=8090)
    sim_cmd.add_argument(
        "--reasoning-tokens", type=int, default=None, help="reasoning pieces before each answer (default: as models do)"
    )
    sim_cmd.add_argument("--shape", choices=SHAPES, default="words", help="how answers look when not scripted")
    args = parser.parse_args(argv)
    if args.command == "dev":
        dev(args.host, args.port, args.simulator_port, args.simulator_shape)
    elif args.command == "migrate":
        migrate()
    elif args.command == "models":
        from chimera.dev.models_check import check_models

        raise SystemExit(asyncio.run(check_models(ChatSettings())))
    else:
        simulator(args.host, args.port, args.reasoning_tokens, args.shape)


if __name__ == "__main__":
    main()
