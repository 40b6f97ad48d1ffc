"""The third-party supplier risk service: one score per supplier, with findings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from examples.supply_chain import data
from examples.supply_chain._spec import SupplyChainService
from paddock.local.service import HttpProblem, iso


def risk_level(score: float) -> str:
    """``low`` below 0.4, ``medium`` below 0.7, ``high`` from 0.7."""
    if score < 0.4:
        return "low"
    return "medium" if score < 0.7 else "high"


def require_api_key(expected: str, *, header: str = "X-Api-Key") -> Callable[[Request], str | None]:
    """A ``verify_auth`` that accepts only requests carrying ``expected`` in ``header``."""

    def verify(request: Request) -> str | None:
        given = request.headers.get(header)
        if given is None:
            return f"missing {header} header"
        return None if given == expected else f"invalid {header}"

    return verify


class RiskService(SupplyChainService):
    """The risk rating service. It only reads; its log shows who asked about whom."""

    key = "risk"

    def routes(self) -> list[BaseRoute]:
        return [Route("/suppliers/{supplier_id}/risk", self._get_risk_score, methods=["GET"])]

    def _seed(self) -> None:
        self._ratings = copy.deepcopy(data.RISK)
        assessed = self.clock().replace(hour=9, minute=30, second=0, microsecond=0)
        self._assessed_at = iso(assessed - timedelta(days=data.RISK_AGE_DAYS))

    @property
    def counts(self) -> dict[str, int]:
        """The risk service creates nothing."""
        return {}

    def set_score(
        self, supplier_id: str, score: float, findings: list[dict[str, Any]] | None = None
    ) -> None:
        """Change a rating (for tests of how an agent reacts to a changed risk picture)."""
        with self._lock:
            self._ratings[supplier_id] = {"score": score, "findings": list(findings or [])}

    async def _get_risk_score(self, request: Request) -> Response:
        args = await self.parse(request, "get_risk_score")
        supplier_id = args["supplier_id"]
        with self._lock:
            rating = copy.deepcopy(self._ratings.get(supplier_id))
        vendor = data.VENDORS.get(supplier_id)
        if rating is None or vendor is None:
            raise HttpProblem(404, "not_found", f"supplier {supplier_id} has not been rated")
        return JSONResponse(
            {
                "supplier_id": supplier_id,
                "name": vendor["name"],
                "score": rating["score"],
                "level": risk_level(rating["score"]),
                "findings": rating["findings"],
                "assessed_at": self._assessed_at,
            }
        )
