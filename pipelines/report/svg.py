"""A matplotlib figure as an inline <svg> element for an HTML page that works offline.

Text is drawn as paths (matplotlib's default `svg.fonttype`), so the page needs no font. Element
ids get a per-chart prefix and are numbered in order: several charts on one page must not share
ids (a `<use href="#...">` would resolve to another chart's glyph), and the same data gives the
same page."""

from __future__ import annotations

import html
import io
import re

from matplotlib.figure import Figure

_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(\bid="|#)([A-Za-z_][\w.:-]*)')


def figure_svg(figure: Figure, prefix: str, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # drop the XML declaration and DOCTYPE: not valid inside HTML
    ids = {old: f"{prefix}-{n}" for n, old in enumerate(dict.fromkeys(_ID.findall(text)))}
    text = _REFERENCE.sub(lambda m: m.group(1) + ids.get(m.group(2), m.group(2)), text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(title)}" ', 1).strip()
