"""Getting files: the download engine (`download`: resumable, verified, parallel; owns the
`.part` naming), hashes and manifests (`verify`), what unhashed files must look like
(`sniff`), safe extraction (`extract`, writing only through `confined`), COCO 2014 in
darknet's layout (`coco`) and the published B0-4Y weights (`weights`).

May import: foundations, `enet4y2.data`, `enet4y2.cfg`, `enet4y2.weights`.
"""
