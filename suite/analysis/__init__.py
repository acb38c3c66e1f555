"""From the store to the paper's tables and figures.

Modules, each depending only on those above it (the names, order and plot styles of
methods come from the method registry, suite/methods/labels.py):

* configurations: rows -> configurations (seeds aggregated) and sections.
* selections: the rules that pick configurations (Table 1, Table 2, Pareto).
* tables: Table 1 (compression within ε, or at absolute accuracies) and Table 2 (accuracy at sparsity).
* rendering: display strings, Markdown, CSV, LaTeX; terminal: the same for a console.
* figure_data: the data behind each figure; plots: figures from that data (no files).
* cell_choice: a cell's chosen configuration as a typed value, made by `tables`, read by the adaptive search.
* report_parts / report_registry: the report's tables and figures as registered entries (compute, then render);
  report_tables and report_figures define the built-in ones.
* writing: `write_report`, the only module that writes files: every registered part selected, in order.
"""
