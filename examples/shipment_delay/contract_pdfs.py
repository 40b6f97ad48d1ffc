"""Write the scenario's contracts as real PDF files (fpdf2, a build-time tool).

The PDFs in ``contracts/`` are committed; regenerate them after changing ``data.CONTRACTS``::

    .venv/bin/python -m examples.shipment_delay.contract_pdfs

fpdf2 is a development dependency only: at run time the documents service reads the committed
files with pypdf.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from examples.shipment_delay.data import CONTRACTS

CONTRACT_DIR = Path(__file__).parent / "contracts"
_FIXED_DATE = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
"""Every file carries the same creation date, so regenerating changes nothing."""


def contract_paths(directory: Path = CONTRACT_DIR) -> list[Path]:
    """The contract PDFs, one per contract, in contract order."""
    return [directory / f"{cid}.pdf" for cid in CONTRACTS]


def write_contract(contract_id: str, contract: dict[str, Any], path: Path) -> Path:
    """Lay out one contract: title, parties, then one numbered clause after another."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(f"{contract_id} {contract['title']}")
    pdf.set_author("Paddock Manufacturing GmbH, Legal")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, f"{contract_id}  {contract['title']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, f"Between {contract['parties']}.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for number, heading, text in contract["clauses"]:
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, f"{number} {heading}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def write_contracts(directory: Path = CONTRACT_DIR) -> list[Path]:
    """Write every contract of the scenario into ``directory``."""
    return [
        write_contract(cid, contract, directory / f"{cid}.pdf")
        for cid, contract in CONTRACTS.items()
    ]


def main() -> int:
    for path in write_contracts():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
