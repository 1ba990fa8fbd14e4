"""Section bodies: a small Markdown subset rendered to safe HTML.

Markdown keeps the stored text readable in diffs and in the importer's
output; paragraphs, bullet and numbered lists, bold and italic are all a
monograph needs. Raw HTML is never interpreted, and the output is
sanitised again with nh3 (an allow-list) so nothing a user types can run
as script, even if a parser bug let it through.
"""

import nh3
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from .text_rules import strip_controls

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "br"}

_markdown = MarkdownIt("zero", {"html": False, "breaks": False}).enable(
    ["paragraph", "list", "emphasis", "newline", "escape"]
)


def render_body(text):
    """Return sanitised HTML for a section body written in the Markdown subset, without control
    characters or text-direction overrides (an edition may predate their refusal)."""
    html = _markdown.render(strip_controls(text or ""))
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"ol": {"start"}}, url_schemes=set())
    # Safe by construction: raw HTML is off in the parser and nh3 keeps only ALLOWED_TAGS.
    return mark_safe(clean)  # nosec B308 B703
