"""Item pipelines, in order: contract check -> geography -> store."""
