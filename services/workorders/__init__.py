"""Work orders: anomalies and reports become jobs with 5341 deadlines, escalation and alerts."""
