"""Write ``scb-mock-sut.xlsx``: a three-product copy of the SCB supply–use layout.

Run from the repository root: ``python tests/data/scb/make_mock.py``.  The
numbers are made up but consistent; the layout (block titles in column A,
codes in column B, industries from column C, ``Summa``, the final-demand block
with its own product-code column, the other-variables block with the hours
row) is that of ``scb-nrio-sut-181108.xlsx``.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

CODES = ["A01", "C10T12", "G45-47"]
FD = [
    "Hushållens konsumtionsutgifter",
    "HIO:s konsumtionsutgifter",
    "Offentliga konsumtionsutgifter",
    "Näringslivets fasta bruttoinvesteringar",
    "Offentliga fasta bruttoinvesteringar",
    "Lagerinvestering",
    "Investering i värdeföremål",
    "Export",
]
SUPPLY = [[100.0, 0.0, 0.0], [5.0, 200.0, 0.0], [0.0, 0.0, 150.0]]
USE = [[10.0, 40.0, 0.0], [5.0, 30.0, 10.0], [3.0, 6.0, 9.0]]
IMPORTS = [[1.0, 2.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 2.0]]
# final demand of domestic products: households, ..., exports (rows balance with supply)
FINAL = [
    [30.0, 0, 0, 0, 0, 0, 0, 20.0],
    [100.0, 0, 0, 20.0, 0, 5.0, 0, 35.0],
    [90.0, 2.0, 20.0, 0, 0, 0, 0, 20.0],
]
HOURS_10K = [10.0, 30.0, 20.0]
PERSONS = [100.0, 200.0, 100.0]


def sheet_rows(year: int) -> list[list[object]]:
    n = len(CODES)
    g = [sum(SUPPLY[i][j] for i in range(n)) for j in range(n)]
    ic = [sum(USE[i][j] + IMPORTS[i][j] for i in range(n)) for j in range(n)]
    va = [g[j] - ic[j] for j in range(n)]
    wages = [0.6 * v for v in va]
    social = [0.1 * v for v in va]
    dep = [0.1 * v for v in va]
    surplus = [va[j] - wages[j] - social[j] - dep[j] for j in range(n)]
    zeros = [0.0] * n
    other = [
        ("Produktionsvärde", g),
        ("Insatsförbrukning, marknadspris", ic),
        ("Förädlingsvärde", va),
        ("Import", [sum(c) for c in zip(*IMPORTS, strict=True)]),
        ("Svenskars direktköp utomland", zeros),
        ("Utländska direktköp i Sverige", zeros),
        ("Tull", zeros),
        ("Produktskatter", zeros),
        ("Produktsubventioner", zeros),
        ("Moms", zeros),
        ("Övriga produktionsskatter", zeros),
        ("Övriga produktionssubventioner", zeros),
        ("Egentlig lön", wages),
        ("Arbetsgivares sociala avgifter", social),
        ("Kapitalförslitning", dep),
        ("Driftsöverskott och sammansatt förvärvsinkomst, netto", surplus),
        ("Antal sysselsatta", PERSONS),
        ("Arbetade timmar (10K)", HOURS_10K),
        ("Koldioxid (KTon)", [1.5, 2.5, 0.5]),
    ]
    head: list[object] = [None, None, *CODES, "Summa"]
    rows: list[list[object]] = [[year]]
    rows.append(
        [
            "Insatsmatris - inhemsk - produkt x bransch",
            *[None] * (n + 4),
            "Slutlig användning - inhemsk produktion - produkt",
        ]
    )
    rows.append([*head, None, None, *FD, "Summa", None, "Total exports"])
    for i, c in enumerate(CODES):
        rows.append(
            [None, c, *USE[i], sum(USE[i]), None, c, *FINAL[i], sum(FINAL[i]), None, FINAL[i][-1]]
        )
    rows.append([None, "Koldioxid (KTon)", *zeros, 0.0, None, "Summa"])
    rows += [[], [], ["Övriga variabler bransch"], head]
    for label, vals in other:
        rows.append([None, label, *vals, sum(vals)])
    rows += [[], [], ["Insatsmatris - import - produkt x bransch"], head]
    for i, c in enumerate(CODES):
        rows.append([None, c, *IMPORTS[i], sum(IMPORTS[i])])
    rows.append([None, "CO2", *zeros, 0.0])
    rows += [[], [], ["Tillförselmatris - inhemsk produktion - produkt x bransch"], head]
    for i, c in enumerate(CODES):
        rows.append([None, c, *SUPPLY[i], sum(SUPPLY[i])])
    rows.append([None, "Koldioxid (KTon)", 1.5, 2.5, 0.5, 4.5])
    return rows


def write(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for year in (2015, 2016):
        ws = wb.create_sheet(str(year))
        for row in sheet_rows(year):
            ws.append(row)
    wb.save(path)
    return path


if __name__ == "__main__":
    print(write(Path(__file__).resolve().parent / "scb-mock-sut.xlsx"))
