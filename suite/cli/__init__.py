"""The `bench` command line: thin typer commands over the library."""
