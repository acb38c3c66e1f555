"""The `auto` learning-rate searches (App. G.2): how one is searched (`search`, Optuna's TPE) and what the
store keeps of it (`records`)."""
