"""Settings of the projector."""

import tempfile
from pathlib import Path

from pydantic import Field

from common.settings import ServiceSettings


class ProjectorSettings(ServiceSettings):
    projector_health_host: str = "127.0.0.1"
    projector_health_port: int = 8401
    projector_consumer: str = Field(
        "projector", description="Name under which positions are stored in projector_positions; "
                                 "also the Kafka consumer group of the faust app.")
    projector_data_dir: Path = Field(
        Path(tempfile.gettempdir()) / "sct-projector",
        description="Folder that faust creates for its table data. The projector keeps no faust tables, so it "
                    "stays empty, but without this setting faust creates it in the working directory.")
    projector_batch_max: int = Field(500, ge=1, description="Most records applied in one transaction.")
    projector_batch_wait_ms: int = Field(
        20, ge=1, description="How long a batch waits for more records before it is applied, in milliseconds. "
        "Longer batches cost PostgreSQL less per record; a lone event waits up to this long, and the projector "
        "wakes up this often while idle.")
    projector_nice: int = Field(
        10, ge=-20, le=19, description="Niceness added to the projector process: read models may lag by "
        "milliseconds, so on a shared machine the projector yields the CPU to claims and progress.")
    projector_lag_poll_s: float = Field(2.0, gt=0, description="Seconds between two readings of the log ends.")
    projector_stop_timeout_s: float = Field(
        10.0, gt=0, description="Seconds the faust app gets to stop before the process exits anyway.")
