"""Notification texts: Jinja2 templates per language, which an operator can override.

Templates live in `tasks/message_templates/<lang>/<template>.txt` (the template is named
after the event: `remind.txt`, `escalate.txt`, …, with `default.txt` for the rest). A
directory given by the operator (`TATULASU_TEMPLATES_DIR`) is searched first, so a text
can be changed without touching code. The first line of a template is
`Subject: …` (used for e-mail); the rest is the body (e-mail and SMS). A template is
given the recipient's language as `lang`, and names a term by its title in the lifecycle
file with `{{ term | titled("term", lang) }}`, the words the pages use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

import states
from states.definition import Kind
from tasks.errors import PermanentDeliveryError

PACKAGE_TEMPLATES = Path(__file__).parent / "message_templates"
LANGUAGES = ("kk", "ru", "en")


class Renderer:
    def __init__(self, override_dir: Path | None = None) -> None:
        paths = [str(p) for p in (override_dir, PACKAGE_TEMPLATES) if p is not None]
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(paths),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["titled"] = titled

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """(subject, body) of a message, in the recipient's language (Kazakh by default)."""
        lang = language if language in LANGUAGES else "kk"
        try:
            tmpl = self._env.select_template([f"{lang}/{template}.txt", f"{lang}/default.txt"])
            text = tmpl.render({**context, "lang": lang})
        except jinja2.TemplateError as exc:
            raise PermanentDeliveryError(f"template {lang}/{template}: {exc}") from exc
        first, _, rest = text.partition("\n")
        if first.startswith("Subject:"):
            return first.removeprefix("Subject:").strip(), rest.strip()
        return "tatulasu", text.strip()


def titled(name: str, kind: Kind, language: str) -> str:
    """The lifecycle's title of a term, state or event (the name when it has none)."""
    for version in reversed(states.versions()):
        found = states.get(version).title_of(kind, name, language)
        if found:
            return found
    return name
