"""HTTP: the FastAPI app factory, its routers, dependencies and error mapping."""
