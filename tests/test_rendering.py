"""Section bodies render to a small set of safe HTML tags: what the pharmacist
wrote is shown as lists and emphasis, and nothing typed can run as script."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template import Context, Template

from monographs import rendering
from monographs.importing import parse_monograph
from monographs.rendering import ALLOWED_TAGS, render_body


class TagCollector(HTMLParser):
    """The elements a browser would build from the HTML, with their attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html):
    collector = TagCollector()
    collector.feed(str(html))
    collector.close()
    return collector.tags


def tag_names(html):
    return [tag for tag, _ in elements(html)]


def test_paragraphs_render_as_p():
    html = render_body("First paragraph,\nwrapped.\n\nSecond paragraph.")
    assert tag_names(html) == ["p", "p"]
    assert "<p>First paragraph,\nwrapped.</p>" in html
    assert "<p>Second paragraph.</p>" in html


def test_bullet_list_renders_as_ul_after_its_introducing_paragraph():
    # The shape the importer produces.
    html = render_body("Indicated for:\n\n- multiple myeloma\n- myelodysplastic syndromes")
    assert tag_names(html) == ["p", "ul", "li", "li"]
    assert "<li>multiple myeloma</li>" in html
    assert "<li>myelodysplastic syndromes</li>" in html


def test_numbered_list_renders_as_ol():
    html = render_body("1. Swallow the capsule whole.\n2. Wash your hands afterwards.")
    assert tag_names(html) == ["ol", "li", "li"]
    assert "<li>Swallow the capsule whole.</li>" in html


def test_numbered_list_keeps_its_first_number():
    html = render_body("Continue:\n\n3. Swallow the capsule whole.\n4. Wash your hands.")
    assert elements(html)[1] == ("ol", {"start": "3"})


def test_bold_and_italic():
    html = render_body("Take **once daily**, *with or without* food.")
    assert html == "<p>Take <strong>once daily</strong>, <em>with or without</em> food.</p>\n"


def test_empty_body_renders_nothing():
    assert render_body("") == ""
    assert render_body(None) == ""


def test_output_is_marked_safe_so_templates_do_not_escape_it_twice():
    rendered = Template("{{ body }}").render(Context({"body": render_body("- **Nausea**")}))
    assert "<li><strong>Nausea</strong></li>" in rendered


def test_chinese_text_is_intact():
    text = "來那度胺是一種**免疫調節**藥物，用於治療多發性骨髓瘤。\n\n- 疲倦\n- 噁心"
    html = render_body(text)
    assert "<p>來那度胺是一種<strong>免疫調節</strong>藥物，用於治療多發性骨髓瘤。</p>" in html
    assert "<li>疲倦</li>" in html
    assert "<li>噁心</li>" in html


def test_hard_wrapped_import_renders_as_whole_paragraphs_and_a_list():
    # What a pharmacist pastes from a wrapped document, through the importer, onto the page.
    text = (
        "Side effects\n"
        "\n"
        "Patients often notice fatigue.\n"
        "Some also report mild nausea.\n"
        "\n"
        "常見副作用包括疲倦、\n"
        "噁心及皮疹。\n"
        "\n"
        "Side effects include:\n"
        "- fatigue\n"
        "- low white cell\n"
        "  counts\n"
    )
    parsed = parse_monograph(text)
    assert [section.kind for section in parsed.sections] == ["side_effects"]
    html = render_body(parsed.sections[0].body)
    assert tag_names(html) == ["p", "p", "p", "ul", "li", "li"]
    assert "<p>Patients often notice fatigue. Some also report mild nausea.</p>" in html
    assert "<p>常見副作用包括疲倦、噁心及皮疹。</p>" in html
    assert "<li>low white cell counts</li>" in html


def test_no_line_of_the_renderer_is_longer_than_the_project_allows():
    # The linter leaves line length to the formatter, which cannot wrap a line that ends in a comment.
    source = Path(rendering.__file__).read_text(encoding="utf-8")
    assert max(len(line) for line in source.splitlines()) <= 120


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "<svg onload=alert(1)>",
    "<javascript:alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<<script>script>alert(1)<</script>/script>",
    "**<script>alert(1)</script>**",
    "- <b onmouseover=alert(1)>item</b>",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_typed_html_and_script_links_never_become_live(payload):
    html = str(render_body(f"Before.\n\n{payload}\n\nAfter."))
    # Text keeps "<" escaped as "&lt;", so every "<" left in the output opens a real tag.
    markup = " ".join(re.findall(r"<[^>]*>", html)).lower()
    assert "<script" not in markup
    assert "<img" not in markup
    assert "<svg" not in markup
    assert "<iframe" not in markup
    assert "<a" not in markup
    assert "onerror=" not in markup
    assert "onload=" not in markup
    assert "href=" not in markup
    assert "javascript" not in markup
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not {"href", "src", "style"} & set(attrs), (tag, attrs)
    # The text around the payload is still shown.
    assert "<p>Before.</p>" in html
    assert "<p>After.</p>" in html


def test_typed_html_is_shown_as_text():
    # A reader sees what was typed, rather than it silently vanishing.
    html = render_body("x <img src=x onerror=alert(1)> y")
    assert html == "<p>x &lt;img src=x onerror=alert(1)&gt; y</p>\n"
    assert elements(html) == [("p", {})]


def test_control_characters_and_direction_overrides_are_left_out_but_variation_selectors_kept():
    # An edition approved before they were refused may hold them; tab and line breaks are ordinary text.
    html = render_body("Take\x0b with\x07 food\u202e daily.\n\n- 葛\U000e0100根\x85湯\n- tab\there")
    assert html == "<p>Take with food daily.</p>\n<ul>\n<li>葛\U000e0100根湯</li>\n<li>tab\there</li>\n</ul>\n"
