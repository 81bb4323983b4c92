"""The ``courtside`` command: a Typer app whose sub-commands live in this package, one module each."""

from __future__ import annotations

import typer

from courtside import __version__

app = typer.Typer(
    name="courtside",
    help="Real-time NBA statistics: live data, advanced formulas, batch jobs, WebSocket and MCP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"courtside {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Real-time NBA statistics: live data, advanced formulas, batch jobs, WebSocket and MCP."""


def _register() -> None:
    # Each sub-command module adds its commands to ``app`` when imported.
    from courtside.cli import commands  # noqa: F401
    from courtside.cli.tracking import track_commands

    track_commands(app)  # one usage event per command run


# Commands whose start-up time matters (whole batch runs are timed end to end): run alone,
# they import only their own module instead of every command's dependencies.
_LIGHT = {"compute": "courtside.cli.compute"}


def main() -> None:
    """Entry point of the console script."""
    import sys

    light = _LIGHT.get(sys.argv[1]) if len(sys.argv) > 1 else None
    if light is not None:
        import importlib

        importlib.import_module(light)
    else:
        _register()
    app()
