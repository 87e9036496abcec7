"""Battery inspection runtime: predictors, explanations, verdict logic, reports and the CLI."""
