"""Running axe-core in a page under our CSP, and reading its answer.

``page.add_script_tag(path=...)`` puts the file's text into an inline ``<script>``, which our CSP
(``script-src 'self'``) refuses (``test_axe_cannot_be_added_as_a_script_tag`` shows it): the source is run
with ``page.evaluate`` instead, in the page's main world, where a CSP does not apply.
"""

import json

SERIOUS = ("serious", "critical")
# WCAG 2.x A and AA plus axe's best practices (landmarks, headings, duplicate ids...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def inject(page, source: str) -> None:
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(f"() => {{ {source}\n; return !!window.axe; }}")


def run(page, source: str, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe's violations on the page as it is now (open dialogs included), those of impact serious or critical."""
    inject(page, source)
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]} if exclude else "html"
    result = page.evaluate(
        """async ([context, tags]) => {
            const options = { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] };
            const r = await window.axe.run(context, options);
            return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({ target: n.target, impact: n.impact, summary: n.failureSummary,
                    html: n.html.slice(0, 200) })) }));
        }""",
        [context, TAGS],
    )
    return [v for v in result if v["impact"] in SERIOUS]


def describe(found: dict[str, list[dict]]) -> str:
    """``{where: violations}`` as lines a person can act on: rule, impact, help URL, then each target."""
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']} <{v['helpUrl']}>")
            for node in v["nodes"][:8]:
                summary = " ".join((node["summary"] or "").split())[:300]
                lines.append(f"    {json.dumps(node['target'])}  {summary}")
            if len(v["nodes"]) > 8:
                lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


WIDEST = """() => {
    const limit = document.documentElement.clientWidth;
    let worst = null;
    for (const el of document.querySelectorAll("body *")) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (box.right > limit + 0.5 && (!worst || box.right > worst.right)) {
            const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                (el.classList.length ? "." + Array.from(el.classList).join(".") : "");
            worst = { name, right: Math.round(box.right), width: Math.round(box.width) };
        }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, worst };
}"""


def overflow(page) -> dict | None:
    """None when the page does not scroll sideways; else its widths and the element reaching furthest right."""
    found = page.evaluate(WIDEST)
    return None if found["scrollWidth"] <= found["innerWidth"] else found
