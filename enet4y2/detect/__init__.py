"""Detection as a service: what `enet4y2 detect` writes (`output`: darknet's
`-ext_output` text, JSON-lines records, annotated images).

May import: foundations, `enet4y2.data` and the binding (`enet4y2.darknet`).
"""
