"""darknet .weights files: the format (header, sizes, the names darknet gives them) in
`format`, and how a file fits a cfg (full / backbone / mismatch, cutting the first N layers
like `darknet partial`, recognising classifier weights) in `fit`.

Owns: the weights header and `.conv.N` / `<cfg>_last.weights` naming.
May import: foundations (errors, fileio) and `enet4y2.cfg`.
"""
