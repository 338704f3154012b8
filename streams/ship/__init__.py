"""The host shipper: collectors (host, cgroups, HTTP probes), the bounded buffer and the loop that
sends ``MetricBatch`` messages to ``forewarn.metrics``."""
