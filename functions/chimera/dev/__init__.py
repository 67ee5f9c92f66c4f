"""Local tooling: the `chimera` command, the embedded Postgres and the provider simulator."""
