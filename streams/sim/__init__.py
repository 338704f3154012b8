"""The simulated fleet (pure, seeded, event time), its scenarios and incidents, real trace files,
and the publisher that sends a simulated fleet to Kafka."""
