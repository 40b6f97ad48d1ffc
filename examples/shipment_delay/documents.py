"""The contract repository (azure): contract PDFs and a clause search over their text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from examples.shipment_delay._spec import ShipmentService
from examples.shipment_delay.contract_pdfs import contract_paths
from examples.shipment_delay.retrieval import ContractIndex
from paddock.local.service import Clock, HttpProblem, Verifier


class ContractsService(ShipmentService):
    """Serves clause search over the contract PDFs it is given (the scenario's by default).

    The index is built once, when the service is created: text extraction and BM25 run in
    process, nothing is fetched.
    """

    key = "contracts"

    def __init__(
        self,
        *,
        pdfs: Sequence[Path] | None = None,
        verify_auth: Verifier | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.pdfs = list(pdfs) if pdfs is not None else contract_paths()
        self.index = ContractIndex.from_files(self.pdfs)
        super().__init__(verify_auth=verify_auth, clock=clock)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/contracts", self._list, methods=["GET"]),
            Route("/contracts/search", self._search, methods=["GET"]),
        ]

    def _seed(self) -> None:
        """The documents never change."""

    @property
    def counts(self) -> dict[str, int]:
        return {}

    async def _list(self, request: Request) -> Response:
        await self.parse(request, "list_contracts")
        pages: dict[str, int] = {}
        titles: dict[str, str] = {}
        for p in self.index.passages:
            pages[p.contract_id] = max(pages.get(p.contract_id, 0), p.page)
            titles[p.contract_id] = p.contract_title
        return JSONResponse(
            {
                "contracts": [
                    {"contract_id": cid, "title": titles[cid], "pages": pages[cid]}
                    for cid in self.index.contract_ids
                ]
            }
        )

    async def _search(self, request: Request) -> Response:
        args = await self.parse(request, "search_contract_clauses")
        contract_id = args.get("contract_id")
        if contract_id is not None and contract_id not in self.index.contract_ids:
            raise HttpProblem(404, "not_found", f"contract {contract_id} is unknown")
        hits = self.index.search(
            args["query"], top_k=int(args.get("top_k", 3)), contract_id=contract_id
        )
        return JSONResponse(
            {
                "query": args["query"],
                "passages": [
                    {
                        "contract_id": h.passage.contract_id,
                        "contract_title": h.passage.contract_title,
                        "clause": h.passage.clause,
                        "heading": h.passage.heading,
                        "page": h.passage.page,
                        "score": round(h.score, 4),
                        "text": h.passage.text,
                    }
                    for h in hits
                ],
            }
        )
