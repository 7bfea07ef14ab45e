"""The web pages' messages for translators: extract them, and list what each locale lacks.

    python scripts/i18n.py extract [-o messages.pot]   # every marked message, as a PO template
    python scripts/i18n.py check                       # per locale: untranslated, orphaned,
                                                       # translated twice differently (exit 1)
    python scripts/i18n.py todo pt_BR -o todo.po       # the untranslated ones, to fill in
    python scripts/i18n.py unmarked [TEMPLATE ...]     # words a template shows unmarked

Messages are marked in ``src/gosplan/web`` (templates: ``{{ _("...") }}``; Python:
``_("...")`` from ``i18n.translator``, ``N_("...")`` where a message is only marked). They
are extracted with Babel's API and ``babel.cfg``'s method map, the same extraction as
``pybabel extract -F babel.cfg -o messages.pot .`` at the repository's root. A locale's
catalog is every ``.po`` file of ``src/gosplan/web/locale/<locale>/LC_MESSAGES`` merged
(each helper or translator may keep their own file there), as the application reads it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from jinja2 import Environment

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
            if msg.id:
                yield Entry(msgkey(msg), translation(msg), po, msg.fuzzy)


def msgkey(msg: Message) -> str:
    """A message's key as the application looks it up: its id (a plural's singular), after
    its context and an EOT where it has one (gettext's convention)."""
    msgid = msg.id if isinstance(msg.id, str) else str(msg.id[0])
    return f"{msg.context}\x04{msgid}" if msg.context else msgid


def translation(msg: Message) -> str:
    """A message's translation; a plural's forms one per line, or "" if any form is empty."""
    if isinstance(msg.string, str):
        return msg.string
    forms = [str(f) for f in msg.string or ()]
    return "\n".join(forms) if forms and all(f.strip() for f in forms) else ""


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
    used = {msgkey(m): [f"{p}:{n}" for p, n in m.locations] for m in marked if m.id}
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


#: attributes whose words a reader sees or hears
SHOWN_ATTRS = frozenset({"aria-label", "title", "placeholder", "alt", "label"})
#: words that are the same in every language (names, units, standards)
SAME_IN_ALL = frozenset({"gosplan", "JSON", "API", "UTC", "SHA", "CV", "MB", "RFC", "C2SP"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]+")


class _ShownWords(HTMLParser):
    """Text and shown attributes of an HTML page, outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in SHOWN_ATTRS and value:
                self._text(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            lead = data[: len(data) - len(data.lstrip(" \t\n\0"))]
            self._text(data, lead.count("\n"))

    def _text(self, text: str, down: int = 0) -> None:
        text = text.replace("\0", " ")
        if "<" in text or '="' in text or text.strip().endswith(">"):
            return  # the rest of a tag that a Jinja construct inside it cut in two
        if any(w not in SAME_IN_ALL for w in _WORD.findall(text)):
            self.found.append((self.getpos()[0] + down, " ".join(text.split())))


def unmarked(template: Path) -> list[tuple[int, str]]:
    """Words ``template`` shows as literal text rather than through ``_()``: (line, text).

    Every Jinja construct (``{{ ... }}``, ``{% ... %}``) is blanked out; what is left is
    the template's own HTML, whose text and shown attributes must hold no word."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    parts: list[str] = []
    line = 1
    for lineno, kind, value in env.lex(template.read_text(encoding="utf-8")):
        if kind == "data":
            parts.append(value)
            line += value.count("\n")
        elif lineno > line:  # keep the lines where they were, for the report
            parts.append("\n" * (lineno - line))
            line = lineno
        if kind.endswith("_begin"):
            parts.append("\0")
    parser = _ShownWords()
    parser.feed("".join(parts))
    parser.close()
    return parser.found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="write every marked message to a PO template")
    ex.add_argument("-o", "--output", default="messages.pot")
    sub.add_parser("check", help="per locale: untranslated, orphaned and conflicting messages")
    todo = sub.add_parser("todo", help="write a locale's untranslated messages to a .po file")
    todo.add_argument("locale")
    todo.add_argument("-o", "--output", required=True)
    um = sub.add_parser("unmarked", help="words templates show without _() (default: all)")
    um.add_argument("templates", nargs="*", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "unmarked":
        paths = args.templates or sorted((WEB / "templates").glob("**/*.html"))
        left = [(p, n, t) for p in paths for n, t in unmarked(p)]
        for p, n, t in left:
            print(f"{p}:{n}: {t}")
        return 1 if left else 0
    marked = extract()
    if args.cmd == "extract":
        with open(args.output, "wb") as fh:
            write_po(fh, marked, width=100)
        print(f"{len(marked)} messages written to {args.output}")
        return 0
    if args.cmd == "todo":
        rep = check(args.locale, marked)
        out = Catalog(locale=args.locale, project="gosplan", charset="utf-8")
        by_key = {msgkey(m): m for m in marked if m.id}
        for k in rep.untranslated:
            m = by_key[k]
            out.add(m.id, "", m.locations, auto_comments=m.auto_comments, context=m.context)
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
