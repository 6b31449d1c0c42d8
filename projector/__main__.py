"""Run the projector, or replay the event log: `python -m projector [run|rebuild|verify]`."""

import argparse
import asyncio
import sys

from common.log import configure_logging
from projector.settings import ProjectorSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m projector", description=__doc__)
    parser.add_argument("command", nargs="?", default="run", choices=("run", "rebuild", "verify"),
                        help="run: project live events (default); rebuild: replay task-events from offset 0 "
                             "into emptied read models; verify: replay into a scratch schema and compare")
    parser.add_argument("--keep-schema", action="store_true",
                        help="verify only: keep the scratch schema for inspection instead of dropping it")
    arguments = parser.parse_args()
    settings = ProjectorSettings()
    configure_logging(settings.instance_id, settings.log_level)
    if arguments.command == "run":
        from common.service import change_niceness
        from projector.service import run

        change_niceness(settings.projector_nice, "PROJECTOR_NICE")
        asyncio.run(run(settings))
        return
    from projector.replay import rebuild, verify
    from projector.service import ProjectorLockedError

    if arguments.command == "rebuild":
        try:
            asyncio.run(rebuild(settings))
        except ProjectorLockedError as error:
            print(f"rebuild failed: {error}", file=sys.stderr)
            sys.exit(2)
        return
    differences = asyncio.run(verify(settings, keep_schema=arguments.keep_schema))
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
