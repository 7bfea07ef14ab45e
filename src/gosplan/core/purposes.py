"""The purposes final demand serves, and how a publisher's column heading maps onto them."""

from __future__ import annotations

#: Standard purposes of final demand; readers map each publisher's columns onto them.
PURPOSES = (
    "personal",  # household consumption
    "social",  # government / non-profit consumption: health, education, care ...
    "investment",  # gross fixed capital formation
    "stocks",  # changes in inventories and valuables
    "exports",
    "other",
)

#: words in a column heading (lower case, any language we read) -> its purpose
PURPOSE_WORDS = {
    "exports": ("export", "exp", "exportação", "exportacao"),
    "social": (
        "government",
        "ggfc",
        "npish",
        "general gov",
        "public",
        "offentlig",
        "offentliga",
        "governo",
        "non-profit",
        "nonprofit",
        "isflsf",
        "hushållens icke",
    ),
    "investment": (
        "gfcf",
        "gdfcf",
        "capital formation",
        "fixed capital",
        "investment",
        "fbkf",
        "investeringar",
        "fasta bruttoinvesteringar",
    ),
    "stocks": ("stocks", "inventor", "valuables", "lagerinvesteringar", "estoque"),
    "personal": (
        "household",
        "consumers",
        "private consumption",
        "hushåll",
        "famílias",
        "familias",
        "personal",
    ),
}


def guess_purpose(column: str) -> str:
    """The purpose a final-demand column serves, guessed from its heading (else ``other``)."""
    c = column.lower()
    for purpose, words in PURPOSE_WORDS.items():
        if any(w in c for w in words):
            return purpose
    return "other"
