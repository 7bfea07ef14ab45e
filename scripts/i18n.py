"""The web pages' messages for translators: extract them, and list what each locale lacks.

    python scripts/i18n.py extract [-o messages.pot]   # every marked message, as a PO template
    python scripts/i18n.py check                       # per locale: untranslated, orphaned,
                                                       # translated twice differently (exit 1)
    python scripts/i18n.py todo pt_BR -o todo.po       # the untranslated ones, to fill in

Messages are marked in ``src/gosplan/web`` (templates: ``{{ _("...") }}``; Python:
``_("...")`` from ``i18n.translator``, ``N_("...")`` where a message is only marked). They
are extracted with Babel's API and ``babel.cfg``'s method map, the same extraction as
``pybabel extract -F babel.cfg -o messages.pot .`` at the repository's root. A locale's
catalog is every ``.po`` file of ``src/gosplan/web/locale/<locale>/LC_MESSAGES`` merged
(each helper or translator may keep their own file there), as the application reads it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "src" / "gosplan" / "web"
LOCALE_DIR = WEB / "locale"
PREFIX = "src/gosplan/web/"


def method_map(cfg: Path = ROOT / "babel.cfg") -> tuple[list[tuple[str, str]], dict[str, dict]]:
    """``babel.cfg``'s patterns, made relative to ``src/gosplan/web``, and their options."""
    with cfg.open(encoding="utf-8") as fh:
        methods, options = parse_mapping_cfg(fh, filename=str(cfg))
    rel = [(p.removeprefix(PREFIX), m) for p, m in methods]
    return rel, {p.removeprefix(PREFIX): o for p, o in options.items()}


def extract(web: Path = WEB) -> Catalog:
    """Every message marked in the web application's templates and Python code."""
    methods, options = method_map()
    cat = Catalog(project="gosplan", charset="utf-8")
    found = extract_from_dir(str(web), methods, options, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        path = (web / filename).relative_to(ROOT).as_posix()
        cat.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return cat


def locales() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())


@dataclass
class Entry:
    msgid: str
    msgstr: str
    po: Path
    fuzzy: bool


def po_entries(locale: str) -> Iterator[Entry]:
    """Every entry of every ``.po`` file of ``locale`` (not the header)."""
    for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=locale)
        for msg in cat:
            if msg.id and isinstance(msg.id, str):
                yield Entry(msg.id, str(msg.string or ""), po, msg.fuzzy)


@dataclass
class Report:
    locale: str
    #: marked messages with no translation (or only a fuzzy one), with where they are used
    untranslated: dict[str, list[str]] = field(default_factory=dict)
    #: catalog entries no page uses any more: msgid → the .po file that holds it
    orphaned: dict[str, str] = field(default_factory=dict)
    #: msgids translated differently in two .po files: msgid → {file: translation}
    conflicting: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.untranslated or self.orphaned or self.conflicting)


def check(locale: str, marked: Catalog | None = None) -> Report:
    """What ``locale``'s merged catalog lacks, keeps needlessly, or says twice."""
    marked = marked if marked is not None else extract()
    used = {m.id: [f"{p}:{n}" for p, n in m.locations] for m in marked if m.id}
    rep = Report(locale)
    translated: dict[str, dict[str, str]] = {}
    for e in po_entries(locale):
        name = e.po.relative_to(ROOT).as_posix()
        if e.msgid not in used:
            rep.orphaned[e.msgid] = name
        if e.msgstr.strip() and not e.fuzzy:
            translated.setdefault(e.msgid, {})[name] = e.msgstr
    for msgid, by_file in translated.items():
        if len(set(by_file.values())) > 1:
            rep.conflicting[msgid] = by_file
    for msgid, where in used.items():
        if msgid not in translated:
            rep.untranslated[msgid] = where
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="write every marked message to a PO template")
    ex.add_argument("-o", "--output", default="messages.pot")
    sub.add_parser("check", help="per locale: untranslated, orphaned and conflicting messages")
    todo = sub.add_parser("todo", help="write a locale's untranslated messages to a .po file")
    todo.add_argument("locale")
    todo.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    marked = extract()
    if args.cmd == "extract":
        with open(args.output, "wb") as fh:
            write_po(fh, marked, width=100)
        print(f"{len(marked)} messages written to {args.output}")
        return 0
    if args.cmd == "todo":
        rep = check(args.locale, marked)
        out = Catalog(locale=args.locale, project="gosplan", charset="utf-8")
        for msgid in rep.untranslated:
            m = marked[msgid]
            out.add(msgid, "", m.locations, auto_comments=m.auto_comments)
        with open(args.output, "wb") as fh:
            write_po(fh, out, width=100, omit_header=False)
        print(f"{len(out)} untranslated messages of {args.locale} written to {args.output}")
        return 0
    bad = False
    for loc in locales():
        rep = check(loc, marked)
        print(
            f"{loc}: {len(marked)} marked, {len(rep.untranslated)} untranslated, "
            f"{len(rep.orphaned)} orphaned, {len(rep.conflicting)} translated differently twice"
        )
        for msgid, where in rep.untranslated.items():
            print(f"  untranslated: {msgid!r} ({', '.join(where)})")
        for msgid, po in rep.orphaned.items():
            print(f"  orphaned: {msgid!r} in {po}")
        for msgid, by_file in rep.conflicting.items():
            print(f"  conflicting: {msgid!r}: {by_file}")
        bad = bad or not rep.ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
