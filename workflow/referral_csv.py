"""Reading a bailiff's CSV export: encoding, separator, headers in three languages.

Bailiffs export referrals from their own systems, so the file is whatever those systems
write: UTF-8 with or without a BOM, `;` (Excel in a Russian locale) or `,`, headers in
Kazakh, Russian or English. A file that cannot be read at all (another encoding, a
missing column) is refused as a whole with `InvalidField("file", ...)`; what is wrong
with single rows is left to `workflow.referral_rows`. Line numbers are the file's own
(the header is line 1), so the bailiff can find a row in his editor.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from workflow.errors import InvalidField

# Canonical column -> spellings seen in exports (compared after `header_key`).
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "enforcement_proceeding": (
        "enforcement proceeding", "enforcement proceeding number", "proceeding",
        "номер исполнительного производства", "исполнительное производство", "номер ип", "ип",
        "атқарушылық іс жүргізу нөмірі", "атқарушылық іс жүргізу",
    ),
    "proceeding_opened_on": (
        "proceeding opened on", "opened on",
        "дата возбуждения", "дата возбуждения ип", "дата возбуждения производства",
        "қозғалған күні", "іс жүргізу қозғалған күні",
    ),
    "region": ("region", "регион", "область", "өңір", "облыс"),
    "centre": ("centre", "center", "центр примирения", "центр", "татуласу орталығы", "орталық"),
    "subject": ("subject", "предмет спора", "суть спора", "дау мәні", "даудың мәні"),
    "language": ("language", "язык", "тіл"),
    "debtor_name": (
        "debtor", "debtor name", "должник", "фио должника", "наименование должника",
        "борышкер", "борышкердің аты", "борышкердің атауы",
    ),
    "debtor_iin_bin": (
        "debtor iin bin", "debtor iin", "debtor bin", "иин бин должника", "иин должника",
        "бин должника", "борышкердің жсн бсн", "борышкердің жсн", "борышкердің бсн",
    ),
    "debtor_phone": ("debtor phone", "телефон должника", "борышкердің телефоны"),
    "debtor_email": (
        "debtor email", "debtor e mail", "email должника", "e mail должника",
        "электронная почта должника", "борышкердің электрондық поштасы", "борышкердің email",
    ),
    "debtor_language": ("debtor language", "язык должника", "борышкердің тілі"),
    "creditor_name": (
        "creditor", "creditor name", "взыскатель", "фио взыскателя",
        "наименование взыскателя", "өндіріп алушы", "өндіріп алушының аты",
        "өндіріп алушының атауы",
    ),
    "creditor_iin_bin": (
        "creditor iin bin", "creditor iin", "creditor bin", "иин бин взыскателя",
        "иин взыскателя", "бин взыскателя", "өндіріп алушының жсн бсн",
        "өндіріп алушының жсн", "өндіріп алушының бсн",
    ),
    "creditor_phone": ("creditor phone", "телефон взыскателя", "өндіріп алушының телефоны"),
    "creditor_email": (
        "creditor email", "creditor e mail", "email взыскателя", "e mail взыскателя",
        "электронная почта взыскателя", "өндіріп алушының электрондық поштасы",
        "өндіріп алушының email",
    ),
    "creditor_language": ("creditor language", "язык взыскателя", "өндіріп алушының тілі"),
}  # fmt: skip

REQUIRED = (
    "enforcement_proceeding",
    "proceeding_opened_on",
    "debtor_name",
    "debtor_iin_bin",
    "creditor_name",
    "creditor_iin_bin",
)

_NOT_WORD = re.compile(r"[\W_]+")
_GUESS_BYTES = 64 * 1024  # enough text to recognise Cyrillic in another encoding


def header_key(text: str) -> str:
    """`ИИН/БИН должника` and `иин-бин  должника` are one column: compare words only."""
    return _NOT_WORD.sub(" ", text.casefold().replace("ё", "е")).strip()


_ALIASES = {header_key(alias): name for name, spellings in COLUMNS.items() for alias in spellings}
_ALIASES.update({header_key(name): name for name in COLUMNS})


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]
    # Filled cells beyond the header's columns: usually a separator inside a value.
    surplus_cells: int = 0


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    columns: list[str]
    ignored_columns: list[str]
    delimiter: str


@dataclass(frozen=True)
class Stream:
    """A file whose header was read and checked; its rows are read lazily, again and again.

    Rows are decoded and split as they are read (`rows()`), so a file of 200,000 rows is
    never held as text or as a list: an import checks it in one pass and opens it in a
    second. An encoding or quoting fault met on the way is `InvalidField("file", …)`
    naming the line.
    """

    data: bytes
    delimiter: str
    positions: list[str]  # canonical name per column position, "" for an ignored column
    ignored_columns: list[str]

    @property
    def columns(self) -> list[str]:
        return [c for c in self.positions if c]

    def rows(self) -> Iterator[Row]:
        text = io.TextIOWrapper(io.BytesIO(self.data), encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        start = 1
        try:
            next(reader)  # the header, checked by `stream`
            start = reader.line_num + 1
            width = len(self.positions)
            named = [(i, name) for i, name in enumerate(self.positions) if name]
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    values = {name: cells[i].strip() if i < len(cells) else "" for i, name in named}
                    surplus = sum(1 for cell in cells[width:] if cell.strip())
                    yield Row(line=start, values=values, surplus_cells=surplus)
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InvalidField("file", f"line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            decode(self.data)  # raises, naming the exact line
            raise


def decode(data: bytes) -> str:
    """UTF-8, with or without a BOM; anything else is refused with the line at fault."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = _guess_encoding(data)
        raise InvalidField(
            "file", f"is not UTF-8 (line {line}){guess}: save it as CSV UTF-8 and upload again"
        ) from None


def _guess_encoding(data: bytes) -> str:
    """Name the usual culprit: Excel on a Russian or Kazakh Windows writes cp1251."""
    try:
        text = data[:_GUESS_BYTES].decode("cp1251")
    except UnicodeDecodeError:
        return ""
    letters = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    return "; it looks like Windows-1251 (cp1251)" if letters else ""


def stream(data: bytes, *, optional_with_default: frozenset[str] = frozenset()) -> Stream:
    """Read and check the header of a referral file; its rows come from `Stream.rows()`.

    `optional_with_default` names required-looking columns the caller can fill in (a
    bailiff's own region and centre), so the file may leave them out.
    """
    first_line = data.split(b"\n", 1)[0]
    first = decode(first_line).rstrip("\r")
    if not first.strip():
        raise InvalidField("file", "is empty: the first line must name the columns")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidField("file", f"line 1: {exc}") from None
    positions, ignored = _columns(header)
    needed = [*REQUIRED, *(c for c in ("region", "centre") if c not in optional_with_default)]
    missing = [name for name in needed if name not in positions]
    if missing:
        raise InvalidField("file", f"missing column(s): {', '.join(missing)} (see the README)")
    return Stream(data, delimiter, positions, ignored)


def parse(data: bytes, *, optional_with_default: frozenset[str] = frozenset()) -> Table:
    """The whole file at once (a small file): its rows as {canonical column: text}."""
    table = stream(data, optional_with_default=optional_with_default)
    return Table(list(table.rows()), table.columns, table.ignored_columns, table.delimiter)


def _columns(header: list[str]) -> tuple[list[str], list[str]]:
    """Canonical names by position ("" for an ignored column), and the ignored headers."""
    names: list[str] = []
    ignored: list[str] = []
    for cell in header:
        name = _ALIASES.get(header_key(cell), "")
        if name and name in names:
            raise InvalidField("file", f"column {name!r} appears twice (as {cell!r})")
        if not name and cell.strip():
            ignored.append(cell.strip())
        names.append(name)
    return names, ignored
