"""Where a drill's files go, and writing its reports from its journal (the journal is the only input)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gameday.errors import EXIT_ABORTED, EXIT_EXPECTATIONS_NOT_MET, EXIT_OK

if TYPE_CHECKING:
    from gameday.model.scorecard import Scorecard


@dataclass(frozen=True)
class Outputs:
    """Where a drill's files go."""

    journal: Path
    scorecard_json: Path
    scorecard_md: Path
    postmortem_md: Path
    postmortem_html: Path
    junit: Path

    @classmethod
    def for_drill(cls, root: Path, drill_id: str, out: Path | None) -> Outputs:
        """Everything in ``out`` if given; else the journal and reports in ``reports/DRILL_ID/`` and the
        scorecard in ``scorecards/`` (the program's history)."""
        if out is not None:
            return cls(out / "journal.jsonl", out / "scorecard.json", out / "scorecard.md", out / "postmortem.md",
                       out / "postmortem.html", out / "junit.xml")
        rep, cards = root / "reports" / drill_id, root / "scorecards"
        return cls(rep / "journal.jsonl", cards / f"{drill_id}.json", cards / f"{drill_id}.md", rep / "postmortem.md",
                   rep / "postmortem.html", rep / "junit.xml")

    @property
    def aar_md(self) -> Path:
        """A tabletop's after-action report (Markdown), next to the postmortem."""
        return self.postmortem_md.with_name("aar.md")

    @property
    def aar_html(self) -> Path:
        """A tabletop's after-action report (HTML), next to the postmortem."""
        return self.postmortem_html.with_name("aar.html")

    @property
    def training_md(self) -> Path:
        """A training drill's report (the incident commander's rubric, Markdown), next to the postmortem."""
        return self.postmortem_md.with_name("training.md")

    @property
    def training_html(self) -> Path:
        """A training drill's report (the incident commander's rubric, HTML), next to the postmortem."""
        return self.postmortem_html.with_name("training.html")


def warm_up(templates_dir: Path | None) -> None:
    """Import what :func:`write_reports` needs and compile the postmortem templates (a head start only)."""
    import gameday.analysis.junit
    import gameday.analysis.postmortem
    import gameday.analysis.render
    import gameday.analysis.scorecard  # noqa: F401 - what write_reports imports
    from gameday.analysis.templating import warm_up as warm_up_templates  # the postmortem's templates

    warm_up_templates(templates_dir)


def warm_up_while_observing(phase: Callable[[], str | None], stack: ExitStack, templates_dir: Path | None) -> None:
    """Once the drill is observing (``phase()``; the conductor idles until its next deadline), :func:`warm_up`
    in a daemon thread, so the drill's end does not wait for it (~50-100 ms). Nothing is done if the drill
    never gets there; any failure is left for the report itself to meet. ``stack`` ends the thread."""
    over = threading.Event()

    def warm() -> None:
        while True:
            if over.wait(0.05):
                return
            now = phase()
            if now in ("observe", "recover"):
                break
            if now == "rollback":
                return
        with contextlib.suppress(Exception):  # a head start only
            warm_up(templates_dir)

    thread = threading.Thread(target=warm, name="report-warm-up", daemon=True)
    thread.start()

    def done() -> None:  # joined, so no thread is still importing or compiling while the interpreter shuts down
        over.set()
        thread.join(5)

    stack.callback(done)


def write_reports(outputs: Outputs, mode: str, echo: Callable[[str], None], outcome: str, reason: str | None,
                  templates_dir: Path | None) -> int:
    """Score the journal and write scorecard, postmortem (and JUnit in ci; the after-action report,
    ``aar.md`` and ``aar.html`` beside the postmortem, in tabletop; the training report, ``training.md`` and
    ``training.html``, in training); return the exit code
    (0 passed, 1 not passed, 3 aborted or incomplete).

    The one-line summary is the scorecard's own headline and reason (the words every report uses),
    then each expectation not met and each warning the journal holds; ``outcome`` and ``reason`` (the
    conductor's) only back up the journal: an aborted drill exits 3 whatever else is true."""
    from gameday.analysis.junit import junit_xml
    from gameday.analysis.postmortem import render_postmortem
    from gameday.analysis.render import render_scorecard
    from gameday.analysis.scorecard import score_journal
    from gameday.fsutil import atomic_write
    from gameday.journal import read_journal

    journal = read_journal(outputs.journal)
    card = score_journal(journal)
    atomic_write(outputs.scorecard_json, render_scorecard(card, "json"))
    atomic_write(outputs.scorecard_md, render_scorecard(card, "md"))
    charts: list[Path] = []
    if card.impact is not None:  # load charts (PNG) beside the postmortem: linked by the Markdown, embedded in the HTML
        from gameday.analysis.charts import render_charts

        charts = render_charts(journal, outputs.postmortem_html.parent)
    timeline: Path | None = None  # timeline.png beside the postmortem: linked (md), embedded (html); not in ci, where
    if mode != "ci":  # drills run back to back and matplotlib would cost ~1 s a drill (`gameday postmortem -o` draws it)
        from gameday.analysis.timeline_chart import render_timeline

        timeline = render_timeline(journal, card, outputs.postmortem_md.parent)
    atomic_write(outputs.postmortem_md, render_postmortem(journal, card, "md", templates_dir=templates_dir, charts=charts,
                                                          timeline=timeline))
    atomic_write(outputs.postmortem_html, render_postmortem(journal, card, "html", templates_dir=templates_dir, charts=charts,
                                                            timeline=timeline))
    if mode == "ci":
        atomic_write(outputs.junit, junit_xml(card))
    aar: list[str] = []
    if card.mode == "tabletop":  # the after-action report (HSEEP AAR/IP) beside the postmortem
        from gameday.analysis.aar import render_aar

        atomic_write(outputs.aar_md, render_aar(journal, card, "md", templates_dir=templates_dir))
        atomic_write(outputs.aar_html, render_aar(journal, card, "html", templates_dir=templates_dir))
        aar = [f"aar:        {outputs.aar_html}"]
    from gameday.model.events import TrainingStarted

    # the training report (the incident commander's rubric) beside the postmortem; none for a training drill
    # stopped before its trainee was journaled (TrainingStarted): nothing to score
    if card.mode == "training" and journal.first(TrainingStarted) is not None:
        from gameday.analysis.rubric import score_training
        from gameday.analysis.training_report import render_training

        trained = score_training(journal.events, path=journal.path)
        atomic_write(outputs.training_md, render_training(journal, trained, "md", templates_dir=templates_dir))
        atomic_write(outputs.training_html, render_training(journal, trained, "html", templates_dir=templates_dir))
        met = sum(1 for item in trained.items if item.verdict == "met")
        applicable = sum(1 for item in trained.items if item.verdict != "n/a")
        aar = [f"training:   {outputs.training_html}",
               (f"rubric:     {trained.trainee}: {trained.score:g}/100 as incident commander ({met} of {applicable} "
               "items met; the score above is the drill's, the team's)")]
    from gameday.model.textsafe import neutralise

    lines = [summary_line(card), *(f"  - {line}" for line in card.failures), *(f"warning: {line}" for line in card.warnings),
             f"scorecard:  {outputs.scorecard_md}", f"postmortem: {outputs.postmortem_html}", *aar,
             f"journal:    {outputs.journal}"]
    for line in lines:  # they quote people's text (an abort reason, a note): one inert line each, whatever ``echo`` does
        echo(neutralise(line, keep=""))
    from gameday.program.findings import record_after_reports  # findings.yaml (default places only); never raises

    record_after_reports(outputs, journal, card, echo)
    if outcome == "aborted" or card.verdict in ("aborted", "incomplete"):
        return EXIT_ABORTED
    return EXIT_OK if card.passed else EXIT_EXPECTATIONS_NOT_MET


def summary_line(card: Scorecard) -> str:
    """``'drill ID: PASSED — score 100.0/100. All expectations met (every one that applied).'``: headline and reason."""
    from gameday.model.scorecard import headline, verdict_reason

    return f"drill {card.drill_id}: {headline(card)}. {verdict_reason(card)}"
