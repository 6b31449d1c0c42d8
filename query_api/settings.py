"""Settings of the query API (read side and live progress)."""

from pydantic import Field

from common.settings import ServiceSettings


class QueryApiSettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = 8201
    projector_consumer: str = Field("projector", description="The projector's name in projector_positions.")
    query_api_nice: int = Field(
        -5, ge=-20, le=19, description="Niceness added to the process. Below 0, live progress reaches streams "
        "ahead of solves and projection on a shared machine; that needs root or CAP_SYS_NICE.")
    consistency_wait_s: float = Field(
        3.0, ge=0, description="Maximum time a read with X-Consistency-Token waits for the projector, in seconds.")
    consistency_poll_ms: int = Field(10, ge=1, description="Interval between two checks of the projector position.")
    history_page_max: int = Field(200, ge=1, description="Largest `limit` a history page accepts.")
    stream_heartbeat_s: float = Field(5.0, gt=0, description="Seconds between heartbeats on a quiet stream.")
    stream_recheck_s: float = Field(
        15.0, gt=0, description="Seconds between read-model checks of a quiet stream's task, which end a stream "
                                "whose final event happened before this instance started tailing.")
    stream_queue_size: int = Field(1000, ge=1, description="Messages a stream may have pending before it is closed.")
    live_buffer_messages: int = Field(256, ge=1, description="Recent messages kept per task for resuming streams.")
    live_buffer_tasks: int = Field(10_000, ge=1, description="Tasks whose recent messages are kept.")
