"""What keeps a sweep's store safe while a driver works on it: the one-driver lock (`driver_lock`, judged by
`lock_state`), the process's signals and liveness checks (`process`), and the store checks before and
around a run (`store`)."""
