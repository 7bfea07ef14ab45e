"""Write the tiny WIOD mock ``MCK_NIOT_nov16.xlsx`` and its ``sea.csv`` (run from this folder).

Same layout as the WIOD 2016 national tables, with three industries (``A01``,
``C10-C12`` and ``U``, which has no output) and two years (2009; 2010 is 2009
times 1.1).  The Socio-Economic Accounts are in a national currency at
``NOMEXCH = 2`` per US dollar.  Every figure is chosen so that rows and columns
add up; tests/readers/test_wiod.py derives its expectations from the same
numbers (``MOCK``).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

CODES = ["A01", "C10-C12", "U"]
NAMES = [
    "Crop and animal production",
    "Manufacture of food products",
    "Activities of extraterritorial organizations and bodies",
]
FD = ["CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN", "EXP"]
FD_NAMES = [
    "Final consumption expenditure by households",
    "Final consumption by NPISH",
    "Final consumption expenditure by government",
    "Gross fixed capital formation",
    "Changes in inventories and valuables",
    "Exports",
]
# year 2009; 2010 is every figure times 1.1
DOMESTIC = [[10, 40, 0], [5, 20, 0], [0, 0, 0]]
DOMESTIC_FD = [[20, 0, 5, 0, 1, 24], [60, 1, 4, 0, -1, 11], [0, 0, 0, 0, 0, 0]]
OUTPUT = [100, 100, 0]
IMPORTS = [[2, 3, 0], [1, 7, 0], [0, 0, 0]]
IMPORTS_FD = [[4, 0, 0, 0, 0, 0], [9, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
TOT = {  # code: (description, per-industry values)
    "II_fob": ("Total intermediate consumption", [18, 70, 0]),
    "TXSP": ("taxes less subsidies on products", [1, 2, 0]),
    "EXP_adj": ("Cif/ fob adjustments on exports", [0, 0, 0]),
    "PURR": ("Direct purchases abroad by residents", [0, 0, 0]),
    "PURNR": ("Purchases on the domestic territory by non-residents", [0, 0, 0]),
    "VA": ("Value added at basic prices", [80.5, 27, 0]),
    "IntTTM": ("International Transport Margins", [0.5, 1, 0]),
    "GO": ("Output at basic prices", [100, 100, 0]),
}
YEARS = {2009: 1.0, 2010: 1.1}
NOMEXCH = 2.0
# SEA per industry for 2010 (2009: hours and persons the same, money / 1.1)
SEA_2010 = {
    "A01": {"H_EMPE": 5.0, "EMP": 4.0, "EMPE": 2.0, "COMP": 60.0, "LAB": 100.0, "K": 500.0},
    "C10-C12": {"H_EMPE": 8.0, "EMP": 5.0, "EMPE": 4.0, "COMP": 30.0, "LAB": 35.0, "K": 300.0},
    "U": {"H_EMPE": 0.0, "EMP": 0.0, "EMPE": 0.0, "COMP": 0.0, "LAB": 0.0, "K": 0.0},
}
SEA_COLUMNS = [
    "country",
    "code",
    "year",
    "CAP",
    "COMP",
    "EMP",
    "EMPE",
    "GO",
    "H_EMPE",
    "K",
    "LAB",
    "VA",
    "NOMEXCH",
]


def write_table(path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes.append(["Country", "Mockland"])
    notes.append(["Values are denoted in millions of US dollars"])
    ws = wb.create_sheet("National IO-tables")
    ws.append(["Year", "Code", "Description", "Origin", *CODES, *FD, "GO"])
    ws.append([None, None, None, None, *NAMES, *FD_NAMES, "Total output"])
    for year, f in YEARS.items():
        for i, c in enumerate(CODES):
            ws.append(
                [
                    year,
                    c,
                    NAMES[i],
                    "Domestic",
                    *[v * f for v in DOMESTIC[i]],
                    *[v * f for v in DOMESTIC_FD[i]],
                    OUTPUT[i] * f,
                ]
            )
        for i, c in enumerate(CODES):
            ws.append(
                [
                    year,
                    c,
                    NAMES[i],
                    "Imports",
                    *[v * f for v in IMPORTS[i]],
                    *[v * f for v in IMPORTS_FD[i]],
                    0,
                ]
            )
        for code, (desc, vals) in TOT.items():
            ws.append([year, code, desc, "TOT", *[v * f for v in vals], *[0] * len(FD), 0])
    wb.save(path)


def sea_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    for year, f in YEARS.items():
        for i, c in enumerate(CODES):
            s = SEA_2010[c]
            money = f / 1.1
            go = OUTPUT[i] * f * NOMEXCH
            va = TOT["VA"][1][i] * f * NOMEXCH
            lab = s["LAB"] * money
            rows.append(
                [
                    "MCK",
                    c,
                    year,
                    round(va - lab, 9),
                    s["COMP"] * money,
                    s["EMP"],
                    s["EMPE"],
                    round(go, 9),
                    s["H_EMPE"],
                    s["K"] * money,
                    lab,
                    round(va, 9),
                    NOMEXCH,
                ]
            )
    return rows


def write_sea(path: Path) -> None:
    lines = [",".join(SEA_COLUMNS)]
    lines += [",".join(str(v) for v in r) for r in sea_rows()]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    here = Path(__file__).parent
    write_table(here / "MCK_NIOT_nov16.xlsx")
    write_sea(here / "sea.csv")
