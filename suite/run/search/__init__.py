"""The searches of `bench sweep --adaptive`: `bisect` (each Table 1 / Table 2 cell alone) and `shared`
(one model per method variant shared by its cells, seed racing); the store as their lookup and their
serial driver (`driving`), and the dry-run preview (`preview`)."""
