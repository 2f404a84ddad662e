"""The cffi builder (API mode, out of line), run by `make darknet`.

Compiled against the built tree's own `include/darknet.h` with the defines the library was
built with, so the compiler — not us — lays out `network`, `layer` and `detection`
(partial structs with `...;`). Only the functions the binding calls are declared.
"""

from __future__ import annotations

import importlib.machinery
import shutil
from pathlib import Path

MODULE_NAME = "_enet4y2_darknet"

CDEF = """
typedef struct box { float x, y, w, h; } box;
typedef struct image { int w; int h; int c; float *data; } image;
typedef struct detection { box bbox; int classes; float *prob; float objectness; ...; } detection;
typedef struct det_num_pair { int num; detection *dets; } det_num_pair;
typedef enum { DEFAULT_NMS, GREEDY_NMS, DIOU_NMS, CORNERS_NMS } NMS_KIND;
struct layer { int classes; NMS_KIND nms_kind; float beta_nms; int batch; int outputs;
               int out_w, out_h, out_c; float *output; ...; };
typedef struct layer layer;
typedef struct network {
    int n; int batch; layer *layers; int h, w, c; int letter_box; ...;
} network;

network *load_network_custom(char *cfg, char *weights, int clear, int batch);
void free_network_ptr(network *net);
float *network_predict_ptr(network *net, float *input);
detection *get_network_boxes(network *net, int w, int h, float thresh, float hier, int *map,
                             int relative, int *num, int letter);
det_num_pair *network_predict_batch(network *net, image im, int batch_size, int w, int h,
                                    float thresh, float hier, int *map, int relative, int letter);
void do_nms_sort(detection *dets, int total, int classes, float thresh);
void diounms_sort(detection *dets, int total, int classes, float thresh, NMS_KIND nms_kind,
                  float beta1);
void free_detections(detection *dets, int n);
void free_batch_detections(det_num_pair *det_num_pairs, int n);

int enet4y2_copy_detections(detection *dets, int n, int classes, float thresh, float *out,
                            int capacity);
void enet4y2_free_network(network *net);
void enet4y2_flush(void);
unsigned int enet4y2_fp_fast(void);
void enet4y2_fp_restore(unsigned int saved);
#define ENET4Y2_FTZ_DAZ ...
"""

# Our own helper (not darknet's): one pass over darknet's detections into a flat float
# array, one row per (box, class) above thresh — the rule darknet's -ext_output prints by.
HELPER_C = r"""
#include "darknet.h"
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

static int enet4y2_copy_detections(detection *dets, int n, int classes, float thresh,
                                   float *out, int capacity)
{
    int k = 0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < classes; ++j) {
            float p = dets[i].prob[j];
            if (p > thresh) {
                if (k < capacity) {
                    float *r = out + 7 * k;
                    r[0] = dets[i].bbox.x; r[1] = dets[i].bbox.y;
                    r[2] = dets[i].bbox.w; r[3] = dets[i].bbox.h;
                    r[4] = (float)j; r[5] = p; r[6] = dets[i].objectness;
                }
                ++k;
            }
        }
    }
    return k;
}

/* load_network_custom callocs the struct; free_network_ptr frees only what it holds. */
static void enet4y2_free_network(network *net)
{
    free_network_ptr(net);
    free(net);
}

/* libdarknet is built with -Ofast: loading it sets flush-to-zero / denormals-are-zero
   for the calling thread, which would change float results of all other code in the
   process. The loader restores IEEE mode; darknet's calls run in its own fast mode. */
#if defined(__x86_64__) || defined(__i386__)
#define ENET4Y2_FTZ_DAZ 0x8040u  /* MXCSR: flush-to-zero | denormals-are-zero */
static unsigned int enet4y2_fp_fast(void)
{
    unsigned int saved = _mm_getcsr();
    _mm_setcsr(saved | ENET4Y2_FTZ_DAZ);
    return saved;
}
static void enet4y2_fp_restore(unsigned int saved) { _mm_setcsr(saved); }
#else
#define ENET4Y2_FTZ_DAZ 0u
static unsigned int enet4y2_fp_fast(void) { return 0; }
static void enet4y2_fp_restore(unsigned int saved) { (void)saved; }
#endif

/* C stdio buffers must be flushed before a captured file descriptor is restored. */
static void enet4y2_flush(void)
{
    fflush(stdout);
    fflush(stderr);
}
"""


def make_ffi(darknet_dir: Path, defines: list[str], include_dirs: list[Path],
             runtime_dirs: list[Path]):
    """The FFI object for `darknet_dir` (a built darknet tree)."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        MODULE_NAME,
        HELPER_C,
        include_dirs=[str(darknet_dir / "include"), *map(str, include_dirs)],
        define_macros=[(d[2:], None) for d in defines],
        library_dirs=[str(darknet_dir)],
        libraries=["darknet"],
        runtime_library_dirs=[str(darknet_dir), *map(str, runtime_dirs)],
        extra_compile_args=["-O2", "-Wno-unused-function"],
    )
    return ffi


def compile_binding(darknet_dir: Path, defines: list[str], cuda_setup, work: Path,
                    report=print) -> Path:
    """Compile the extension into `<darknet_dir>/.enet4y2/cffi/`; return its path."""
    include_dirs = cuda_setup.include_dirs if cuda_setup else []
    runtime_dirs = cuda_setup.runtime_dirs if cuda_setup else []
    out_dir = work / "cffi"
    stamp = out_dir / "inputs.txt"
    inputs = "\n".join([CDEF, HELPER_C, *defines, *map(str, include_dirs + runtime_dirs)])
    existing = sorted(out_dir.glob(f"{MODULE_NAME}*.so"))
    lib = darknet_dir / "libdarknet.so"
    if (existing and stamp.is_file() and stamp.read_text() == inputs
            and existing[0].stat().st_mtime >= lib.stat().st_mtime):
        return existing[0]
    ffi = make_ffi(darknet_dir, defines, include_dirs, runtime_dirs)
    tmp = work / "cffi-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]  # this interpreter's ABI tag
    built = Path(ffi.compile(tmpdir=str(tmp), target=f"{MODULE_NAME}{suffix}", verbose=False))
    out_dir.mkdir(exist_ok=True)
    final = out_dir / built.name
    built.replace(final)
    shutil.rmtree(tmp, ignore_errors=True)
    stamp.write_text(inputs)
    report(f"binding compiled: {final}")
    return final
