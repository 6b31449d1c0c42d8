"""Settings of a solver worker process."""

from pydantic import Field

from common.settings import ServiceSettings


class SolverWorkerSettings(ServiceSettings):
    worker_number: int = Field(1, ge=1, description="1-based number of this worker on its machine.")
    worker_health_host: str = "127.0.0.1"
    worker_health_port_base: int = Field(8300, description="Worker N serves /healthz on base + N.")
    consumer_group: str = "solver-workers"

    @property
    def health_port(self) -> int:
        return self.worker_health_port_base + self.worker_number
