"""Finding a live player or team by id or by name, and reading entity references.

:func:`parse_entity` reads the references callers write (``"player:203925@0022000001"``, a
dict, an ``EntityRef``) and checks their shape.

People and agents name players as they know them: ``203110``, ``Draymond Green``,
``draymond green``, ``Green``; teams by teamId or tricode (``GSW``). :func:`find_entity` tries,
in order: the id, the whole name (case- and accent-insensitive), then a unique word match
(a last name), and explains what it found when the name is ambiguous or unknown.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from courtside.model import ConfigError, EntityRef, NotFoundError

__all__ = ["find_entity", "normalise_name", "parse_entity"]

_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def parse_entity(entity: EntityRef | str | Mapping[str, Any]) -> EntityRef:
    """An entity from an EntityRef, ``"player:203925@0022000001"`` or a dict.

    The game part is optional for players and teams (the latest tracked game is used).
    """
    if isinstance(entity, EntityRef):
        ref = entity
    elif isinstance(entity, str):
        head, _, game = entity.partition("@")
        kind, sep, ident = head.partition(":")
        if not sep:
            raise ConfigError(f"entity {entity!r}: write kind:id[@gameId], e.g. "
                              "'player:203925@0022000001' or 'team:1610612744'")
        ref = EntityRef(kind.strip(), ident.strip(), game.strip() or None)
    elif isinstance(entity, Mapping):
        try:
            ref = EntityRef(str(entity["kind"]), str(entity["id"]),
                            str(entity["game_id"]) if entity.get("game_id") else None)
        except KeyError as exc:
            raise ConfigError(f"entity {dict(entity)!r} lacks {exc.args[0]!r}; give kind, id "
                              "and optionally game_id") from None
    else:
        raise ConfigError(f"entity must be 'kind:id[@gameId]', a dict or an EntityRef, not "
                          f"{type(entity).__name__}")
    if ref.kind not in ("player", "team", "game"):
        raise ConfigError(f"entity {ref.key()[:80]!r}: kind must be player, team or game")
    for part in (ref.id, ref.game_id):
        if part is not None and not _ID.fullmatch(part):
            raise ConfigError(f"entity {ref.key()[:80]!r}: ids are 1 to 64 letters, digits, "
                              "'-', '_' or '.' (e.g. player:201939@0022000001)")
    if ref.kind == "game" and ref.game_id is None:
        ref = EntityRef("game", ref.id, ref.id)
    return ref


def normalise_name(name: str) -> str:
    """Lower case, accents dropped, runs of spaces and dots folded (``Dončić`` -> ``doncic``)."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace(".", " ")
    return " ".join(text.split())


def _candidates(games: Iterable[Any], kind: str) -> list[tuple[str, str, str]]:
    """(game_id, entity id, display name) of every entity of ``kind``, latest games last."""
    out = []
    for state in games:
        for (k, ident), entity in state.entities.items():
            if k == kind:
                out.append((state.game_id, ident, entity.name or ""))
    return out


def find_entity(games: Iterable[Any], kind: str, query: str,
                game_id: str | None = None) -> EntityRef:
    """The live ``kind`` entity ``query`` names (an id or a name), in ``game_id`` or any game.

    ``games`` are the tracked ``GameState`` objects, oldest first; when several games hold
    the entity, the latest one wins. Raises NotFoundError (with close names) or ConfigError
    (ambiguous, listing the matches).
    """
    if kind not in ("player", "team"):
        raise ConfigError(f"entity kind must be player or team, not {kind!r}")
    query = str(query).strip()
    if not query:
        raise ConfigError(f"give the {kind}'s id or name")
    states = [g for g in games if game_id is None or g.game_id == str(game_id)]
    if game_id is not None and not states:
        raise NotFoundError(f"game {game_id} is not tracked; list_live_games shows the games")
    pool = _candidates(states, kind)
    by_id = [c for c in pool if c[1] == query]
    if by_id:
        return EntityRef(kind, query, by_id[-1][0])
    wanted = normalise_name(query)
    for test in (lambda name: name == wanted,
                 lambda name: wanted in name.split() or name.endswith(" " + wanted)):
        found = [c for c in pool if c[2] and test(normalise_name(c[2]))]
        people = {c[1]: c for c in found}  # one person in several games counts once
        if len(people) == 1:
            latest = found[-1]
            return EntityRef(kind, latest[1], latest[0])
        if len(people) > 1:
            names = ", ".join(f"{c[2]} (id {c[1]})" for c in list(people.values())[:6])
            raise ConfigError(f"{kind} {query!r} matches several: {names}; give the id or "
                              "the full name")
    where = f"game {game_id}" if game_id else "any tracked game"
    names = sorted({c[2] for c in pool if c[2]})
    close = difflib.get_close_matches(query, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if not pool:
        hint = f"; {where} has no {kind}s yet (list_live_games shows what is tracked)"
    raise NotFoundError(f"no {kind} named or numbered {query!r} in {where}{hint}")
