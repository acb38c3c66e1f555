"""The bisection search: each Table 1 / Table 2 cell bisects its own bracket (`plan`), over the groups and
cells of `cells`."""
