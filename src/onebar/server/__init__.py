"""The HTTP service (`onebar serve`): a FastAPI app built by `create_app(settings)`.

app.create_app        the factory: routers, problem+json errors, request ids, metrics, lifespan
settings              ServiceSettings: flags, ONEBAR_* environment, a TOML config file
routers/              one module per area; ROUTERS lists them (add a module and one line)
service.Service       the store, job workers and caches of one process
"""
