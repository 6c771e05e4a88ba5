"""Statements compiled once for the engine's dialect and run on a driver cursor.

The hottest path (token verification) runs three or four small statements per request; through
SQLAlchemy's execution layer each costs several times what SQLite takes to answer it. Written
with SQLAlchemy Core (so the SQL stays portable and checked against the tables) and compiled
once, they run here as plain driver calls. Only explicit ``bindparam`` values are allowed, so
nothing is bound implicitly behind the caller's back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Statement:
    """One Core statement as driver SQL, with its parameters in the driver's order."""

    def __init__(self, statement: ClauseElement, engine: Engine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        assert isinstance(compiled, SQLCompiler)
        unbound = [name for name, bind in compiled.binds.items() if bind.value is not None]
        if unbound:
            raise ValueError(f"statement binds literal values {unbound}: use bindparam()")
        self.sql = compiled.string
        self._order: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
        if compiled.positional:
            names = tuple(compiled.positiontup or ())
            if len(names) == 1:
                self._order = lambda values: (values[names[0]],)
            elif not names:
                self._order = lambda values: ()
            else:
                self._order = itemgetter(*names)

    def params(self, values: Mapping[str, Any]) -> Any:
        """The parameters as the driver takes them (a tuple for ``?``, else a mapping)."""
        if self._order is None:
            return values
        return self._order(values)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        """Run on ``cursor`` (from ``Database.cursor()``); returns the cursor."""
        cursor.execute(self.sql, self.params(values))
        return cursor
