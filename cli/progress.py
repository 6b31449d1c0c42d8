"""A terminal progress bar for a task's live events."""

from __future__ import annotations

from typing import TextIO

TERMINAL = ("completed", "failed", "cancelled")
WIDTH = 30


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA --"
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours}:{minutes:02d}:{seconds:02d}" if hours else f"ETA {minutes:02d}:{seconds:02d}"


def render_bar(fraction: float, eta_s: float | None, phase: str | None, status: str) -> str:
    """Return one line: the bar, the percentage, the ETA, the status and the phase."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(round(fraction * WIDTH))
    text = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {100 * fraction:5.1f}%  {format_eta(eta_s)}  {status}"
    return f"{text} ({phase})" if phase else text


class ProgressBar:
    """Redraws one line on `stream` for each snapshot, progress and status event."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.fraction, self.eta_s, self.phase, self.status = 0.0, None, None, "queued"

    def show(self, event: str, data: dict) -> str | None:
        """Update the bar from one event; return the final status when the event ends the task."""
        if event == "snapshot":
            self.fraction, self.eta_s = data.get("progress") or 0.0, data.get("eta_s")
            self.phase, self.status = data.get("phase"), data["status"]
        elif event == "progress":
            self.fraction, self.eta_s, self.phase = data["fraction"], data.get("eta_s"), data.get("phase")
            self.status = "running"
        elif event == "status" and data.get("status"):
            self.status = data["status"]
            if self.status == "completed":
                self.fraction, self.eta_s = 1.0, 0.0
        elif event == "status" and data.get("cancel_requested"):
            self.status = "cancelling"
        else:
            return None
        self.stream.write("\r" + render_bar(self.fraction, self.eta_s, self.phase, self.status) + "\033[K")
        self.stream.flush()
        return self.status if self.status in TERMINAL else None

    def note(self, text: str) -> None:
        self.stream.write(f"\n{text}\n")

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
