"""Helpers that read reply objects in tests."""

from handlers.replies import Reply


def strings(reply: Reply) -> str:
    """Every piece of text in a reply, one per line."""
    parts = [reply.title, reply.text, reply.hint, reply.notice]
    for item in [*reply.items, *(i for s in reply.sections for i in s.items)]:
        parts += [item.title, item.body, *(f"{f.label}: {f.value}" for f in item.facts)]
    for section in reply.sections:
        parts += [
            section.heading,
            *section.lines,
            *(f"{f.label}: {f.value}" for f in section.facts),
        ]
    return "\n".join(str(p) for p in parts if p)
