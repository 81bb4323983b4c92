"""Batch engine: jobs over frames, files and queries, run by sequential, parallel or Dask
executors, with progress, cancellation, timeouts and persisted Parquet results.

Entry points: ``JobManager`` (courtside.batch.jobs), the job API shared by the CLI, REST and
MCP; ``run_batch`` (courtside.batch.process), one blocking call without a service.
"""
