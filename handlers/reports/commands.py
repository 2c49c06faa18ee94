"""`/soc rag chart` and `/soc report quarter`: a picture for the channel, a paper by DM."""

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import require_admin, visibility_for
from handlers.register.summary import rag_summary
from handlers.replies import Delivery, Reply, ReplyFile
from handlers.reports.document import breakdown, quarterly_paper
from handlers.reports.papers import quarterly_report
from handlers.reports.snapshot import chart_data, take_snapshot
from handlers.text.parsing import Args
from handlers.text.quarters import parse_quarter
from models.actions import PUBLIC

FORMATS = {"docx": "Word", "xlsx": "Excel", "md": "Markdown"}
REPORT_OPTIONS = frozenset({"format"})


def rag_chart(session: Session, ctx: Context, args: Args) -> Reply:
    """The RAG summary in the channel, followed by the chart as an image."""
    require_admin(ctx, "post the RAG chart in the channel")
    args.expect_no_words("rag chart", f"Type `{ctx.surface.typed('rag chart')}`.")
    reply = rag_summary(session, ctx, Args())
    # The channel is a kind of publication: the chart counts only non-confidential actions.
    snap = take_snapshot(session, ctx.board, at=ctx.now, visibility=PUBLIC, public=True, tz=ctx.tz)
    chart = chart_data(session, ctx.board, snap, tz=ctx.tz)
    day = ctx.today.isoformat()
    reply.files.append(
        ReplyFile(f"RAG chart, {day}", f"rag-chart-{day}.png", "png", chart, Delivery.CHANNEL)
    )
    reply.text += (
        " The chart follows as an image."
        if ctx.surface.files
        else f" The chart is an image: `soc-bot report chart --output rag-chart-{day}.png`."
    )
    return reply


def report_quarter(session: Session, ctx: Context, args: Args) -> Reply:
    """The quarterly activity report as a file, sent to the person who asked by direct message."""
    member = require_admin(ctx, "produce the quarterly activity report")
    words = [w for w in args.words if w.casefold() != "public"]
    public = len(words) != len(args.words)
    fmt = args.options.get("format", "docx").casefold().lstrip(".")
    if fmt not in FORMATS:
        raise CommandError(
            f"“{fmt}” is not a report format.", "Use format=docx (Word), xlsx (Excel) or md."
        )
    period = parse_quarter(" ".join(words), today=ctx.today, tz=ctx.tz)
    report = quarterly_report(
        session,
        ctx.board,
        period,
        now=ctx.now,
        visibility=visibility_for(session, member),
        public=public,
        tz=ctx.tz,
    )
    paper = quarterly_paper(report, ctx.tz)
    filename = f"{paper.filename}.{fmt}"
    version = " (public version)" if public else ""
    exceptions = len({a.ref for a in (*report.red, *report.overdue, *report.not_updated)})
    reply = Reply(
        title=f"Quarterly activity report, {period.label}{version}",
        text=f"{sum(report.counts.values())} actions: {breakdown(report.counts)}. In the "
        f"quarter {len(report.completed)} completed and {len(report.new)} new; "
        f"{exceptions} exceptions.",
    )
    reply.files.append(ReplyFile(paper.title + version, filename, fmt, paper, Delivery.DIRECT))
    reply.notice = (
        f"Sending {filename} ({FORMATS[fmt]}) to you as a direct message."
        if ctx.surface.files
        else f"Write the file with `soc-bot report quarterly --quarter {period.code} "
        f"--format {fmt}{' --public' if public else ''} --output {filename}`."
    )
    return reply
