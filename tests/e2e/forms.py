"""The forms of a rendered page, as a browser would submit them (no JavaScript)."""

import html
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

TYPED = {"text", "email", "tel", "password", "number", "date", "month", "search", "url"}


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or textarea / select
    value: str = ""
    checked: bool = False  # checkboxes and radios
    options: list[str] = field(default_factory=list)

    @property
    def typed(self) -> bool:
        """A field a person types in or picks from (what they can put a character into)."""
        return self.kind in TYPED | {"textarea", "select", "file"}


@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)

    def pairs(self, changed: str | None = None, value: str = "") -> list[tuple[str, str]]:
        """What the form posts unchanged (default values, checked boxes, no button), with
        the field `changed` holding `value`. File fields are left out."""
        pairs = []
        radios_done = set()
        for f in self.fields:
            if f.kind in ("submit", "button", "reset", "image", "file"):
                continue
            if f.name == changed:
                if f.kind == "radio":
                    if f.name in radios_done:
                        continue
                    radios_done.add(f.name)
                pairs.append((f.name, value))
                continue
            if f.kind in ("checkbox", "radio") and not f.checked:
                continue
            if f.kind == "select":
                pairs.append((f.name, f.value or (f.options[0] if f.options else "")))
                continue
            pairs.append((f.name, f.value))
        return pairs


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._text: Field | None = None  # the textarea being read
        self._select: Field | None = None
        self._option: tuple[str, bool] | None = None
        self._template = 0  # inside <template>: a row for scripts to copy, never submitted

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if tag == "form":
            self._form = Form(
                a.get("action", ""),
                (a.get("method") or "get").lower(),
                a.get("enctype") == "multipart/form-data",
            )
            self.forms.append(self._form)
            return
        if self._form is None or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            self._form.fields.append(
                Field(a["name"], kind, a.get("value", ""), checked="checked" in a)
            )
        elif tag == "button":
            self._form.fields.append(Field(a["name"], "submit", a.get("value", "")))
        elif tag == "textarea":
            self._text = Field(a["name"], "textarea")
            self._form.fields.append(self._text)
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            self._select.options.append(value or "")
            if "selected" in a:
                self._select.value = value or ""

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        elif tag == "form":
            self._form = None
        elif tag == "textarea":
            self._text = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.value += data


def forms_of(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def shown(page: str) -> str:
    """The page's text as a person reads it, entities decoded (what a field shows)."""
    return html.unescape(page)


def multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body and its header, each file's name sent as RFC 5987's
    filename*=UTF-8''… (as browsers may): any character, control characters too, arrives."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, content in files:
        disposition = f"form-data; name=\"{name}\"; filename*=UTF-8''{quote(filename)}"
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
