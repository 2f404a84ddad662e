"""The cffi builder of the preprocessing kernel `_enet4y2_prep` (API mode, out of line).

A standalone extension — it does not link libdarknet, so the ONNX Runtime / OpenCV
backends get it too. It computes what `preprocess.resize_into` computes in numpy, with the
same float32 operations in the same order: IEEE arithmetic, no fused multiply-add
(`-ffp-contract=off`), no `-ffast-math`, so the results are equal bit for bit (the tests
check it). Built by `make darknet` beside the binding (`<darknet_dir>/.enet4y2/prep/`).
"""

from __future__ import annotations

import importlib.machinery
import shutil
import sysconfig
from pathlib import Path

MODULE_NAME = "_enet4y2_prep"

CDEF = """
int enet4y2_resize(const uint8_t *src, int src_h, int src_w, ptrdiff_t stride_y,
                   ptrdiff_t stride_x, ptrdiff_t off_r, ptrdiff_t off_g, ptrdiff_t off_b,
                   float *out, int h, int w, ptrdiff_t out_plane, ptrdiff_t out_row);
"""

# One source row at a time, from the interleaved BGR image straight into float RGB rows
# ("part" in darknet's resize_image); each output row blends two of them, which are kept
# while the next output row needs them. Every float op mirrors resize_into.
SOURCE = r"""
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>

/* numpy's _axis: s = j * scale in float32, truncated; the frac is s - i0 in float32. */
static void axis(int src, int dst, int *i0, int *i1, float *frac)
{
    if (dst == 1 || src == 1) {
        for (int j = 0; j < dst; ++j) { i0[j] = i1[j] = src - 1; frac[j] = 0.0f; }
        return;
    }
    float scale = (float)(src - 1) / (float)(dst - 1);
    for (int j = 0; j < dst; ++j) {
        float s = (float)j * scale;
        int a = (int)s;
        frac[j] = s - (float)a;
        if (a > src - 1) a = src - 1;
        i0[j] = a;
        i1[j] = a + 1 < src - 1 ? a + 1 : src - 1;
    }
}

/* One source row: part = p[c0]/255 * (1 - dx) + p[c1]/255 * dx, per RGB plane. */
static void columns(const uint8_t *row, const float *lut, int w, const ptrdiff_t *x0,
                    const ptrdiff_t *x1, const float *w0, const float *w1,
                    const ptrdiff_t off[3], float *part)
{
    const uint8_t *pr = row + off[0], *pg = row + off[1], *pb = row + off[2];
    float *qr = part, *qg = part + w, *qb = part + 2 * (ptrdiff_t)w;
    for (int j = 0; j < w; ++j) {  /* the three channels of a pixel are adjacent */
        ptrdiff_t a = x0[j], b = x1[j];
        float u = w0[j], v = w1[j];
        float ra = lut[pr[a]] * u, rb = lut[pr[b]] * v;
        float ga = lut[pg[a]] * u, gb = lut[pg[b]] * v;
        float ba = lut[pb[a]] * u, bb = lut[pb[b]] * v;
        qr[j] = ra + rb;
        qg[j] = ga + gb;
        qb[j] = ba + bb;
    }
}

/* darknet's resize_image of an HxW image (byte strides, channel offsets of R, G, B) into
   the 3 planes at `out`; returns 0, or -1 when out of memory. */
static int enet4y2_resize(const uint8_t *src, int src_h, int src_w, ptrdiff_t stride_y,
                          ptrdiff_t stride_x, ptrdiff_t off_r, ptrdiff_t off_g,
                          ptrdiff_t off_b, float *out, int h, int w, ptrdiff_t out_plane,
                          ptrdiff_t out_row)
{
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = (float)v / 255.0f;
    ptrdiff_t off[3] = {off_r, off_g, off_b};
    if (src_h == h && src_w == w) {
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < h; ++y) {
                const uint8_t *p = src + y * stride_y + off[c];
                float *q = out + c * out_plane + y * out_row;
                for (int x = 0; x < w; ++x) q[x] = lut[p[x * stride_x]];
            }
        return 0;
    }
    int m = w > h ? w : h;
    char *mem = malloc((size_t)w * 2 * sizeof(ptrdiff_t) + (size_t)m * 2 * sizeof(int)
                       + ((size_t)w * 8 + (size_t)h * 2 + (size_t)m) * sizeof(float));
    if (!mem) return -1;
    ptrdiff_t *x0 = (ptrdiff_t *)mem, *x1 = x0 + w;  /* byte offsets of the columns */
    int *i0 = (int *)(x1 + w), *i1 = i0 + m;
    float *w0 = (float *)(i1 + m), *w1 = w0 + w, *first = w1 + w, *second = first + h;
    float *frac = second + h;
    float *rows[2] = {frac + m, frac + m + 3 * (size_t)w};

    axis(src_w, w, i0, i1, frac);  /* columns; the last one is taken as is */
    i0[w - 1] = i1[w - 1] = src_w - 1;
    frac[w - 1] = 0.0f;
    for (int j = 0; j < w; ++j) {
        w0[j] = 1.0f - frac[j];
        w1[j] = frac[j];
        x0[j] = (ptrdiff_t)i0[j] * stride_x;
        x1[j] = (ptrdiff_t)i1[j] * stride_x;
    }
    axis(src_h, h, i0, i1, frac);  /* rows; no second term on the last one */
    for (int y = 0; y < h; ++y) {
        first[y] = 1.0f - frac[y];
        second[y] = y == h - 1 ? 0.0f : frac[y];
    }

    int have[2] = {-1, -1};  /* the source row each of rows[] holds */
    for (int y = 0; y < h; ++y) {
        int need[2] = {i0[y], i1[y]};
        int slot[2];
        for (int k = 0; k < 2; ++k) {
            if (have[0] == need[k]) slot[k] = 0;
            else if (have[1] == need[k]) slot[k] = 1;
            else {  /* k = 0 spares the row k = 1 needs; k = 1 spares k = 0's */
                slot[k] = k == 0 ? (have[0] == need[1]) : 1 - slot[0];
                columns(src + need[k] * stride_y, lut, w, x0, x1, w0, w1, off,
                        rows[slot[k]]);
                have[slot[k]] = need[k];
            }
        }
        const float *use[2] = {rows[slot[0]], rows[slot[1]]};
        float f = first[y], s = second[y];
        for (int c = 0; c < 3; ++c) {
            const float *a = use[0] + (ptrdiff_t)c * w, *b = use[1] + (ptrdiff_t)c * w;
            float *q = out + c * out_plane + y * out_row;
            for (int x = 0; x < w; ++x) {
                float u = a[x] * f;
                float v = b[x] * s;
                q[x] = u + v;
            }
        }
    }
    free(mem);
    return 0;
}
"""

COMPILE_ARGS = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-Wno-unused-function"]


def make_ffi():
    """The FFI object of the kernel (no library to link)."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(MODULE_NAME, SOURCE, extra_compile_args=COMPILE_ARGS)
    return ffi


def compile_prep(work: Path, report=print) -> Path:
    """Compile the kernel into `<work>/prep/` unless an up-to-date one is there; its path."""
    out_dir = work / "prep"
    stamp = out_dir / "inputs.txt"
    inputs = "\n".join([CDEF, SOURCE, *COMPILE_ARGS, str(sysconfig.get_config_var("CC"))])
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]  # this interpreter's ABI tag
    final = out_dir / f"{MODULE_NAME}{suffix}"
    if final.is_file() and stamp.is_file() and stamp.read_text() == inputs:
        return final
    tmp = work / "prep-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    built = Path(make_ffi().compile(tmpdir=str(tmp), target=final.name, verbose=False))
    out_dir.mkdir(exist_ok=True)
    built.replace(final)
    shutil.rmtree(tmp, ignore_errors=True)
    stamp.write_text(inputs)
    report(f"preprocessing kernel compiled: {final}")
    return final
