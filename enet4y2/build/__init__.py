"""`make darknet`: the pinned upstream source (`source`: a folder, an archive as GitHub
serves it, or a clone, verified file by file), CUDA from the system or NVIDIA's wheels
(`cuda`), upstream's make with automatic flags and the cffi binding (`make`), the record
of what was built (`record`), and `doctor`, which reports on all of it.

Owns: the pinned tree manifest (`pinned-tree.txt`) and the build record.
May import: foundations (errors, fileio, paths, proc), the binding's builder
(`enet4y2.darknet._builder`) and safe extraction (`enet4y2.fetch.extract`).
"""
