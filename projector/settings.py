"""Settings of the projector."""

from common.settings import ServiceSettings


class ProjectorSettings(ServiceSettings):
    projector_health_host: str = "127.0.0.1"
    projector_health_port: int = 8401
