"""A command group that imports a command's module only when that command runs.

The commands' modules import what their work needs: the analytics commands load scipy
and matplotlib, ``serve`` loads Dash. Importing them all before running any one made
every ``t137`` call, a daily ``t137 ingest`` of a few thousand cases included, start
seconds late. :class:`LazyGroup` knows each command by name and the place of its
function or sub-app (:class:`LazyCommand`), and imports it on first use; ``t137 --help``
still lists them all (it imports each once to read its help).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # typer carries its own copy of click
    from typer._click.core import Command, Context

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives: ``module:attribute``, a function or a :class:`typer.Typer`.

    Attributes
    ----------
    target : str
        ``"package.module:attribute"``.
    """

    target: str

    def load(self, name: str) -> Command:
        """Import the target and return it as the click command ``name``."""
        module_name, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module_name), attribute)
        if isinstance(found, typer.Typer):
            command: Command = typer.main.get_group(found)
        else:
            single = typer.Typer(pretty_exceptions_enable=False)
            single.command(name)(found)
            command = typer.main.get_command(single)
        command.name = name
        return command


class LazyGroup(TyperGroup):
    """A :class:`typer.core.TyperGroup` whose commands in :attr:`lazy` load on first use.

    Set :attr:`lazy` on a subclass (see :mod:`t137.cli`).
    """

    lazy: ClassVar[dict[str, LazyCommand]] = {}

    def list_commands(self, ctx: Context) -> list[str]:
        """Return the names of the eager and the lazy commands, in registration order."""
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """Return the command ``cmd_name``, importing its module the first time."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)
