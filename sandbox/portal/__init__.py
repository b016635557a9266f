"""The sandbox e-forms portal: the submissions API of `specs/portal-api.md`, with switchable faults.

`store.PortalStore` keeps submissions in SQLite (loaded from the sample generator's
`--portal-dir`), `app.create_app` serves them (FastAPI), `faults` makes the portal as
slow and flaky as the spec warns. `python -m sandbox.portal serve|load|submissions`.
"""
