"""From the store to the paper's tables and figures: configurations and selections, tables, rendering, plots."""
