"""Offline evaluation: replay, backtests (NAB, SMD, fleet, closed loops), scorers, reference
detectors, data readers and the HTML reports. Runs the same core functions as the live path."""
