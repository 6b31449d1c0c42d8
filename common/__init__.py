"""Runtime helpers shared by every service: settings, logging, Kafka, database, HTTP."""
