"""The "before / after" button of a result: it opens the result beside its template, played in step (the
view itself is compare.js, in the page). The template is the face video or photo as it was uploaded, shown
from ``uploads/`` by the server (a format it does not serve, such as .mkv, shows as its thumbnail); a template
from elsewhere (a batch file's path) has no button."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Callable

from ..media.files import IMAGE_EXTS
from .i18n import tr

UrlFor = Callable[..., "str | None"]


def compare_button(url_for: UrlFor, template: str | None, output: str | None, version: str, *, lang: str,
                   loop_mode: str | None = None, poster: str | None = None) -> str:
    """HTML of the button for one result (``""`` when the server does not show its template or output).

    ``loop_mode`` is the result's option (how a short template was stretched to the speech); ``poster`` a
    picture of the template, shown when the browser cannot play its format."""
    before = url_for(template) if template else None
    after = url_for(output, version) if output else None
    if not after or not (before or poster):       # a template the server does not show: its still, if any
        return ""
    kind = "image" if Path(template).suffix.lower() in IMAGE_EXTS else "video"
    attrs = {"data-before": before or "", "data-after": after, "data-kind": kind,
             "data-loop": loop_mode or "pingpong", "data-name": Path(output).name, "data-poster": poster or "",
             "title": tr("compare_tip", lang)}
    data = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<button type="button" class="hg-compare-open" {data}>⇆ {html.escape(tr("compare", lang))}</button>'


def template_poster(ws, url_for: UrlFor, template: str | None) -> str | None:
    """The address of an uploaded template's thumbnail, when the upload list has made one."""
    from .library import upload_thumbnail

    if not template:
        return None
    thumb = upload_thumbnail(ws, Path(template))
    return url_for(str(thumb), Path(template).parent.name) if thumb.is_file() else None
