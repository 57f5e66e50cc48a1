"""The engine: signals, personas, recommendations, the content catalog and feedback."""
