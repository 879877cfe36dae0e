"""The HTML document: one self-contained page (inline CSS and SVG; no script, font or link to fetch).

Every string that comes from the data is escaped here or in `sections`; SVG comes from `svg`."""

from __future__ import annotations

from html import escape
from typing import Iterable, Sequence

CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #222;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 36px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 19px; margin: 32px 0 4px; padding-top: 16px; border-top: 1px solid #e6e6e6; }
h3 { font-size: 15px; margin: 20px 0 4px; }
p.lead, p.note { color: #555; margin: 0 0 10px; }
figure { margin: 10px 0 14px; }
figure svg { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 14px; margin: 6px 0 12px; }
th, td { padding: 4px 14px 4px 0; border-bottom: 1px solid #ececec; text-align: left; vertical-align: top; }
th { color: #555; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.key-numbers td:first-child { color: #555; }
table.key-numbers td:last-child { font-weight: 600; }
.no-data { color: #666; font-style: italic; background: #f6f6f6; padding: 12px 16px; border-radius: 6px; }
footer { margin-top: 36px; color: #777; font-size: 13px; }
code { font-size: 13px; }
"""


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[int] = (),
          css_class: str = "") -> str:
    """An HTML table; cells are escaped; columns listed in `numeric` are right-aligned."""
    def cell(tag: str, n: int, value: object) -> str:
        align = ' class="num"' if n in numeric else ""
        return f"<{tag}{align}>{escape(str(value))}</{tag}>"

    head = "".join(cell("th", n, h) for n, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", n, v) for n, v in enumerate(row)) + "</tr>" for row in rows)
    class_attribute = f' class="{escape(css_class)}"' if css_class else ""
    return f"<table{class_attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def no_data(message: str) -> str:
    return f'<p class="no-data">{escape(message)}</p>'


def document(title: str, subtitle: str, body: str, footer: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n<p class=\"lead\">{escape(subtitle)}</p>\n"
        f"{body}\n<footer>{footer}</footer>\n</main>\n</body>\n</html>\n"
    )
