"""``/v1/formulas``: the catalog, one formula, and custom definitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from courtside.api.auth import require_token
from courtside.api.schemas import DefineFormulasRequest

router = APIRouter(prefix="/v1/formulas", tags=["formulas"])


@router.get("")
async def list_formulas(request: Request, kind: str | None = None) -> dict[str, Any]:
    """Every formula (published and custom); ``?kind=stat|custom|step|context`` filters."""
    formulas = request.app.state.service.list_formulas(kind=kind)
    return {"count": len(formulas), "formulas": formulas}


@router.get("/{name}")
async def show_formula(name: str, request: Request) -> dict[str, Any]:
    """One formula's definition: expression, version, unit, citation, inputs."""
    return request.app.state.service.formula_info(name)


@router.post("", status_code=201, dependencies=[Depends(require_token)])
async def define_formulas(body: DefineFormulasRequest, request: Request) -> dict[str, Any]:
    """Define or redefine custom formulas (``NAME=EXPR``); live games compute them at once."""
    defined = await request.app.state.service.define_formulas(body.definitions)
    return {"defined": defined}
